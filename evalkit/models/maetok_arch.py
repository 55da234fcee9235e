"""MAETok's autoencoder (Hhhhhhao/continuous_tokenizer ``modelling/tokenizer.py`` ``AEModel``) with
the official module names, so the released state dict loads strictly.

Encoder: a DINOv2-style ViT (layer scale, class token, absolute position embedding) over 16-pixel
patches, followed by learnable latent tokens; every block also applies a learned 2D "mixed" RoPE to
the image tokens only (``rope_mixed``). The last ``num_latent_tokens`` outputs, projected by
``quant_conv``, are the continuous latents. Decoder: mask tokens for every patch followed by the
projected latents; its blocks are the official ``MoVQBlockv2`` (affine-free LayerNorm, the latent
tokens modulated by ``x * scale + shift`` from the unprojected latents), then a linear patch head.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn
from torch.nn import functional as F  # noqa: N812


@dataclass(frozen=True)
class MAETokConfig:
    image_size: int = 256
    patch_size: int = 16
    width: int = 768
    depth: int = 12
    heads: int = 12
    num_latent_tokens: int = 128
    latent_dim: int = 32  # codebook_embed_dim
    enc_token_drop: bool = True  # the training config's enc_token_drop > 0 adds encoder.mask_token

    @property
    def grid(self) -> int:
        return self.image_size // self.patch_size


def grid_positions(side: int) -> tuple[torch.Tensor, torch.Tensor]:
    t = torch.arange(side * side, dtype=torch.float32)
    return t % side, torch.div(t, side, rounding_mode="floor")


def _mixed_cis(
    freqs: torch.Tensor, t_x: torch.Tensor, t_y: torch.Tensor, heads: int
) -> torch.Tensor:
    """Per-block rotations (depth, heads, tokens, head_dim / 2) of the learned mixed RoPE."""
    depth, n = freqs.shape[1], t_x.shape[0]
    fx = (t_x.unsqueeze(-1) @ freqs[0].unsqueeze(-2)).view(depth, n, heads, -1).permute(0, 2, 1, 3)
    fy = (t_y.unsqueeze(-1) @ freqs[1].unsqueeze(-2)).view(depth, n, heads, -1).permute(0, 2, 1, 3)
    return torch.polar(torch.ones_like(fx), fx + fy)


def _rotate(x: torch.Tensor, cis: torch.Tensor) -> torch.Tensor:
    pairs = torch.view_as_complex(x.float().reshape(*x.shape[:-1], -1, 2))
    return torch.view_as_real(pairs * cis.unsqueeze(0)).flatten(3).type_as(x)


class Attention(nn.Module):
    def __init__(self, dim: int, heads: int) -> None:
        super().__init__()
        self.heads = heads
        self.qkv = nn.Linear(dim, dim * 3)
        self.proj = nn.Linear(dim, dim)

    def forward(
        self, x: torch.Tensor, cis: torch.Tensor, prefix: int, latents: int
    ) -> torch.Tensor:
        b, n, c = x.shape
        q, k, v = self.qkv(x).reshape(b, n, 3, self.heads, c // self.heads).permute(2, 0, 3, 1, 4)
        img = slice(prefix, n - latents)  # RoPE on the image tokens only
        q = torch.cat([q[:, :, :prefix], _rotate(q[:, :, img], cis), q[:, :, n - latents :]], 2)
        k = torch.cat([k[:, :, :prefix], _rotate(k[:, :, img], cis), k[:, :, n - latents :]], 2)
        out = F.scaled_dot_product_attention(q, k, v)
        return self.proj(out.transpose(1, 2).reshape(b, n, c))


class Mlp(nn.Module):
    def __init__(self, dim: int) -> None:
        super().__init__()
        self.fc1 = nn.Linear(dim, 4 * dim)
        self.act = nn.GELU()
        self.fc2 = nn.Linear(4 * dim, dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc2(self.act(self.fc1(x)))


class LayerScale(nn.Module):
    def __init__(self, dim: int) -> None:
        super().__init__()
        self.gamma = nn.Parameter(torch.full((dim,), 1e-5))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * self.gamma


class Block(nn.Module):
    """timm's ViT block with layer scale (DINOv2), attention taking the RoPE rotations."""

    def __init__(self, dim: int, heads: int) -> None:
        super().__init__()
        self.norm1 = nn.LayerNorm(dim, eps=1e-6)
        self.attn = Attention(dim, heads)
        self.ls1 = LayerScale(dim)
        self.norm2 = nn.LayerNorm(dim, eps=1e-6)
        self.mlp = Mlp(dim)
        self.ls2 = LayerScale(dim)

    def forward(
        self, x: torch.Tensor, cis: torch.Tensor, prefix: int, latents: int
    ) -> torch.Tensor:
        x = x + self.ls1(self.attn(self.norm1(x), cis, prefix, latents))
        return x + self.ls2(self.mlp(self.norm2(x)))


