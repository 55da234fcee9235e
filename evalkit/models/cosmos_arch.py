"""Cosmos image tokenizers (NVIDIA/Cosmos-Tokenizer ``networks/{continuous,discrete}_image.py``):
our implementation, with the module names of the official ``encoder.jit`` / ``decoder.jit``.

Encoder: a 2-level Haar wavelet patcher (3 -> 48 channels, /4), the LDM encoder
(:mod:`evalkit.models.ldm_arch`) downsampling ``log2(compression) - 2`` times, a 1x1
``quant_conv``; the continuous (CI) tokenizers stop there (16 latent channels, the "AE"
formulation: no sampling), the discrete (DI) ones quantise 6 channels with FSQ, levels
(8, 8, 8, 5, 5, 5) = 64,000 codes. Decoder: FSQ indices -> codes (DI), ``post_quant_conv``, the
LDM decoder, the inverse Haar transform. Non-persistent buffers (wavelet taps, FSQ levels) are
kept under their official names so that an archive's copies can be checked against ours.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from evalkit.models import fsq
from evalkit.models.ldm_arch import Decoder, Encoder

PATCH_SIZE = 4  # the released tokenizers' Haar patcher: two levels of the 2x2 transform
FSQ_LEVELS = (8, 8, 8, 5, 5, 5)
_HAAR = 0.7071067811865476


@dataclass(frozen=True)
class CosmosConfig:
    """The official ``TokenizerConfigs`` values that shape the network (``networks/configs.py``)."""

    discrete: bool
    spatial_compression: int
    channels: int = 128
    channels_mult: tuple[int, ...] = (2, 4, 4)
    num_res_blocks: int = 2
    attn_resolutions: tuple[int, ...] = (32,)
    resolution: int = 1024
    z_channels: int = 16  # encoder output before quant_conv: 16 for CI, 256 for DI
    latent_channels: int = 16  # CI only
    levels: tuple[int, ...] = FSQ_LEVELS

    @property
    def code_channels(self) -> int:
        """Channels of what the encoder hands on: FSQ code dims (DI) or latent channels (CI)."""
        return len(self.levels) if self.discrete else self.latent_channels

    @property
    def resampling(self) -> int:
        return int(math.log2(self.spatial_compression)) - int(math.log2(PATCH_SIZE))


class _Wavelets(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.register_buffer("wavelets", torch.tensor([_HAAR, _HAAR]), persistent=False)
        self.register_buffer("_arange", torch.arange(2), persistent=False)

    def taps(self, dtype: torch.dtype, groups: int) -> tuple[torch.Tensor, torch.Tensor]:
        h = self.wavelets
        low = h.flip(0).reshape(1, 1, -1).repeat(groups, 1, 1).to(dtype)
        high = (h * ((-1) ** self._arange)).reshape(1, 1, -1).repeat(groups, 1, 1).to(dtype)
        return low, high


class HaarPatcher(_Wavelets):
    """Two levels of the orthonormal 2D Haar transform, each rescaled by 1/2 (official order of
    the LL, LH, HL, HH bands)."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for _ in range(int(math.log2(PATCH_SIZE))):
            g = x.shape[1]
            low, high = self.taps(x.dtype, g)
            x = F.pad(x, pad=(0, 1, 0, 1), mode="reflect").to(x.dtype)
            xl = F.conv2d(x, low.unsqueeze(2), groups=g, stride=(1, 2))
            xh = F.conv2d(x, high.unsqueeze(2), groups=g, stride=(1, 2))
            bands = [
                F.conv2d(part, tap.unsqueeze(3), groups=g, stride=(2, 1))
                for part in (xl, xh)
                for tap in (low, high)
            ]
            x = torch.cat(bands, dim=1) / 2
        return x


