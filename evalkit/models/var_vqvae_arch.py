"""VAR's multi-scale residual VQ-VAE (FoundationVision/VAR ``models/vqvae.py``, ``quant.py``,
``basic_vae.py``), written here with the official module and parameter names so that the
released ``vae_ch160v4096z32.pth`` loads strictly.

The encoder's 16x-downsampled features ``f`` are quantised scale by scale: at each patch count
``pn`` (1, 2, ..., 16) the residual is area-pooled to ``pn x pn``, each cell takes its nearest
code (Euclidean), the codes are upsampled back (bicubic) and passed through one of four shared
``Phi`` convolutions (``h * (1 - r) + conv(h) * r``), and the result is added to ``f_hat`` and
taken off the residual. The decoder sees ``f_hat`` after the last scale.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from evalkit.models.var_vqvae_config import VarVQConfig


def _norm(channels: int) -> nn.GroupNorm:
    return nn.GroupNorm(32, channels, eps=1e-6, affine=True)


class ResnetBlock(nn.Module):
    def __init__(self, in_channels: int, out_channels: int) -> None:
        super().__init__()
        self.norm1 = _norm(in_channels)
        self.conv1 = nn.Conv2d(in_channels, out_channels, 3, 1, 1)
        self.norm2 = _norm(out_channels)
        self.conv2 = nn.Conv2d(out_channels, out_channels, 3, 1, 1)
        self.nin_shortcut: nn.Module = (
            nn.Conv2d(in_channels, out_channels, 1)
            if in_channels != out_channels
            else nn.Identity()
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.conv1(F.silu(self.norm1(x)))
        h = self.conv2(F.silu(self.norm2(h)))
        return self.nin_shortcut(x) + h


class AttnBlock(nn.Module):
    """Single-head self-attention over all positions, one 1x1 conv for q, k and v."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.norm = _norm(channels)
        self.qkv = nn.Conv2d(channels, 3 * channels, 1)
        self.proj_out = nn.Conv2d(channels, channels, 1)
        self.w_ratio = channels**-0.5

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, c, h, w = x.shape
        q, k, v = self.qkv(self.norm(x)).reshape(b, 3, c, h, w).unbind(1)
        q = q.reshape(b, c, h * w).permute(0, 2, 1)
        attn = torch.bmm(q, k.reshape(b, c, h * w)).mul_(self.w_ratio).softmax(dim=2)
        out = torch.bmm(v.reshape(b, c, h * w), attn.permute(0, 2, 1))
        return x + self.proj_out(out.reshape(b, c, h, w))


class Downsample2x(nn.Module):
    def __init__(self, channels: int) -> None:
        super().__init__()
        self.conv = nn.Conv2d(channels, channels, 3, 2, 0)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.conv(F.pad(x, (0, 1, 0, 1)))


