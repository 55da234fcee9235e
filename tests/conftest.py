"""Shared test setup: an isolated cache, and the offline store when ../shared/offline exists."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.support import HAVE_STORE, SHARED_OFFLINE


@pytest.fixture(autouse=True, scope="session")
def _isolated_env(tmp_path_factory: pytest.TempPathFactory) -> None:
    os.environ.setdefault("EVALKIT_CACHE_DIR", str(tmp_path_factory.mktemp("evalkit-cache")))
    os.environ["EVALKIT_OFFLINE"] = "1"  # tests never reach for the Hub
    os.environ["HF_HUB_OFFLINE"] = "1"
    if HAVE_STORE and "EVALKIT_STORE" not in os.environ:
        os.environ["EVALKIT_STORE"] = str(SHARED_OFFLINE)


@pytest.fixture
def empty_store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """An empty offline store and cache with the network off: a fresh offline machine."""
    from evalkit import store

    monkeypatch.setenv("EVALKIT_OFFLINE", "1")
    monkeypatch.setenv("EVALKIT_CACHE_DIR", str(tmp_path / "cache"))
    root = tmp_path / "store"
    store.set_store([root])
    yield root
    store.set_store(None)
