"""Doubles for GenEval plumbing tests: a painter generator and a detector that finds its blobs."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch

from evalkit.judges.detection import DetectorInfo
from evalkit.types import ModelCard

# pure colours the painter uses, and the class the blob detector calls each
BLOBS = {"dog": (255, 0, 0), "teddy bear": (0, 0, 255), "bench": (0, 200, 0)}


def paint(prompt_index: int, image_index: int, size: int = 64) -> np.ndarray:
    """Grey canvas; a dog (red) and a teddy bear (blue) side by side, swapped on odd images."""
    im = np.full((size, size, 3), 128, np.uint8)
    left, right = ("teddy bear", "dog") if image_index % 2 == 0 else ("dog", "teddy bear")
    im[20:40, 4:24] = BLOBS[left]
    im[20:40, 40:60] = BLOBS[right]
    if prompt_index % 3 == 2 and image_index < 3:  # a bench on 3 of the 4 images of prompt 2
        im[50:60, 10:50] = BLOBS["bench"]
    return im


class Painter:
    def __init__(self, model_id: str) -> None:
        self.card = card(model_id)

    def to(self, device: object) -> Painter:
        return self

    def generate(self, conditions) -> torch.Tensor:  # type: ignore[no-untyped-def]
        out = []
        for c in conditions:
            Painter.last_conditions.append(c)
            im = paint(c.extra["prompt_index"], c.extra["image_index"])
            out.append(torch.from_numpy(im).permute(2, 0, 1).float() / 255)
        return torch.stack(out)

    last_conditions: list = []


def card(model_id: str) -> ModelCard:
    return ModelCard(id=model_id, family="test", kind="generator", license="n/a")


def build(model_id: str) -> Painter:
    return Painter(model_id)


class BlobDetector:
    """Boxes around each pure-colour blob (score 0.95), plus NaN on demand."""

    info = DetectorInfo(id="blobs", weights="none", official=False)

    def __init__(self, nan: bool = False) -> None:
        self.nan = nan
        self.batches: list[int] = []

    def detect(self, images: Sequence[np.ndarray]) -> list[dict[str, np.ndarray]]:
        self.batches.append(len(images))
        out = []
        for im in images:
            dets = {}
            for name, rgb in BLOBS.items():
                ys, xs = np.nonzero((im == np.array(rgb, np.uint8)).all(-1))
                if len(xs):
                    score = float("nan") if self.nan else 0.95
                    dets[name] = np.array([[xs.min(), ys.min(), xs.max(), ys.max(), score]])
            out.append(dets)
        return out
