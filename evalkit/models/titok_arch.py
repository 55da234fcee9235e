"""TiTok (bytedance/1d-tokenizer) network, our own implementation with the official parameter names.

Facts from the official ``modeling/titok.py``, ``modeling/modules/blocks.py``,
``modeling/quantizer/quantizer.py`` and ``modeling/modules/maskgit_vqgan.py`` (commit 942a96fbdd87):

- Encoder: 16x16 patch conv -> [class token, patches + pos, latent tokens + latent pos] -> pre-LN
  transformer (ViT-S/B/L = width 512/768/1024, depth 8/12/24, heads 8/12/16, MLP 4x, exact GELU)
  -> LN on the latent tokens -> 1x1 conv to ``token_size`` (2x for the VAE: mean and log-variance).
  "Legacy" checkpoints (TiTok-L32/B64/S128) turn the (B, N, D) tokens into a conv input with a
  plain ``reshape`` to (B, D, N, 1) (a memory reinterpretation, not a transpose); newer ones
  permute. Both are reproduced here because the weights were trained with them.
- Decoder: tokens -> linear embed, + latent pos; [class, mask tokens + pos, latents] -> transformer
  -> LN on the grid tokens. Legacy: 1x1 conv, tanh, 1x1 conv to 1024 logits per 16x16 patch, then
  a softmax-weighted mix of the MaskGIT-VQGAN codebook decoded by the MaskGIT-VQGAN pixel decoder
  (:class:`evalkit.models.vqgan_arch.ConvDecoder`, ``maskgit`` layout, official key names).
  New: 1x1 conv to 16*16*3 values per patch, depth-to-space, then a 3x3 conv.
- VQ: nearest code by squared distance |z|^2 + |e|^2 - 2 z.e (both l2-normalised when
  ``use_l2_norm``); the code vector (normalised likewise) is what the decoder sees.
- VAE: the encoder output splits into mean and log-variance (clamped to [-30, 20]).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from evalkit.models.titok_config import VIT_SIZES, TiTokConfig
from evalkit.models.vqgan_arch import Codebook, ConvDecoder, ConvVQConfig, nearest_code

__all__ = ["VIT_SIZES", "TiTokConfig", "TiTokNet"]


# --- transformer ---------------------------------------------------------------------------


class ResidualAttentionBlock(nn.Module):
    """Pre-LN block; names ``ln_1``, ``attn`` (torch MHA), ``ln_2``, ``mlp.c_fc/c_proj``."""

    def __init__(self, width: int, heads: int) -> None:
        super().__init__()
        self.ln_1 = nn.LayerNorm(width)
        self.attn = nn.MultiheadAttention(width, heads, batch_first=True)
        self.ln_2 = nn.LayerNorm(width)
        self.mlp = nn.Sequential()
        self.mlp.add_module("c_fc", nn.Linear(width, 4 * width))
        self.mlp.add_module("gelu", nn.GELU())
        self.mlp.add_module("c_proj", nn.Linear(4 * width, width))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.ln_1(x)
        x = x + self.attn(h, h, h, need_weights=False)[0]
        return x + self.mlp(self.ln_2(x))


def _param(*shape: int, scale: float) -> nn.Parameter:
    return nn.Parameter(scale * torch.randn(*shape))


class TiTokEncoder(nn.Module):
    def __init__(self, cfg: TiTokConfig) -> None:
        super().__init__()
        self.cfg = cfg
        w = cfg.enc_width
        self.out_channels = cfg.token_size * (2 if cfg.quantize_mode == "vae" else 1)
        s = w**-0.5
        self.patch_embed = nn.Conv2d(3, w, cfg.patch_size, stride=cfg.patch_size)
        self.class_embedding = _param(1, w, scale=s)
        self.positional_embedding = _param(cfg.grid**2 + 1, w, scale=s)
        self.latent_token_positional_embedding = _param(cfg.num_latent_tokens, w, scale=s)
        self.ln_pre = nn.LayerNorm(w)
        self.transformer = nn.ModuleList(
            ResidualAttentionBlock(w, cfg.enc_heads) for _ in range(cfg.enc_depth)
        )
        self.ln_post = nn.LayerNorm(w)
        self.conv_out = nn.Conv2d(w, self.out_channels, 1)

    def forward(self, images: torch.Tensor, latent_tokens: torch.Tensor) -> torch.Tensor:
        """Images (B, 3, H, W) -> token features (B, C, 1, N)."""
        b = images.shape[0]
        n = self.cfg.num_latent_tokens
        patches = self.patch_embed(images).flatten(2).transpose(1, 2)  # B, L, D
        cls = self.class_embedding.expand(b, -1, -1).to(patches.dtype)
        x = torch.cat([cls, patches], dim=1) + self.positional_embedding.to(patches.dtype)
        lat = (latent_tokens + self.latent_token_positional_embedding).to(x.dtype)
        x = torch.cat([x, lat.expand(b, -1, -1)], dim=1)
        x = self.ln_pre(x)
        for block in self.transformer:
            x = block(x)
        z = self.ln_post(x[:, 1 + self.cfg.grid**2 :])  # B, N, D
        # legacy checkpoints reinterpret memory (B, N, D) -> (B, D, N, 1); newer ones transpose
        z = z.reshape(b, z.shape[2], n, 1) if self.cfg.legacy else z.permute(0, 2, 1).unsqueeze(-1)
        return self.conv_out(z).reshape(b, self.out_channels, 1, n)


class _PatchToPixels(nn.Module):
    """Depth-to-space with the official channel order ``(p1 p2 c)`` (not PixelShuffle's)."""

    def __init__(self, patch: int) -> None:
        super().__init__()
        self.patch = patch

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, _, h, w = x.shape
        p = self.patch
        x = x.reshape(b, p, p, 3, h, w).permute(0, 3, 4, 1, 5, 2)  # b c h p1 w p2
        return x.reshape(b, 3, h * p, w * p)


class TiTokDecoder(nn.Module):
    def __init__(self, cfg: TiTokConfig) -> None:
        super().__init__()
        self.cfg = cfg
        w = cfg.dec_width
        s = w**-0.5
        self.decoder_embed = nn.Linear(cfg.token_size, w)
        self.class_embedding = _param(1, w, scale=s)
        self.positional_embedding = _param(cfg.grid**2 + 1, w, scale=s)
        self.mask_token = _param(1, 1, w, scale=s)
        self.latent_token_positional_embedding = _param(cfg.num_latent_tokens, w, scale=s)
        self.ln_pre = nn.LayerNorm(w)
        self.transformer = nn.ModuleList(
            ResidualAttentionBlock(w, cfg.dec_heads) for _ in range(cfg.dec_depth)
        )
        self.ln_post = nn.LayerNorm(w)
        if cfg.legacy:
            self.ffn = nn.Sequential(
                nn.Conv2d(w, 2 * w, 1), nn.Tanh(), nn.Conv2d(2 * w, cfg.pixel_codebook_size, 1)
            )
            self.conv_out: nn.Module = nn.Identity()
        else:
            self.ffn = nn.Sequential(
                nn.Conv2d(w, cfg.patch_size**2 * 3, 1), _PatchToPixels(cfg.patch_size)
            )
            self.conv_out = nn.Conv2d(3, 3, 3, padding=1)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        """Token features (B, C, 1, N) -> logits over pixel codes (legacy) or RGB (new)."""
        b, c, h, n = z.shape
        most = self.cfg.num_latent_tokens
        if h != 1 or not (1 <= n <= most if self.cfg.variable_length else n == most):
            up_to = "1 to " if self.cfg.variable_length else ""
            raise ValueError(f"expected (B, C, 1, {up_to}{most}), got {tuple(z.shape)}")
        x = self.decoder_embed(z.reshape(b, c, n).transpose(1, 2))
        g2 = self.cfg.grid**2
        masks = self.mask_token.expand(b, g2, -1).to(x.dtype)
        cls = self.class_embedding.expand(b, -1, -1).to(x.dtype)
        masks = torch.cat([cls, masks], dim=1) + self.positional_embedding.to(x.dtype)
        x = x + self.latent_token_positional_embedding[:n]
        x = self.ln_pre(torch.cat([masks, x], dim=1))
        for block in self.transformer:
            x = block(x)
        x = self.ln_post(x[:, 1 : 1 + g2])
        x = x.transpose(1, 2).reshape(b, -1, self.cfg.grid, self.cfg.grid)
        return self.conv_out(self.ffn(x.contiguous()))


def pixel_decoder_config(cfg: TiTokConfig) -> ConvVQConfig:
    """The legacy checkpoints' pixel decoder: MaskGIT-VQGAN's decoder (official names, e.g.
    ``pixel_decoder.up.{i}.upsample_conv``, come from the shared network's ``maskgit`` layout)."""
    return ConvVQConfig(
        "maskgit",
        cfg.pixel_codebook_size,
        cfg.pixel_z_channels,
        ch=cfg.pixel_hidden,
        ch_mult=cfg.pixel_channel_mult,
        num_res_blocks=cfg.pixel_res_blocks,
        z_channels=cfg.pixel_z_channels,
    )


# --- the whole model -----------------------------------------------------------------------


class TiTokNet(nn.Module):
    """Parameter names match the official ``TiTok`` module's state dict."""

    def __init__(self, cfg: TiTokConfig) -> None:
        super().__init__()
        if cfg.quantize_mode not in ("vq", "vae"):
            raise ValueError(f"quantize_mode must be 'vq' or 'vae', not {cfg.quantize_mode!r}")
        if cfg.legacy and cfg.quantize_mode != "vq":
            raise ValueError("legacy (MaskGIT-VQGAN decoder) TiTok exists only with VQ")
        self.cfg = cfg
        self.encoder = TiTokEncoder(cfg)
        self.decoder = TiTokDecoder(cfg)
        self.latent_tokens = _param(cfg.num_latent_tokens, cfg.enc_width, scale=cfg.enc_width**-0.5)
        if cfg.quantize_mode == "vq":
            assert cfg.codebook_size is not None
            self.quantize = Codebook(cfg.codebook_size, cfg.token_size)
        if cfg.legacy:
            self.pixel_quantize = Codebook(cfg.pixel_codebook_size, cfg.pixel_z_channels)
            self.pixel_decoder = ConvDecoder(pixel_decoder_config(cfg))

    # -- encoding
    def encode_features(self, images: torch.Tensor) -> torch.Tensor:
        """Images [0, 1] (B, 3, 256, 256) -> encoder output (B, C or 2C, 1, N)."""
        return self.encoder(images, self.latent_tokens)

    def _codes(self) -> torch.Tensor:
        e = self.quantize.embedding.weight
        return F.normalize(e, dim=-1) if self.cfg.use_l2_norm else e

    def quantize_indices(self, z: torch.Tensor) -> torch.Tensor:
        """(B, C, 1, N) features -> (B, 1, N) nearest-code indices, computed in float32."""
        b, c, h, n = z.shape
        flat = z.float().permute(0, 2, 3, 1).reshape(-1, c)
        if self.cfg.use_l2_norm:
            flat = F.normalize(flat, dim=-1)
        return nearest_code(flat, self._codes()).reshape(b, h, n)

    def lookup(self, indices: torch.Tensor) -> torch.Tensor:
        """(B, 1, N) or (B, N) indices -> (B, C, 1, N) code vectors."""
        idx = indices.reshape(indices.shape[0], -1)
        return self._codes()[idx].permute(0, 2, 1).unsqueeze(2)

    @staticmethod
    def posterior(z: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """VAE features -> (mean, std) in float32, log-variance clamped as in the official code."""
        mean, logvar = torch.chunk(z.float(), 2, dim=1)
        return mean, torch.exp(0.5 * logvar.clamp(-30.0, 20.0))

    # -- decoding
    def decode_features(self, zq: torch.Tensor) -> torch.Tensor:
        """(B, C, 1, N) -> image (not clamped)."""
        out = self.decoder(zq)
        if self.cfg.legacy:
            mix = torch.einsum(
                "nchw,cd->ndhw", out.softmax(1), self.pixel_quantize.embedding.weight
            )
            out = self.pixel_decoder(mix)
        return out