class HaarUnpatcher(_Wavelets):
    """The inverse of :class:`HaarPatcher` (transposed convolutions, rescaled by 2)."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for _ in range(int(math.log2(PATCH_SIZE))):
            g = x.shape[1] // 4
            low, high = self.taps(x.dtype, g)
            ll, lh, hl, hh = torch.chunk(x, 4, dim=1)
            rows = [
                F.conv_transpose2d(a, low.unsqueeze(3), groups=g, stride=(2, 1))
                + F.conv_transpose2d(b, high.unsqueeze(3), groups=g, stride=(2, 1))
                for a, b in ((ll, lh), (hl, hh))
            ]
            y = F.conv_transpose2d(rows[0], low.unsqueeze(2), groups=g, stride=(1, 2))
            y = y + F.conv_transpose2d(rows[1], high.unsqueeze(2), groups=g, stride=(1, 2))
            x = y * 2
        return x


class FSQuantizer(nn.Module):
    """Finite scalar quantisation (Mentzer et al.), one codebook, no projections."""

    def __init__(self, levels: Sequence[int]) -> None:
        super().__init__()
        lv = torch.tensor(list(levels), dtype=torch.int32)
        basis = torch.cumprod(torch.tensor([1, *levels[:-1]]), dim=0, dtype=torch.int32)
        self.register_buffer("_levels", lv, persistent=False)
        self.register_buffer("_basis", basis, persistent=False)
        self.codebook_size = math.prod(levels)
        codebook = self.indices_to_codes(torch.arange(self.codebook_size))
        self.register_buffer("implicit_codebook", codebook, persistent=False)

    def quantize(self, z: torch.Tensor) -> torch.Tensor:
        """z (..., d) -> codes in [-1, 1] on each dimension's grid."""
        return fsq.quantize(z, self._levels)

    def codes_to_indices(self, codes: torch.Tensor) -> torch.Tensor:
        return fsq.codes_to_ids(codes, self._levels, self._basis)

    def indices_to_codes(self, indices: torch.Tensor) -> torch.Tensor:
        """indices (...,) -> codes (..., d)."""
        return fsq.ids_to_codes(indices, self._levels, self._basis)

    def forward(self, z: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(B, d, H, W) -> (indices (B, H, W) int32, codes (B, d, H, W))."""
        codes = self.quantize(z.permute(0, 2, 3, 1))
        return self.codes_to_indices(codes), codes.permute(0, 3, 1, 2)


class _InvQuant(nn.Module):
    def __init__(self, quantizer: FSQuantizer) -> None:
        super().__init__()
        self.quantizer = quantizer


class PatchedEncoder(Encoder):
    def __init__(self, cfg: CosmosConfig) -> None:
        super().__init__(
            ch=cfg.channels,
            ch_mult=cfg.channels_mult,
            num_res_blocks=cfg.num_res_blocks,
            attn_resolutions=cfg.attn_resolutions,
            resolution=cfg.resolution // PATCH_SIZE,
            in_channels=3 * PATCH_SIZE**2,
            out_channels=cfg.z_channels,
            num_downsamples=cfg.resampling,
        )
        self.patcher = HaarPatcher()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return super().forward(self.patcher(x))


class PatchedDecoder(Decoder):
    def __init__(self, cfg: CosmosConfig) -> None:
        super().__init__(
            ch=cfg.channels,
            ch_mult=cfg.channels_mult,
            num_res_blocks=cfg.num_res_blocks,
            attn_resolutions=cfg.attn_resolutions,
            resolution=cfg.resolution // PATCH_SIZE,
            z_channels=cfg.z_channels,
            out_channels=3 * PATCH_SIZE**2,
            num_upsamples=cfg.resampling,
        )
        self.unpatcher = HaarUnpatcher()

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.unpatcher(super().forward(z))


class CosmosEncoder(nn.Module):
    """Names of the official ``encoder_jit()``: ``encoder``, ``quant_conv`` (+ ``quantizer``)."""

    def __init__(self, cfg: CosmosConfig) -> None:
        super().__init__()
        self.encoder = PatchedEncoder(cfg)
        self.quant_conv = nn.Conv2d(cfg.z_channels, cfg.code_channels, 1)
        if cfg.discrete:
            self.quantizer = FSQuantizer(cfg.levels)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor | None]:
        """x in [-1, 1] -> (latent, None) for CI, (codes, indices) for DI."""
        h = self.quant_conv(self.encoder(x))
        if not hasattr(self, "quantizer"):
            return h, None
        indices, codes = self.quantizer(h)
        return codes, indices


class CosmosDecoder(nn.Module):
    """Names of the official ``decoder_jit()``: (``inv_quant``,) ``post_quant_conv``,
    ``decoder``."""

    def __init__(self, cfg: CosmosConfig) -> None:
        super().__init__()
        if cfg.discrete:
            self.inv_quant = _InvQuant(FSQuantizer(cfg.levels))
        self.post_quant_conv = nn.Conv2d(cfg.code_channels, cfg.z_channels, 1)
        self.decoder = PatchedDecoder(cfg)

    def codes(self, indices: torch.Tensor, dtype: torch.dtype) -> torch.Tensor:
        """FSQ indices (B, H, W) -> codes (B, d, H, W)."""
        return self.inv_quant.quantizer.indices_to_codes(indices).permute(0, 3, 1, 2).to(dtype)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        """Latent (CI) or FSQ codes (DI) -> image in about [-1, 1]."""
        return self.decoder(self.post_quant_conv(z))