def _modulate_latents(x: torch.Tensor, shift: torch.Tensor, scale: torch.Tensor) -> torch.Tensor:
    n = shift.shape[1]
    return torch.cat([x[:, :-n], x[:, -n:] * scale + shift], dim=1)


class MoVQBlock(nn.Module):
    """The official ``MoVQBlockv2``: the latent tokens' norms modulated by the raw latents."""

    def __init__(self, dim: int, heads: int, latent_dim: int) -> None:
        super().__init__()
        self.norm1 = nn.LayerNorm(dim, elementwise_affine=False, eps=1e-6)
        self.attn = Attention(dim, heads)
        self.norm2 = nn.LayerNorm(dim, elementwise_affine=False, eps=1e-6)
        self.mlp = Mlp(dim)
        self.adaLN_modulation = nn.Sequential(nn.SiLU(), nn.Linear(latent_dim, 4 * dim))  # noqa: N815

    def forward(self, x: torch.Tensor, zq: torch.Tensor, cis: torch.Tensor) -> torch.Tensor:
        shift_a, scale_a, shift_m, scale_m = self.adaLN_modulation(zq).chunk(4, dim=-1)
        n = zq.shape[1]
        x = x + self.attn(_modulate_latents(self.norm1(x), shift_a, scale_a), cis, 0, n)
        return x + self.mlp(_modulate_latents(self.norm2(x), shift_m, scale_m))


class MoVQNorm(nn.Module):
    def __init__(self, latent_dim: int, dim: int) -> None:
        super().__init__()
        self.norm = nn.LayerNorm(dim, elementwise_affine=False, eps=1e-6)
        self.adaLN_modulation = nn.Sequential(nn.SiLU(), nn.Linear(latent_dim, 2 * dim))  # noqa: N815

    def forward(self, x: torch.Tensor, zq: torch.Tensor) -> torch.Tensor:
        shift, scale = self.adaLN_modulation(zq).chunk(2, dim=-1)
        return _modulate_latents(self.norm(x), shift, scale)


class PatchEmbed(nn.Module):
    def __init__(self, cfg: MAETokConfig) -> None:
        super().__init__()
        self.proj = nn.Conv2d(3, cfg.width, cfg.patch_size, cfg.patch_size)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.proj(x).flatten(2).transpose(1, 2)


class _ViT(nn.Module):
    """The timm ``VisionTransformer`` parts the official encoder/decoder keep (``.model``)."""

    def __init__(self, cfg: MAETokConfig, decoder: bool) -> None:
        super().__init__()
        w = cfg.width
        if not decoder:
            self.cls_token = nn.Parameter(torch.zeros(1, 1, w))
        self.pos_embed = nn.Parameter(torch.zeros(1, cfg.grid**2 + 1, w))  # unused by the decoder
        self.patch_embed = PatchEmbed(cfg)  # unused by the decoder, kept for the key names
        if decoder:
            self.blocks = nn.ModuleList(
                MoVQBlock(w, cfg.heads, cfg.latent_dim) for _ in range(cfg.depth)
            )
            self.norm: nn.Module = MoVQNorm(cfg.latent_dim, w)
        else:
            self.blocks = nn.ModuleList(Block(w, cfg.heads) for _ in range(cfg.depth))
            self.norm = nn.LayerNorm(w, eps=1e-6)


