"""The cases of tests/fixtures/geneval_colour_official.{json,npz} as our judge's inputs.

Shared by the colour parity tests: the photo of each case, the stand-in detector's boxes and
masks, and the crops GenEval.score asks the colour judge about (colour_requests, asking order).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from evalkit.benchmarks.geneval.rules import colour_requests
from evalkit.judges.colour import ColourCrop

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
FIXTURE = json.loads((FIXTURES / "geneval_colour_official.json").read_text())
ARRAYS = np.load(FIXTURES / "geneval_colour_official.npz")


def photo(name: str) -> np.ndarray:
    from skimage import data

    image = getattr(data, name.removeprefix("skimage.data."))()
    return np.ascontiguousarray(image[0] if isinstance(image, tuple) else image)


def case_inputs(case: dict[str, Any]) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray] | None]:
    """The stand-in detector's output of the recording: boxes per class, masks when it had them."""
    h, w = case["height"], case["width"]
    boxes: dict[str, list[list[float]]] = {}
    masks: dict[str, list[np.ndarray]] = {}
    for k, obj in enumerate(case["objects"]):
        boxes.setdefault(obj["class"], []).append(obj["box"])
        if obj["mask"]:
            bits = np.unpackbits(ARRAYS[f"{case['id']}/mask{k}"])[: h * w]
            masks.setdefault(obj["class"], []).append(bits.reshape(h, w).astype(bool))
    dets = {c: np.asarray(b, np.float64) for c, b in boxes.items()}
    return dets, ({c: np.stack(m) for c, m in masks.items()} if masks else None)


def case_crops(case: dict[str, Any]) -> list[ColourCrop]:
    """The crops our GenEval.score asks the colour judge about, in asking order."""
    image = photo(case["photo"])
    dets, masks = case_inputs(case)
    return [
        ColourCrop(image, name, dets[name][i], None if masks is None else masks[name][i])
        for name, idx in colour_requests(case["metadata"], dets)
        for i in idx
    ]


def vit_l14_transform() -> Any:
    """Our open_clip's ViT-L-14 eval transform, built on the meta device (no weights needed).

    The slow parity test checks it equals the transform of ClipColour's real loading path.
    """
    import open_clip
    import torch

    with torch.device("meta"):
        _, _, transform = open_clip.create_model_and_transforms(
            "ViT-L-14", force_quick_gelu=True, device="meta"
        )
    return transform
