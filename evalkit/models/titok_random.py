"""A seeded random TiTok-family checkpoint (One-D-Piece parity), a pure function of the official
model's key/shape list and a seed: the fixture recorder loads it into the official model, the test
regenerates it without the official code and loads it through our real loading path.

Scales keep the outputs informative: unit-gain linear and conv weights (N(0, 1/fan_in)), norms
near identity, ViT embeddings at the official ``width ** -0.5``, unit-variance codebooks (so the
l2-normalised nearest-code search spreads over many codes).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import torch

RECIPE = "evalkit-titok-random-v1"
_EMBEDDINGS = (
    "class_embedding",
    "positional_embedding",
    "latent_token_positional_embedding",
    "mask_token",
    "latent_tokens",
)


def random_state_dict(shapes: Mapping[str, Sequence[int]], seed: int) -> dict[str, torch.Tensor]:
    """One float32 tensor per key, drawn in the list's order from one ``torch.Generator(seed)``."""
    import torch

    g = torch.Generator().manual_seed(seed)
    out: dict[str, torch.Tensor] = {}
    for key, shape in shapes.items():
        shape = tuple(shape)
        noise = torch.randn(shape, generator=g, dtype=torch.float32)
        if key.endswith(_EMBEDDINGS):
            out[key] = noise * shape[-1] ** -0.5
        elif key.endswith("embedding.weight"):  # codebooks (TiTok's and the pixel decoder's)
            out[key] = noise
        elif len(shape) == 1 and key.endswith("weight"):  # a norm's scale
            out[key] = 1.0 + 0.1 * noise
        elif len(shape) == 1:  # a bias
            out[key] = 0.1 * noise
        else:
            fan_in = 1
            for n in shape[1:]:
                fan_in *= n
            out[key] = noise * fan_in**-0.5
    return out
