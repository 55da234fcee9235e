"""Doubles for the spatial benchmarks: a painter generator and a colour detector.

The painter draws obj1 as a red square and obj2 as a blue one, placed to satisfy the prompt's
relation for even image indices and its opposite for odd ones; the colour detector returns the
red region as the first query and the blue one as the second (score 0.9), so every rule's verdict
is known in advance.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch

from evalkit import catalog
from evalkit.judges.detection import DetectorInfo
from evalkit.types import Condition, ModelCard, WeightsFile

SIZE = 64
# (obj1 top-left, obj2 top-left) for a relation that holds
PLACES = {
    "left": ((4, 24), (40, 24)),
    "right": ((40, 24), (4, 24)),
    "above": ((24, 4), (24, 40)),
    "below": ((24, 40), (24, 4)),
}
WORDS = {
    "to the left of": "left",
    "on the left of": "left",
    "left of": "left",
    "to the right of": "right",
    "on the right of": "right",
    "right of": "right",
    "above": "above",
    "on the top of": "above",
    "below": "below",
    "on the bottom of": "below",
    "near": "left",
    "next to": "left",
    "on side of": "left",
}
FLIP = {"left": "right", "right": "left", "above": "below", "below": "above"}


def paint(relation_word: str, correct: bool) -> np.ndarray:
    rel = WORDS[relation_word]
    rel = rel if correct else FLIP[rel]
    (x1, y1), (x2, y2) = PLACES[rel]
    image = np.full((SIZE, SIZE, 3), 255, dtype=np.uint8)
    image[y1 : y1 + 20, x1 : x1 + 20] = (255, 0, 0)
    image[y2 : y2 + 20, x2 : x2 + 20] = (0, 0, 255)
    return image


def relation_of(prompt: str) -> str:
    return next(w for w in sorted(WORDS, key=len, reverse=True) if f" {w} " in f" {prompt} ")


class Painter:
    def __init__(self, model_id: str) -> None:
        self.card = card(model_id)

    def to(self, device: object) -> Painter:
        return self

    def generate(self, conditions: Sequence[Condition]) -> torch.Tensor:
        out = [
            paint(relation_of(c.prompt or ""), c.extra["image_index"] % 2 == 0) for c in conditions
        ]
        return torch.from_numpy(np.stack(out)).permute(0, 3, 1, 2).float() / 255


def card(model_id: str) -> ModelCard:
    weights = ()
    if model_id.endswith("noweights"):
        weights = (
            WeightsFile(
                "unet.safetensors",
                sha256="0" * 64,
                store_path="weights/test-noweights/unet.safetensors",
            ),
        )
    return ModelCard(id=model_id, family="test", kind="generator", weights=weights)


def build(model_id: str) -> Painter:
    if model_id.endswith("noweights"):
        from evalkit.store import resolve

        resolve(card(model_id).weights[0], f"{model_id} weights")
    return Painter(model_id)


class ColourDetector:
    info = DetectorInfo(id="colour-test", weights="none", official=False)

    def detect_queries(
        self, images: Sequence[np.ndarray], queries: Sequence[Sequence[str]]
    ) -> list[dict[str, np.ndarray]]:
        out = []
        for image, names in zip(images, queries):
            dets: dict[str, list] = {}
            for colour, name in (((255, 0, 0), names[0]), ((0, 0, 255), names[1])):
                ys, xs = np.nonzero((image == colour).all(-1))
                if len(xs):
                    dets.setdefault(name, []).append(
                        [xs.min(), ys.min(), xs.max() + 1, ys.max() + 1, 0.9]
                    )
            out.append({k: np.array(v, dtype=np.float64) for k, v in dets.items()})
        return out


def register() -> None:
    for name in ("test-painter", "test-painter-noweights"):
        if name not in catalog.models:
            catalog.models.register(name, f"{__name__}:build")
