"""VQGAN-style convolutional VQ autoencoders: one implementation, three official key layouts.

Facts from the official code (file and commit in :mod:`evalkit.models.vqgan`):

- taming-transformers ``taming/modules/diffusionmodules/model.py`` (Encoder, Decoder) and
  ``taming/modules/vqvae/quantize.py`` (VectorQuantizer2); ``taming/models/vqgan.py`` (VQModel:
  encoder -> quant_conv -> nearest code; code -> post_quant_conv -> decoder).
- LlamaGen ``tokenizer/tokenizer_image/vq_model.py``: the same network with other module names
  (``conv_blocks.{i}.res``, ``mid.{0,1,2}``; the decoder's ``conv_blocks`` run from the lowest
  resolution up) and l2-normalised codes and features.
- MaskGIT-VQGAN, 1d-tokenizer ``modeling/modules/maskgit_vqgan.py``: see
  :attr:`evalkit.models.vqgan_config.ConvVQConfig.maskgit`. Its ``Conv2dSame`` pads stride-1 odd
  kernels symmetrically, i.e. exactly like ``padding=k // 2``.

Common to all: GroupNorm(32 groups, eps 1e-6), swish, residual blocks GN-swish-conv3x3 twice with
a 1x1 shortcut when the width changes; taming/LlamaGen downsample by zero-padding right/bottom and
a stride-2 3x3 conv, upsample by nearest x2 then a 3x3 conv, and put single-head attention
(1x1 q/k/v/proj convs) after every residual block of the lowest-resolution level (taming's
``attn_resolutions: [16]`` at 256 px, LlamaGen's last level) and in the middle.

Our modules have one set of names (``down/up.{level}.block.{j}``, ``mid.{j}``,
``downsample.conv``, ``upsample.conv``); each layout's official names are mapped to and from them
by state-dict hooks, so ``state_dict()`` and ``load_state_dict()`` speak the official keys.
"""

from __future__ import annotations

import re
from collections.abc import Callable

import torch
import torch.nn.functional as F
from torch import nn

from evalkit.models.ldm_arch import (
    AttnBlock,
    Downsample,
    ResnetBlock,
    Upsample,
    normalize,
    swish,
)
from evalkit.models.vqgan_config import ConvVQConfig

__all__ = ["Codebook", "ConvDecoder", "ConvEncoder", "ConvVQConfig", "ConvVQNet", "nearest_code"]


def residual_block(c_in: int, c_out: int, cfg: ConvVQConfig) -> ResnetBlock:
    """taming/LlamaGen's block, or MaskGIT's (no biases, ``F.silu``, shortcut on the output)."""
    if cfg.maskgit:
        return ResnetBlock(c_in, c_out, bias=False, shortcut_on_output=True, act=F.silu)
    return ResnetBlock(c_in, c_out)


def resampler(ch: int, up: bool) -> nn.Module:
    """``conv`` after nearest x2 upsampling, or a stride-2 conv after right/bottom zero padding."""
    return Upsample(ch) if up else Downsample(ch)


class Level(nn.Module):
    """One resolution level: residual blocks (each followed by attention where there is any),
    then the resampling step (``downsample`` / ``upsample``) unless it is the last one."""

    def __init__(
        self, c_in: int, c_out: int, n_blocks: int, attn: bool, resample: str, cfg: ConvVQConfig
    ) -> None:
        super().__init__()
        self.block = nn.ModuleList(
            residual_block(c_in if i == 0 else c_out, c_out, cfg) for i in range(n_blocks)
        )
        self.attn = nn.ModuleList(AttnBlock(c_out) for _ in range(n_blocks if attn else 0))
        self.resample = resample  # "", "down" (conv), "pool" (average), "up"
        if resample in ("down", "up"):
            setattr(self, f"{resample}sample", resampler(c_out, up=resample == "up"))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for i, block in enumerate(self.block):
            x = block(x)
            if len(self.attn):
                x = self.attn[i](x)
        if self.resample == "down":
            return self.downsample(x)
        if self.resample == "up":
            return self.upsample(x)
        if self.resample == "pool":
            return F.avg_pool2d(x, kernel_size=2, stride=2)
        return x


def _middle(ch: int, cfg: ConvVQConfig) -> nn.ModuleList:
    if cfg.maskgit:
        return nn.ModuleList(residual_block(ch, ch, cfg) for _ in range(cfg.num_res_blocks))
    return nn.ModuleList([residual_block(ch, ch, cfg), AttnBlock(ch), residual_block(ch, ch, cfg)])