class _RoPE(nn.Module):
    def __init__(self, cfg: MAETokConfig) -> None:
        super().__init__()
        self.heads = cfg.heads
        self.freqs = nn.Parameter(torch.zeros(2, cfg.depth, cfg.width // 2))
        t_x, t_y = grid_positions(cfg.grid)
        self.register_buffer("freqs_t_x", t_x)
        self.register_buffer("freqs_t_y", t_y)

    def rotations(self) -> torch.Tensor:
        return _mixed_cis(self.freqs, self.freqs_t_x, self.freqs_t_y, self.heads)


class Encoder(_RoPE):
    def __init__(self, cfg: MAETokConfig) -> None:
        super().__init__(cfg)
        n, w = cfg.num_latent_tokens, cfg.width
        self.latent_tokens = nn.Parameter(torch.zeros(1, n, w))
        self.latent_pos_embed = nn.Parameter(torch.zeros(1, n, w))
        if cfg.enc_token_drop:  # training-only masking token; kept so the checkpoint loads
            self.mask_token = nn.Parameter(torch.zeros(1, 1, w))
        self.model = _ViT(cfg, decoder=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        m, n = self.model, self.latent_tokens.shape[1]
        x = m.patch_embed(x)
        x = torch.cat([m.cls_token.expand(len(x), -1, -1), x], dim=1) + m.pos_embed
        x = torch.cat([x, (self.latent_tokens + self.latent_pos_embed).expand(len(x), -1, -1)], 1)
        cis = self.rotations()
        for i, blk in enumerate(m.blocks):
            x = blk(x, cis[i], 1, n)
        return m.norm(x)[:, -n:]


class Decoder(_RoPE):
    def __init__(self, cfg: MAETokConfig) -> None:
        super().__init__(cfg)
        w, p = cfg.width, cfg.patch_size
        self.mask_token = nn.Parameter(torch.zeros(1, 1, w))
        self.latent_pos_embed = nn.Parameter(torch.zeros(1, cfg.num_latent_tokens, w))
        self.model = _ViT(cfg, decoder=True)
        self.to_pixel = nn.Module()
        self.to_pixel.model = nn.Linear(w, 3 * p * p)
        self.patch_size, self.grid = p, cfg.grid

    def forward(self, z: torch.Tensor, zq: torch.Tensor) -> torch.Tensor:
        g, p, b = self.grid, self.patch_size, len(z)
        x = torch.cat([self.mask_token.expand(b, g * g, -1), z + self.latent_pos_embed], dim=1)
        cis = self.rotations()
        for i, blk in enumerate(self.model.blocks):
            x = blk(x, zq, cis[i])
        x = self.to_pixel.model(self.model.norm(x, zq)[:, : g * g])
        x = torch.einsum("nhwpqc->nchpwq", x.reshape(b, g, g, p, p, 3))
        return x.reshape(b, 3, g * p, g * p)


class MAETokNet(nn.Module):
    """``AEModel`` at inference: ``encode`` gives (B, tokens, latent_dim), ``decode`` [-1, 1]."""

    def __init__(self, cfg: MAETokConfig) -> None:
        super().__init__()
        self.config = cfg
        self.encoder = Encoder(cfg)
        self.quant_conv = nn.Linear(cfg.width, cfg.latent_dim)
        self.decoder = Decoder(cfg)
        self.post_quant_conv = nn.Linear(cfg.latent_dim, cfg.width)

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        return self.quant_conv(self.encoder(x))

    def decode(self, latents: torch.Tensor) -> torch.Tensor:
        return self.decoder(self.post_quant_conv(latents), latents)
