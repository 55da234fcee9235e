"""Helpers for tests: where the offline store is, and the skip marker for tests that need it."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED_OFFLINE = Path(os.environ.get("EVALKIT_TEST_STORE", REPO.parent / "shared" / "offline"))
HAVE_STORE = SHARED_OFFLINE.is_dir()

needs_store = pytest.mark.skipif(
    not HAVE_STORE, reason=f"offline store {SHARED_OFFLINE} absent (set EVALKIT_TEST_STORE)"
)
