"""The latent-diffusion (LDM / taming) convolutional encoder and decoder, with its key names.

One implementation behind two families whose official code derives from CompVis' ``model.py``:
VA-VAE (hustvl/LightningDiT ``tokenizer/autoencoder.py``) and the Cosmos image tokenizers
(NVIDIA/Cosmos-Tokenizer ``modules/layers2d.py``, which adds a wavelet patcher in front and
downsamples fewer times than it has levels). Module and parameter names are the official ones
(``down.0.block.1.conv2.weight``, ``mid.attn_1.q.weight``, ...), so official state dicts load
strictly. evalkit.models.vqgan_arch (taming VQGAN, MaskGIT, LlamaGen) uses its attention,
normalisation and nonlinearity too. Resnet blocks carry no timestep projection (both
families build them with ``temb_channels=0``). Imports torch: only model builders
import this module.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import torch
import torch.nn.functional as F
from torch import nn


def normalize(channels: int) -> nn.GroupNorm:
    return nn.GroupNorm(num_groups=32, num_channels=channels, eps=1e-6, affine=True)


def swish(x: torch.Tensor) -> torch.Tensor:
    return x * torch.sigmoid(x)


class ResnetBlock(nn.Module):
    """GN-act-conv3x3 twice plus the input, through a 1x1 ``nin_shortcut`` when the width changes.

    The LDM/taming block by default; MaskGIT-VQGAN's variant (:mod:`evalkit.models.vqgan_arch`)
    has no conv biases, ``F.silu`` and applies the shortcut to the block's output instead.
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        *,
        bias: bool = True,
        shortcut_on_output: bool = False,
        act: Callable[[torch.Tensor], torch.Tensor] = swish,
    ) -> None:
        super().__init__()
        self.act = act
        self.shortcut_on_output = shortcut_on_output
        self.norm1 = normalize(in_channels)
        self.conv1 = nn.Conv2d(in_channels, out_channels, 3, 1, 1, bias=bias)
        self.norm2 = normalize(out_channels)
        self.conv2 = nn.Conv2d(out_channels, out_channels, 3, 1, 1, bias=bias)
        src = out_channels if shortcut_on_output else in_channels
        self.nin_shortcut = (
            nn.Conv2d(src, out_channels, 1, 1, 0, bias=bias)
            if in_channels != out_channels
            else None
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.conv1(self.act(self.norm1(x)))
        h = self.conv2(self.act(self.norm2(h)))  # dropout 0 at inference
        if self.nin_shortcut is None:
            return x + h
        return self.nin_shortcut(h if self.shortcut_on_output else x) + h


class AttnBlock(nn.Module):
    """Single-head self-attention over all positions, 1x1 convolutions for q, k, v and out."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.norm = normalize(channels)
        self.q = nn.Conv2d(channels, channels, 1)
        self.k = nn.Conv2d(channels, channels, 1)
        self.v = nn.Conv2d(channels, channels, 1)
        self.proj_out = nn.Conv2d(channels, channels, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.norm(x)
        q, k, v = self.q(h), self.k(h), self.v(h)
        b, c, height, width = q.shape
        q = q.reshape(b, c, height * width).permute(0, 2, 1)
        weights = torch.bmm(q, k.reshape(b, c, height * width)) * (int(c) ** (-0.5))
        weights = F.softmax(weights, dim=2)
        out = torch.bmm(v.reshape(b, c, height * width), weights.permute(0, 2, 1))
        return x + self.proj_out(out.reshape(b, c, height, width))


class Downsample(nn.Module):
    """Stride-2 3x3 convolution after zero padding right and bottom by one."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.conv = nn.Conv2d(channels, channels, 3, 2, 0)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.conv(F.pad(x, (0, 1, 0, 1), mode="constant", value=0))


class Upsample(nn.Module):
    """Nearest-neighbour x2, then a 3x3 convolution."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.conv = nn.Conv2d(channels, channels, 3, 1, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.conv(F.interpolate(x, scale_factor=2.0, mode="nearest"))


class _Level(nn.Module):
    """One resolution level: ``block`` (resnets), ``attn`` (one per resnet, or none) and an
    optional ``downsample`` / ``upsample`` (attribute names as in the official state dicts)."""

    def __init__(self, blocks: list[nn.Module], attns: list[nn.Module]) -> None:
        super().__init__()
        self.block = nn.ModuleList(blocks)
        self.attn = nn.ModuleList(attns)

    def run_blocks(self, h: torch.Tensor) -> torch.Tensor:
        for i, block in enumerate(self.block):
            h = block(h)
            if len(self.attn) > 0:
                h = self.attn[i](h)
        return h


def _middle(channels: int) -> nn.Module:
    mid = nn.Module()
    mid.block_1 = ResnetBlock(channels, channels)
    mid.attn_1 = AttnBlock(channels)
    mid.block_2 = ResnetBlock(channels, channels)
    return mid


def _run_middle(mid: nn.Module, h: torch.Tensor) -> torch.Tensor:
    return mid.block_2(mid.attn_1(mid.block_1(h)))


class Encoder(nn.Module):
    """``conv_in``, ``down[i]`` levels, ``mid``, ``norm_out``, ``conv_out``.

    ``num_downsamples`` levels (the first ones) halve the resolution: ``len(ch_mult) - 1`` in
    LDM, fewer in Cosmos (its patcher already divides by ``patch_size``). Attention follows a
    resnet where the nominal resolution ``resolution // patch_size`` has been halved down to a
    value in ``attn_resolutions``.
    """

    def __init__(
        self,
        *,
        ch: int,
        ch_mult: Sequence[int],
        num_res_blocks: int,
        attn_resolutions: Sequence[int],
        resolution: int,
        in_channels: int,
        out_channels: int,
        num_downsamples: int,
    ) -> None:
        super().__init__()
        self.conv_in = nn.Conv2d(in_channels, ch, 3, 1, 1)
        in_mult = (1, *ch_mult)
        curr = resolution
        self.down = nn.ModuleList()
        block_in = ch
        for level, mult in enumerate(ch_mult):
            block_in, block_out = ch * in_mult[level], ch * mult
            blocks, attns = [], []
            for _ in range(num_res_blocks):
                blocks.append(ResnetBlock(block_in, block_out))
                block_in = block_out
                if curr in attn_resolutions:
                    attns.append(AttnBlock(block_in))
            down = _Level(blocks, attns)
            if level < num_downsamples:
                down.downsample = Downsample(block_in)
                curr //= 2
            self.down.append(down)
        self.mid = _middle(block_in)
        self.norm_out = normalize(block_in)
        self.conv_out = nn.Conv2d(block_in, out_channels, 3, 1, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.conv_in(x)
        for down in self.down:
            h = down.run_blocks(h)
            if hasattr(down, "downsample"):
                h = down.downsample(h)
        h = _run_middle(self.mid, h)
        return self.conv_out(swish(self.norm_out(h)))


class Decoder(nn.Module):
    """``conv_in``, ``mid``, ``up[i]`` levels (run from the last to the first), ``norm_out``,
    ``conv_out``; the last ``num_upsamples`` levels double the resolution."""

    def __init__(
        self,
        *,
        ch: int,
        ch_mult: Sequence[int],
        num_res_blocks: int,
        attn_resolutions: Sequence[int],
        resolution: int,
        z_channels: int,
        out_channels: int,
        num_upsamples: int,
    ) -> None:
        super().__init__()
        n = len(ch_mult)
        block_in = ch * ch_mult[-1]
        curr = resolution // 2 ** (n - 1)
        self.conv_in = nn.Conv2d(z_channels, block_in, 3, 1, 1)
        self.mid = _middle(block_in)
        ups: list[nn.Module] = []
        for level in reversed(range(n)):
            block_out = ch * ch_mult[level]
            blocks, attns = [], []
            for _ in range(num_res_blocks + 1):
                blocks.append(ResnetBlock(block_in, block_out))
                block_in = block_out
                if curr in attn_resolutions:
                    attns.append(AttnBlock(block_in))
            up = _Level(blocks, attns)
            if level >= n - num_upsamples:
                up.upsample = Upsample(block_in)
                curr *= 2
            ups.insert(0, up)
        self.up = nn.ModuleList(ups)
        self.norm_out = normalize(block_in)
        self.conv_out = nn.Conv2d(block_in, out_channels, 3, 1, 1)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        h = _run_middle(self.mid, self.conv_in(z))
        for up in reversed(self.up):
            h = up.run_blocks(h)
            if hasattr(up, "upsample"):
                h = up.upsample(h)
        return self.conv_out(swish(self.norm_out(h)))


def gaussian_moments(moments: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """(mean, std) of LDM's DiagonalGaussianDistribution: log-variance clamped to [-30, 20]."""
    mean, logvar = torch.chunk(moments, 2, dim=1)
    return mean, torch.exp(0.5 * torch.clamp(logvar, -30.0, 20.0))
