"""Shared helpers of the DetailMaster tests: the mini file (tests only) and synthetic images."""

from __future__ import annotations

import hashlib
import json
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


def synthetic_image(key: str, k: int = 0, low: int = 40, span: int = 50) -> Image.Image:
    """A noise image whose size (``low`` .. ``low + span`` px) and mode follow from the key."""
    h = int.from_bytes(hashlib.sha256(f"{key}/{k}".encode()).digest()[:8], "big")
    w, ht = low + h % span, low - 4 + (h >> 8) % span
    rng = np.random.default_rng(h % 2**32)
    img = Image.fromarray(rng.integers(0, 256, (ht, w, 3), dtype=np.uint8))
    mode = ("RGB", "RGB", "RGB", "RGBA", "L")[(h >> 16) % 5]
    return img.convert(mode)


def synthetic_images(
    records: list[dict[str, Any]], pooled_every: int = 7, low: int = 40, span: int = 50
) -> dict[str, list[Image.Image]]:
    """One image per key; every ``pooled_every``-th key gets two (pooled, as officially)."""
    keys = list(dict.fromkeys(key_of(r) for r in records))
    return {
        k: [synthetic_image(k, j, low, span) for j in range(2 if i % pooled_every == 0 else 1)]
        for i, k in enumerate(keys)
    }


def per_record_images(
    records: list[dict[str, Any]], low: int = 40, span: int = 50
) -> dict[str, list[Image.Image]]:
    """The official generation's layout: one image per record, pooled under its key."""
    out: dict[str, list[Image.Image]] = {}
    for r in records:
        images = out.setdefault(key_of(r), [])
        images.append(synthetic_image(key_of(r), len(images), low, span))
    return out


def random_records(seed: int = 7, n: int = 60) -> list[dict[str, Any]]:
    """Records of many shapes (repeated characters and attributes, empty lists, characters only
    in locations, every mini target), ``n`` of them on about 3n/4 keys."""
    import random

    rng = random.Random(seed)
    names = ["dog", "cat", "red cup", "man", "tree", "the sky"]
    targets = ["animal", "object", "person", "location", "style", "background", "light"]
    records = []
    for i in range(n):
        chars = [rng.choice(names) for _ in range(rng.randint(0, 4))]
        records.append(
            {
                "image_id": f"{i % (3 * n // 4)}.png",
                "dataset_target": "ln_coco",
                "polished_prompt": f"prompt {i % (3 * n // 4)}",
                "mini_bench_target": rng.choice([*targets, "entity_relationship"]),
                "character_attributes": [
                    {
                        "main_character": c,
                        "characteristics_list": rng.sample(["a", "b", "c", "a"], 2),
                        "cls": rng.choice(["animal", "object", "person"]),
                    }
                    for c in chars
                ],
                "character_locations": [
                    {
                        "main_character": rng.choice(names),
                        "bbox": [0, 0, 1, 1],
                        "position": "The middle part of the image",
                    }
                    for _ in range(rng.randint(0, 2))
                ],
                "scene_attributes": [
                    {"scene_attribute": "style", "content": "photo"},
                    {"scene_attribute": "light", "content": f"light {i % 3}"},
                    {"scene_attribute": "background", "content": "a park"},
                    {"scene_attribute": "spatial", "content": ["x", "y"][: rng.randint(0, 2)]},
                ],
            }
        )
    return records


def preprocessing_photos() -> dict[str, Image.Image]:
    """Real photos (scikit-image's) of several sizes, and the kinds of crop DetailMaster asks
    about: the images whose preprocessing is compared with lmdeploy's."""
    from skimage import data

    astronaut = Image.fromarray(data.astronaut())
    return {
        "astronaut_512": astronaut,
        "chelsea_451x300": Image.fromarray(data.chelsea()),
        "coffee_600x400": Image.fromarray(data.coffee()),
        "astronaut_1024": astronaut.resize((1024, 1024), Image.Resampling.LANCZOS),
        "astronaut_crop_47x33": astronaut.crop((180, 60, 227, 93)),
        "astronaut_crop_rgba": astronaut.crop((100, 100, 400, 260)).convert("RGBA"),
    }


def dog_record(**over: Any) -> dict[str, Any]:
    """One record: a dog with one attribute, no location, ``over`` replacing fields."""
    record = {
        "image_id": "1.jpg",
        "dataset_target": "docci",
        "polished_prompt": "a dog",
        "character_attributes": [
            {"main_character": "dog", "characteristics_list": ["brown"], "cls": "animal"}
        ],
        "character_locations": [],
        "scene_attributes": [],
    }
    return record | over
