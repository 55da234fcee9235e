"""FlexTok's architecture settings, torch-free (cards and ``models list`` read them)."""

from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass(frozen=True)
class FlexTokConfig:
    """Architecture. Defaults: the d18-d28 ImageNet model as far as it could be read or inferred
    (see :mod:`evalkit.models.flextok` for which value comes from where)."""

    image_size: int = 256
    latent_channels: int = 16
    vae_channels: tuple[int, ...] = (128, 256, 512, 512)
    vae_layers_per_block: int = 2
    vae_scaling_factor: float | None = None  # not readable here: from the checkpoint's metadata
    patch_size: int = 2
    posemb_size: int = 16  # the sin-cos table's side, in patches (256 / 8 / 2)
    enc_dim: int = 1152
    enc_depth: int = 18
    dec_dim: int = 1792
    dec_depth: int = 28
    head_dim: int = 64
    num_registers: int = 256
    fsq_levels: tuple[int, ...] = (8, 8, 8, 5, 5, 5)
    time_freq_dim: int = 256
    time_scale: float = 1000.0  # 1000 / the official max_timestep (t runs over [0, 1])
    null_cond: str = "learned"  # "learned" (a learned token) or "zero"

    @property
    def latent_size(self) -> int:
        return self.image_size // 2 ** (len(self.vae_channels) - 1)

    @property
    def codebook_size(self) -> int:
        return math.prod(self.fsq_levels)
