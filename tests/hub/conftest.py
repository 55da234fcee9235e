"""The local Hub fixture: a fresh server, cache and empty store per test, the network 'on'."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.localhub import LocalHub


@pytest.fixture
def local_hub(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[LocalHub]:
    import huggingface_hub.constants

    from evalkit import hubfetch, store

    hub = LocalHub().start()
    monkeypatch.setenv("HF_ENDPOINT", hub.url)
    monkeypatch.delenv("EVALKIT_OFFLINE", raising=False)
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.delenv("HF_TOKEN", raising=False)
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", False)
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_DISABLE_PROGRESS_BARS", True)
    monkeypatch.setenv("EVALKIT_CACHE_DIR", str(tmp_path / "cache"))
    store.set_store([])
    hubfetch._trees.clear()
    try:
        yield hub
    finally:
        hub.stop()
        store.set_store(None)
        hubfetch._trees.clear()
