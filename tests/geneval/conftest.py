"""Fixtures shared by the GenEval tests."""

from __future__ import annotations

import pytest

from evalkit.benchmarks.geneval import judges
from tests.geneval.doubles import BlobDetector


@pytest.fixture
def blobs(monkeypatch: pytest.MonkeyPatch) -> BlobDetector:
    """The blob detector and the pixel colour judge stand in for every detector name."""
    det = BlobDetector()
    monkeypatch.setattr(judges, "check", lambda d, c: None)
    monkeypatch.setattr(judges, "make_detector", lambda name, device: det)
    return det
