"""Open-MAGVIT2's image tokenizer (TencentARC/SEED-Voken ``src/Open_MAGVIT2``: the encoder and
decoder of ``modules/diffusionmodules/improved_model.py`` and the lookup-free quantiser of
``modules/vqvae/lookup_free_quantize.py``), written here with the official module and parameter
names so that the released generator weights load strictly.

Lookup-free quantisation: each of the 18 feature channels becomes its sign (+1 if > 0, else -1);
the token is sum_d [channel d > 0] * 2^d, one of 2^18. The decoder's adaptive group norms take
their scale and shift from the per-channel std and mean of the quantised map itself.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from evalkit.models.open_magvit2_config import MagvitConfig


def _norm(channels: int, affine: bool = True) -> nn.GroupNorm:
    return nn.GroupNorm(32, channels, eps=1e-6, affine=affine)


class ResBlock(nn.Module):
    def __init__(self, in_channels: int, out_channels: int) -> None:
        super().__init__()
        self.norm1 = _norm(in_channels)
        self.norm2 = _norm(out_channels)
        self.conv1 = nn.Conv2d(in_channels, out_channels, 3, padding=1, bias=False)
        self.conv2 = nn.Conv2d(out_channels, out_channels, 3, padding=1, bias=False)
        if in_channels != out_channels:
            self.nin_shortcut = nn.Conv2d(in_channels, out_channels, 1, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.conv1(F.silu(self.norm1(x)))
        h = self.conv2(F.silu(self.norm2(h)))
        shortcut = getattr(self, "nin_shortcut", None)
        return h + (x if shortcut is None else shortcut(x))


def _level(blocks: list[nn.Module]) -> nn.Module:
    level = nn.Module()
    level.block = nn.ModuleList(blocks)
    return level


class Encoder(nn.Module):
    def __init__(self, cfg: MagvitConfig) -> None:
        super().__init__()
        self.conv_in = nn.Conv2d(3, cfg.ch, 3, padding=1, bias=False)
        self.down = nn.ModuleList()
        block_in = cfg.ch
        for i, mult in enumerate(cfg.ch_mult):
            blocks = []
            for _ in range(cfg.num_res_blocks):
                blocks.append(ResBlock(block_in, cfg.ch * mult))
                block_in = cfg.ch * mult
            level = _level(blocks)
            if i < len(cfg.ch_mult) - 1:
                level.downsample = nn.Conv2d(block_in, block_in, 3, stride=2, padding=1)
            self.down.append(level)
        self.mid_block = nn.ModuleList(
            [ResBlock(block_in, block_in) for _ in range(cfg.num_res_blocks)]
        )
        self.norm_out = _norm(block_in)
        self.conv_out = nn.Conv2d(block_in, cfg.z_channels, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.conv_in(x)
        for level in self.down:
            for block in level.block:
                h = block(h)
            if hasattr(level, "downsample"):
                h = level.downsample(h)
        for block in self.mid_block:
            h = block(h)
        return self.conv_out(F.silu(self.norm_out(h)))


class AdaptiveGroupNorm(nn.Module):
    """Group norm without affine, then ``gamma(std(z)) * x + beta(mean(z))`` per channel, the
    statistics over the quantised map ``z``'s positions (std from the unbiased variance + eps)."""

    def __init__(self, z_channels: int, channels: int) -> None:
        super().__init__()
        self.gn = _norm(channels, affine=False)
        self.gamma = nn.Linear(z_channels, channels)
        self.beta = nn.Linear(z_channels, channels)
        self.eps = 1e-6

    def forward(self, x: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
        b, c = x.shape[:2]
        flat = z.flatten(2)
        scale = self.gamma((flat.var(dim=-1) + self.eps).sqrt()).view(b, c, 1, 1)
        bias = self.beta(flat.mean(dim=-1)).view(b, c, 1, 1)
        return scale * self.gn(x) + bias


class Upsampler(nn.Module):
    """A 3x3 conv to 4x the channels, then depth-to-space (the official DCR order)."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(channels, 4 * channels, 3, padding=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.conv1(x)
        b, c, h, w = out.shape
        out = out.view(b, 2, 2, c // 4, h, w).permute(0, 3, 4, 1, 5, 2)
        return out.reshape(b, c // 4, 2 * h, 2 * w)


class Decoder(nn.Module):
    def __init__(self, cfg: MagvitConfig) -> None:
        super().__init__()
        n = len(cfg.ch_mult)
        block_in = cfg.ch * cfg.ch_mult[-1]
        self.conv_in = nn.Conv2d(cfg.z_channels, block_in, 3, padding=1)
        self.mid_block = nn.ModuleList(
            [ResBlock(block_in, block_in) for _ in range(cfg.num_res_blocks)]
        )
        self.up = nn.ModuleList()  # registered before ``adaptive``, as officially
        self.adaptive = nn.ModuleList()
        levels: list[nn.Module] = []
        adaptive: list[nn.Module] = []
        for i in reversed(range(n)):
            adaptive.insert(0, AdaptiveGroupNorm(cfg.z_channels, block_in))
            blocks = []
            for _ in range(cfg.num_res_blocks):
                blocks.append(ResBlock(block_in, cfg.ch * cfg.ch_mult[i]))
                block_in = cfg.ch * cfg.ch_mult[i]
            level = _level(blocks)
            if i > 0:
                level.upsample = Upsampler(block_in)
            levels.insert(0, level)
        self.up.extend(levels)
        self.adaptive.extend(adaptive)
        self.norm_out = _norm(block_in)
        self.conv_out = nn.Conv2d(block_in, 3, 3, padding=1)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        h = self.conv_in(z)
        for block in self.mid_block:
            h = block(h)
        for i in reversed(range(len(self.up))):
            h = self.adaptive[i](h, z)
            level = self.up[i]
            for block in level.block:
                h = block(h)
            if hasattr(level, "upsample"):
                h = level.upsample(h)
        return self.conv_out(F.silu(self.norm_out(h)))


class OpenMagvit2(nn.Module):
    """The official ``VQModel``'s inference parts: ``encoder``, ``decoder`` (the LFQ quantiser
    has no weights)."""

    def __init__(self, cfg: MagvitConfig) -> None:
        super().__init__()
        self.cfg = cfg
        self.encoder = Encoder(cfg)
        self.decoder = Decoder(cfg)

    def _bit_values(self, device: torch.device) -> torch.Tensor:
        """(1, z_channels, 1, 1): 2^d for channel d (made here, not a buffer, so that a model
        built on the meta device and then assigned its weights has it on the right device)."""
        return (2 ** torch.arange(self.cfg.z_channels, device=device)).view(1, -1, 1, 1)

    def encode_indices(self, x: torch.Tensor) -> torch.Tensor:
        """x in [-1, 1] -> (B, h, w) token ids in [0, 2^z_channels)."""
        bits = self.encoder(x) > 0
        return (bits.long() * self._bit_values(x.device)).sum(dim=1)

    def codes(self, indices: torch.Tensor) -> torch.Tensor:
        """(B, h, w) ids -> the (B, z_channels, h, w) map of +-1 the decoder sees."""
        bits = (indices.unsqueeze(1) & self._bit_values(indices.device)) != 0
        return bits.to(self.decoder.conv_in.weight.dtype) * 2 - 1

    def decode_indices(self, indices: torch.Tensor) -> torch.Tensor:
        """(B, h, w) ids -> image in about [-1, 1], not clamped."""
        return self.decoder(self.codes(indices))

    def flat_token_ids(self, indices: torch.Tensor) -> torch.Tensor:
        return indices.flatten(1)

    def size_error(self, height: int, width: int) -> str | None:
        s = self.cfg.image_size
        return None if (height, width) == (s, s) else f"{s} x {s} images only (its card's rate)"