class _ConvStack(nn.Module):
    """conv_in -> the stages -> GroupNorm, swish, conv_out; the state dict in official names."""

    def _finish(self, cfg: ConvVQConfig, decoder: bool) -> None:
        self.act = F.silu if cfg.maskgit else swish  # taming/LlamaGen nonlinearity; MaskGIT F.silu
        _official_names(self, cfg, decoder)

    def stages(self) -> list[nn.Module]:  # pragma: no cover - abstract
        raise NotImplementedError

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.conv_in(x)
        for stage in self.stages():
            h = stage(h)
        return self.conv_out(self.act(self.norm_out(h)))


class ConvEncoder(_ConvStack):
    def __init__(self, cfg: ConvVQConfig, in_channels: int = 3) -> None:
        super().__init__()
        n, mult, ch = len(cfg.ch_mult), cfg.ch_mult, cfg.ch
        self.conv_in = nn.Conv2d(in_channels, ch, 3, padding=1, bias=not cfg.maskgit)
        ins = (1, *mult)
        last = "pool" if cfg.maskgit else "down"
        self.down = nn.ModuleList(
            Level(
                ch * ins[i],
                ch * mult[i],
                cfg.num_res_blocks,
                attn=not cfg.maskgit and i == n - 1,
                resample=last if i != n - 1 else "",
                cfg=cfg,
            )
            for i in range(n)
        )
        top = ch * mult[-1]
        self.mid = _middle(top, cfg)
        self.norm_out = normalize(top)
        k = 1 if cfg.maskgit else 3
        self.conv_out = nn.Conv2d(top, cfg.z_channels, k, padding=k // 2)
        self._finish(cfg, decoder=False)

    def stages(self) -> list[nn.Module]:
        return [*self.down, *self.mid]


class ConvDecoder(_ConvStack):
    def __init__(self, cfg: ConvVQConfig, out_channels: int = 3) -> None:
        super().__init__()
        n, mult, ch = len(cfg.ch_mult), cfg.ch_mult, cfg.ch
        top = ch * mult[-1]
        self.conv_in = nn.Conv2d(cfg.z_channels, top, 3, padding=1)
        self.mid = _middle(top, cfg)
        n_blocks = cfg.num_res_blocks + (0 if cfg.maskgit else 1)
        self.up = nn.ModuleList(
            Level(
                ch * (mult[-1] if i == n - 1 else mult[i + 1]),
                ch * mult[i],
                n_blocks,
                attn=not cfg.maskgit and i == n - 1,
                resample="up" if i != 0 else "",
                cfg=cfg,
            )
            for i in range(n)
        )
        self.norm_out = normalize(ch * mult[0])
        self.conv_out = nn.Conv2d(ch * mult[0], out_channels, 3, padding=1)
        self._finish(cfg, decoder=True)

    def stages(self) -> list[nn.Module]:
        return [*self.mid, *reversed(self.up)]  # up[i] is resolution level i: run it bottom-up


class Codebook(nn.Module):
    """Holds ``embedding.weight`` as the official quantizers do."""

    def __init__(self, size: int, dim: int) -> None:
        super().__init__()
        self.embedding = nn.Embedding(size, dim)


def nearest_code(flat: torch.Tensor, codes: torch.Tensor) -> torch.Tensor:
    """Index of the nearest code for each row, by |z|^2 + |e|^2 - 2 z.e as the official
    quantizers compute it (taming VectorQuantizer2, LlamaGen, TiTok), in float32."""
    flat, codes = flat.float(), codes.float()
    d = flat.pow(2).sum(1, keepdim=True) + codes.pow(2).sum(1) - 2 * flat @ codes.t()
    return d.argmin(dim=1)


class ConvVQNet(nn.Module):
    """encoder [-> quant_conv] -> nearest code; code [-> post_quant_conv] -> decoder."""

    def __init__(self, cfg: ConvVQConfig) -> None:
        super().__init__()
        self.cfg = cfg
        self.encoder = ConvEncoder(cfg)
        self.decoder = ConvDecoder(cfg)
        self.quantize = Codebook(cfg.codebook_size, cfg.codebook_dim)
        if not cfg.maskgit:
            self.quant_conv = nn.Conv2d(cfg.z_channels, cfg.codebook_dim, 1)
            self.post_quant_conv = nn.Conv2d(cfg.codebook_dim, cfg.z_channels, 1)
        elif cfg.z_channels != cfg.codebook_dim:
            raise ValueError("MaskGIT-VQGAN quantizes the encoder output: z_channels = code dim")

    def _codes(self) -> torch.Tensor:
        e = self.quantize.embedding.weight
        return F.normalize(e, dim=-1) if self.cfg.l2_norm else e

    def encode_features(self, images: torch.Tensor) -> torch.Tensor:
        """Images in the network's value range -> features before quantization (B, D, h, w)."""
        z = self.encoder(images)
        return z if self.cfg.maskgit else self.quant_conv(z)

    def quantize_indices(self, z: torch.Tensor) -> torch.Tensor:
        """(B, D, h, w) features -> (B, h, w) code indices."""
        b, d, h, w = z.shape
        flat = z.permute(0, 2, 3, 1).reshape(-1, d)
        if self.cfg.l2_norm:
            flat = F.normalize(flat, dim=-1)
        return nearest_code(flat, self._codes()).reshape(b, h, w)

    def lookup(self, indices: torch.Tensor) -> torch.Tensor:
        """(B, h, w) indices -> (B, D, h, w) code vectors (normalised when ``l2_norm``), in the
        official memory layout (MaskGIT's is channels-last: the convolutions' sums then run in
        the official order, bit for bit)."""
        codes = self._codes()[indices].permute(0, 3, 1, 2)
        return codes if self.cfg.maskgit else codes.contiguous()

    def decode_features(self, zq: torch.Tensor) -> torch.Tensor:
        """Code vectors -> image in the network's value range (not clamped)."""
        return self.decoder(zq if self.cfg.maskgit else self.post_quant_conv(zq))


# --- official key names ------------------------------------------------------------------------

_TAMING_MID = ("block_1", "attn_1", "block_2")


def official_key(key: str, layout: str, levels: int, decoder: bool) -> str:
    """Our key (relative to an encoder or decoder) -> the layout's official key."""
    if layout == "taming":
        return re.sub(r"^mid\.(\d)\.", lambda m: f"mid.{_TAMING_MID[int(m[1])]}.", key)
    if layout == "maskgit":
        return re.sub(r"^up\.(\d+)\.upsample\.conv\.", r"up.\1.upsample_conv.", key)
    m = re.match(r"^(?:down|up)\.(\d+)\.(block|attn|downsample|upsample)\.", key)
    if m is None:
        return key
    i = levels - 1 - int(m[1]) if decoder else int(m[1])  # LlamaGen's decoder runs bottom-up
    part = "res" if m[2] == "block" else m[2]
    return f"conv_blocks.{i}.{part}.{key[m.end() :]}"


def our_key(key: str, layout: str, levels: int, decoder: bool) -> str:
    """The inverse of :func:`official_key`."""
    if layout == "taming":
        return re.sub(
            r"^mid\.(block_1|attn_1|block_2)\.", lambda m: f"mid.{_TAMING_MID.index(m[1])}.", key
        )
    if layout == "maskgit":
        return re.sub(r"^up\.(\d+)\.upsample_conv\.", r"up.\1.upsample.conv.", key)
    m = re.match(r"^conv_blocks\.(\d+)\.(res|attn|downsample|upsample)\.", key)
    if m is None:
        return key
    i = levels - 1 - int(m[1]) if decoder else int(m[1])
    part = "block" if m[2] == "res" else m[2]
    return f"{'up' if decoder else 'down'}.{i}.{part}.{key[m.end() :]}"


def _official_names(module: nn.Module, cfg: ConvVQConfig, decoder: bool) -> None:
    """Make ``module``'s state dict use the official names of ``cfg.layout`` (both ways)."""
    levels = len(cfg.ch_mult)

    def rename(sd: dict, prefix: str, fn: Callable[[str, str, int, bool], str]) -> None:
        items = list(sd.items())
        sd.clear()
        for k, v in items:
            if k.startswith(prefix):
                k = prefix + fn(k[len(prefix) :], cfg.layout, levels, decoder)
            sd[k] = v

    def save(mod: nn.Module, sd: dict, prefix: str, local_metadata: dict) -> None:
        rename(sd, prefix, official_key)

    def load(mod: nn.Module, sd: dict, prefix: str, *args: object) -> None:
        rename(sd, prefix, our_key)

    module.register_state_dict_post_hook(save)
    module.register_load_state_dict_pre_hook(load)
