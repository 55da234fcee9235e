"""Test doubles registered on demand: models that misbehave in known ways."""

from __future__ import annotations

import os
import time
from pathlib import Path

import torch

from evalkit import catalog
from evalkit.types import ModelCard, TokenizerBase


class Misbehaving(TokenizerBase):
    def __init__(self, model_id: str) -> None:
        self.card = card(model_id)
        self.kind = model_id.removeprefix("test-")

    def reconstruct(self, images: torch.Tensor) -> torch.Tensor:
        if self.kind == "flaky":
            self.calls = getattr(self, "calls", 0) + 1
            marker = Path(os.environ["EVALKIT_TEST_FLAKY_MARKER"])
            if self.calls == 3 and not marker.exists():
                marker.touch()
                raise RuntimeError("transient failure")
            return images
        if self.kind == "slow":
            time.sleep(0.4)
            return images
        if self.kind == "nan":
            out = images.clone()
            out[-1, 0, 0, 0] = float("nan")  # only the last sample of each batch
            return out
        if self.kind == "shape":
            return images[..., :-8]
        if self.kind == "range255":
            return images * 255
        raise AssertionError(self.kind)


def card(model_id: str) -> ModelCard:
    return ModelCard(id=model_id, family="test-double")


def build(model_id: str) -> Misbehaving:
    return Misbehaving(model_id)


def register() -> None:
    for kind in ("slow", "nan", "shape", "range255", "flaky"):
        if f"test-{kind}" not in catalog.models:
            catalog.models.register(f"test-{kind}", f"{__name__}:build")