class Upsample2x(nn.Module):
    def __init__(self, channels: int) -> None:
        super().__init__()
        self.conv = nn.Conv2d(channels, channels, 3, 1, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.conv(F.interpolate(x, scale_factor=2, mode="nearest"))


def _level(blocks: list[nn.Module], attn: list[nn.Module]) -> nn.Module:
    level = nn.Module()
    level.block = nn.ModuleList(blocks)
    level.attn = nn.ModuleList(attn)
    return level


def _mid(channels: int) -> nn.Module:
    mid = nn.Module()
    mid.block_1 = ResnetBlock(channels, channels)
    mid.attn_1 = AttnBlock(channels)
    mid.block_2 = ResnetBlock(channels, channels)
    return mid


class Encoder(nn.Module):
    def __init__(self, cfg: VarVQConfig) -> None:
        super().__init__()
        n = len(cfg.ch_mult)
        self.conv_in = nn.Conv2d(3, cfg.ch, 3, 1, 1)
        self.down = nn.ModuleList()
        block_in = cfg.ch
        for i, mult in enumerate(cfg.ch_mult):
            blocks, attn = [], []
            for _ in range(cfg.num_res_blocks):
                blocks.append(ResnetBlock(block_in, cfg.ch * mult))
                block_in = cfg.ch * mult
                if i == n - 1:  # self-attention at the lowest resolution only
                    attn.append(AttnBlock(block_in))
            level = _level(blocks, attn)
            if i != n - 1:
                level.downsample = Downsample2x(block_in)
            self.down.append(level)
        self.mid = _mid(block_in)
        self.norm_out = _norm(block_in)
        self.conv_out = nn.Conv2d(block_in, cfg.z_channels, 3, 1, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.conv_in(x)
        for level in self.down:
            for i, block in enumerate(level.block):
                h = block(h)
                if len(level.attn):
                    h = level.attn[i](h)
            if hasattr(level, "downsample"):
                h = level.downsample(h)
        h = self.mid.block_2(self.mid.attn_1(self.mid.block_1(h)))
        return self.conv_out(F.silu(self.norm_out(h)))


class Decoder(nn.Module):
    def __init__(self, cfg: VarVQConfig) -> None:
        super().__init__()
        n = len(cfg.ch_mult)
        block_in = cfg.ch * cfg.ch_mult[-1]
        self.conv_in = nn.Conv2d(cfg.z_channels, block_in, 3, 1, 1)
        self.mid = _mid(block_in)
        levels: list[nn.Module] = []
        for i in reversed(range(n)):
            blocks, attn = [], []
            for _ in range(cfg.num_res_blocks + 1):
                blocks.append(ResnetBlock(block_in, cfg.ch * cfg.ch_mult[i]))
                block_in = cfg.ch * cfg.ch_mult[i]
                if i == n - 1:
                    attn.append(AttnBlock(block_in))
            level = _level(blocks, attn)
            if i != 0:
                level.upsample = Upsample2x(block_in)
            levels.insert(0, level)
        self.up = nn.ModuleList(levels)
        self.norm_out = _norm(block_in)
        self.conv_out = nn.Conv2d(block_in, 3, 3, 1, 1)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        h = self.mid.block_2(self.mid.attn_1(self.mid.block_1(self.conv_in(z))))
        for level in reversed(self.up):
            for i, block in enumerate(level.block):
                h = block(h)
                if len(level.attn):
                    h = level.attn[i](h)
            if hasattr(level, "upsample"):
                h = level.upsample(h)
        return self.conv_out(F.silu(self.norm_out(h)))


class Phi(nn.Conv2d):
    """``h * (1 - r) + conv3x3(h) * r``: the refinement after each scale's upsampling."""

    def __init__(self, channels: int, ratio: float) -> None:
        super().__init__(channels, channels, 3, 1, 1)
        self.resi_ratio = abs(ratio)

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        return h.mul(1 - self.resi_ratio) + super().forward(h).mul_(self.resi_ratio)


class PhiPartiallyShared(nn.Module):
    """K Phi layers for all scales: scale ``si`` of ``SN`` uses the one whose tick is nearest
    to ``si / (SN - 1)`` (the official tick spacing, which differs for K = 4)."""

    def __init__(self, layers: list[Phi]) -> None:
        super().__init__()
        self.qresi_ls = nn.ModuleList(layers)
        k = len(layers)
        margin = 1 / 3 / k if k == 4 else 1 / 2 / k
        self.ticks = np.linspace(margin, 1 - margin, k)

    def at(self, fraction: float) -> nn.Module:
        return self.qresi_ls[int(np.argmin(np.abs(self.ticks - fraction)))]


class MultiScaleQuantizer(nn.Module):
    def __init__(self, cfg: VarVQConfig) -> None:
        super().__init__()
        self.cfg = cfg
        phis = [Phi(cfg.z_channels, cfg.quant_resi) for _ in range(cfg.share_quant_resi)]
        self.quant_resi = PhiPartiallyShared(phis)  # registered first, as officially
        self.embedding = nn.Embedding(cfg.vocab_size, cfg.z_channels)
        # training statistics, kept so that the official state dict loads strictly
        n_scales = len(cfg.patch_nums)
        self.register_buffer("ema_vocab_hit_SV", torch.zeros(n_scales, cfg.vocab_size))

    def _phi(self, si: int) -> nn.Module:
        return self.quant_resi.at(si / (len(self.cfg.patch_nums) - 1))

    def _upsampled(self, idx: torch.Tensor, pn: int, size: int, last: bool) -> torch.Tensor:
        b = idx.shape[0]
        h = self.embedding(idx).transpose(1, 2).reshape(b, self.cfg.z_channels, pn, pn)
        return h if last else F.interpolate(h, size=(size, size), mode="bicubic")

    def indices(self, f: torch.Tensor) -> list[torch.Tensor]:
        """One (B, pn * pn) index tensor per scale, smallest first."""
        b, c, size, _ = f.shape
        if size != self.cfg.patch_nums[-1] or f.shape[3] != size:
            raise ValueError(f"features of {size} x {f.shape[3]}, need {self.cfg.patch_nums[-1]}")
        rest = f.clone()
        codes = self.embedding.weight
        code_sq = codes.square().sum(dim=1)
        out = []
        last_si = len(self.cfg.patch_nums) - 1
        for si, pn in enumerate(self.cfg.patch_nums):
            last = si == last_si
            pooled = rest if last else F.interpolate(rest, size=(pn, pn), mode="area")
            z = pooled.permute(0, 2, 3, 1).reshape(-1, c)
            dist = z.square().sum(dim=1, keepdim=True) + code_sq
            dist.addmm_(z, codes.T, alpha=-2, beta=1)
            idx = dist.argmin(dim=1).reshape(b, pn * pn)
            rest.sub_(self._phi(si)(self._upsampled(idx, pn, size, last)))
            out.append(idx)
        return out

    def f_hat(self, indices: list[torch.Tensor]) -> torch.Tensor:
        """The sum over scales of Phi(upsampled codes): what the decoder sees."""
        size = self.cfg.patch_nums[-1]
        last_si = len(self.cfg.patch_nums) - 1
        total = None
        for si, (pn, idx) in enumerate(zip(self.cfg.patch_nums, indices, strict=True)):
            if idx.shape[1] != pn * pn:
                raise ValueError(f"scale {si}: {idx.shape[1]} tokens, expected {pn * pn}")
            h = self._phi(si)(self._upsampled(idx, pn, size, si == last_si))
            total = h if total is None else total + h
        assert total is not None
        return total


class VarVQVAE(nn.Module):
    """The official ``VQVAE`` (inference): encoder, quant_conv, quantize, post_quant_conv,
    decoder."""

    def __init__(self, cfg: VarVQConfig) -> None:
        super().__init__()
        self.cfg = cfg
        self.encoder = Encoder(cfg)
        self.decoder = Decoder(cfg)
        self.quantize = MultiScaleQuantizer(cfg)
        ks = cfg.quant_conv_ks
        self.quant_conv = nn.Conv2d(cfg.z_channels, cfg.z_channels, ks, 1, ks // 2)
        self.post_quant_conv = nn.Conv2d(cfg.z_channels, cfg.z_channels, ks, 1, ks // 2)

    def encode_features(self, x: torch.Tensor) -> torch.Tensor:
        """x in [-1, 1] -> the features the quantiser sees (B, z_channels, 16, 16)."""
        return self.quant_conv(self.encoder(x))

    def encode_indices(self, x: torch.Tensor) -> list[torch.Tensor]:
        """x in [-1, 1] -> one (B, pn * pn) index tensor per scale (``img_to_idxBl``)."""
        return self.quantize.indices(self.encode_features(x))

    def decode_indices(self, indices: list[torch.Tensor]) -> torch.Tensor:
        """Per-scale indices -> image in about [-1, 1], not clamped (``idxBl_to_img``)."""
        return self.decoder(self.post_quant_conv(self.quantize.f_hat(indices)))

    def flat_token_ids(self, indices: list[torch.Tensor]) -> torch.Tensor:
        return torch.cat(indices, dim=1)

    def size_error(self, height: int, width: int) -> str | None:
        s = self.cfg.image_size
        return None if (height, width) == (s, s) else f"{s} x {s} images only (its scales)"
