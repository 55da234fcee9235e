"""Shared helpers of the DetailMaster tests: the mini file (tests only) and synthetic images."""

from __future__ import annotations

import hashlib
import json
import math
import os
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image

from tests.support import REPO

SHARED = Path(os.environ.get("EVALKIT_TEST_SHARED", REPO.parent / "shared"))
MINI_FILE = SHARED / "protocols" / "detailmaster" / "DetailMaster_mini_benchmark.json"
MINI_SHA256 = "7a96ef6060a4e04f39ca12c4f371c1f27e262f9674036ebf8edf88d0b6c8ad0c"

needs_mini = pytest.mark.skipif(
    not MINI_FILE.is_file(),
    reason=f"the official mini file {MINI_FILE} is absent (set EVALKIT_TEST_SHARED); it has no "
    "licence and is never shipped",
)


def mini_records() -> list[dict[str, Any]]:
    return json.loads(MINI_FILE.read_text())


def key_of(r: dict[str, Any]) -> str:
    return f"{r['dataset_target']}_{r['image_id']}"


def synthetic_image(key: str, k: int = 0) -> Image.Image:
    """A small noise image whose size and mode follow from the key (crops then differ)."""
    h = int.from_bytes(hashlib.sha256(f"{key}/{k}".encode()).digest()[:8], "big")
    w, ht = 40 + h % 50, 36 + (h >> 8) % 50
    rng = np.random.default_rng(h % 2**32)
    img = Image.fromarray(rng.integers(0, 256, (ht, w, 3), dtype=np.uint8))
    mode = ("RGB", "RGB", "RGB", "RGBA", "L")[(h >> 16) % 5]
    return img.convert(mode)


def synthetic_images(
    records: list[dict[str, Any]], pooled_every: int = 7
) -> dict[str, list[Image.Image]]:
    """One image per key; every ``pooled_every``-th key gets two (pooled, as officially)."""
    keys = list(dict.fromkeys(key_of(r) for r in records))
    return {
        k: [synthetic_image(k, j) for j in range(2 if i % pooled_every == 0 else 1)]
        for i, k in enumerate(keys)
    }


def assert_same(ours: dict[str, float], ref: dict[str, float], tol: float = 1e-12) -> None:
    assert list(ours) == list(ref)
    for k in ref:
        if math.isnan(ref[k]):
            assert math.isnan(ours[k]), k
        else:
            assert abs(ours[k] - ref[k]) <= tol, (k, ours[k], ref[k])
