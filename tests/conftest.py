"""Shared test setup: an isolated cache, and the offline store when ../shared/offline exists."""

from __future__ import annotations

import os

import pytest

from tests.support import HAVE_STORE, SHARED_OFFLINE


@pytest.fixture(autouse=True, scope="session")
def _isolated_env(tmp_path_factory: pytest.TempPathFactory) -> None:
    os.environ.setdefault("EVALKIT_CACHE_DIR", str(tmp_path_factory.mktemp("evalkit-cache")))
    os.environ["EVALKIT_OFFLINE"] = "1"  # tests never reach for the Hub
    os.environ["HF_HUB_OFFLINE"] = "1"
    if HAVE_STORE and "EVALKIT_STORE" not in os.environ:
        os.environ["EVALKIT_STORE"] = str(SHARED_OFFLINE)
