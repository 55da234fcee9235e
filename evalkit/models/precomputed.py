"""``samples:NAME``: images produced elsewhere (a folder or npz of a generator's samples).

Benchmarks such as ``imagenet-gfid -O samples=...`` read the images themselves; this adapter
passes them through unchanged and gives the rows an honest model name (``samples:dit-xl-2``)
instead of pretending a tokenizer produced them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from evalkit.types import ModelCard, TokenizerBase

if TYPE_CHECKING:
    import torch


def card(model_id: str) -> ModelCard:
    label = model_id.partition(":")[2]
    if not label:
        raise ValueError("name the samples: samples:<generator name>, e.g. samples:dit-xl-2")
    return ModelCard(
        id=model_id,
        family="precomputed",
        kind="generator",
        description=f"precomputed samples of {label!r}, read by the benchmark and passed through",
        license="n/a",
    )


class Precomputed(TokenizerBase):
    def __init__(self, model_id: str) -> None:
        self.card = card(model_id)

    def reconstruct(self, images: torch.Tensor) -> torch.Tensor:
        return images


def build(model_id: str) -> Precomputed:
    return Precomputed(model_id)
