"""FlexTok's network (apple/ml-flextok), written for inference with the official state-dict names.

The official model is a hydra-built ``FlexTok`` whose ``encoder`` and ``decoder`` are
``SequentialModuleDictWrapper``s: a ``module_dict`` of named steps that read and write a data
dict. Only the steps with tensors appear here, under the official names, so a checkpoint's keys
are ``vae.vae.*`` (diffusers ``AutoencoderKL``), ``encoder.module_dict.<step>.*`` and
``decoder.module_dict.<step>.*``. What each step computes (read from the official code at
:data:`evalkit.models.flextok.SOURCE_COMMIT`):

- encoder: VAE latents (B, C, h, w) -> 2 x 2 patches -> linear -> + fixed 2D sin-cos position
  embedding; 256 learned registers appended; a pre-norm transformer (non-affine LayerNorms,
  QK-norm, SwiGLU, no biases, attention scale 8 / head_dim) where patches attend to patches and
  register i to all patches and registers <= i; registers -> LayerNorm -> linear to 6 -> FSQ.
- decoder (rectified flow velocity): FSQ codes -> linear -> tokens past the budget replaced by a
  learned mask token (or all registers by the null condition for guidance); noised latents ->
  patches -> linear -> + position embedding; one sequence of patches then registers, full
  attention, adaLN-zero from the timestep embedding with separate modulations for patches and
  registers; patches -> adaLN LayerNorm -> linear -> unpatchify.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from evalkit.models import fsq
from evalkit.models.flextok_config import FlexTokConfig

VAE_BLOCKS = ("DownEncoderBlock2D",) * 4  # the official VAE_BASE_CFG (vae_wrapper.py)


def layer_norm(x: torch.Tensor) -> torch.Tensor:
    """The official Fp32LayerNorm without affine parameters."""
    return F.layer_norm(x.float(), x.shape[-1:]).type_as(x)


def sincos_2d(side: int, dim: int) -> torch.Tensor:
    """(1, dim, side, side) sin-cos position table, the official build_2d_sincos_posemb's layout."""
    pos = torch.arange(side, dtype=torch.float32)
    grid_w, grid_h = torch.meshgrid(pos, pos, indexing="ij")
    quarter = dim // 4
    omega = 1.0 / 10000.0 ** (torch.arange(quarter, dtype=torch.float32) / quarter)
    out_w = grid_w.reshape(-1)[:, None] * omega[None]
    out_h = grid_h.reshape(-1)[:, None] * omega[None]
    table = torch.cat([out_w.sin(), out_w.cos(), out_h.sin(), out_h.cos()], dim=1)
    return table.reshape(side, side, dim).permute(2, 0, 1).unsqueeze(0)


class Attention(nn.Module):
    def __init__(self, dim: int, head_dim: int) -> None:
        super().__init__()
        self.heads = dim // head_dim
        self.scale = 8.0 / head_dim  # the official μP scaling
        self.wq = nn.Linear(dim, dim, bias=False)
        self.wk = nn.Linear(dim, dim, bias=False)
        self.wv = nn.Linear(dim, dim, bias=False)
        self.proj = nn.Linear(dim, dim, bias=False)

    def forward(self, x: torch.Tensor, mask: torch.Tensor | None) -> torch.Tensor:
        b, n, d = x.shape

        def heads(t: torch.Tensor) -> torch.Tensor:
            return t.reshape(b, n, self.heads, -1).transpose(1, 2)

        q, k, v = heads(self.wq(x)), heads(self.wk(x)), heads(self.wv(x))
        q, k = layer_norm(q), layer_norm(k)
        y = F.scaled_dot_product_attention(q, k, v, attn_mask=mask, scale=self.scale)
        return self.proj(y.transpose(1, 2).reshape(b, n, d))


class GatedMlp(nn.Module):
    def __init__(self, dim: int) -> None:
        super().__init__()
        hidden = int(2 * int(dim * 4.0) / 3)
        self.fc1 = nn.Linear(dim, hidden, bias=False)
        self.fc2 = nn.Linear(hidden, dim, bias=False)
        self.fc3 = nn.Linear(dim, hidden, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc2(F.silu(self.fc1(x)) * self.fc3(x))


def modulate(x: torch.Tensor, shift: torch.Tensor, scale: torch.Tensor) -> torch.Tensor:
    return x * (1.0 + scale) + shift


class Block(nn.Module):
    """Pre-norm block; with ``adaln`` the adaLN-zero modulation, ``adaln`` sets of 6 per token
    group (patches, registers)."""

    def __init__(self, dim: int, head_dim: int, adaln: int = 0) -> None:
        super().__init__()
        self.attn = Attention(dim, head_dim)
        self.mlp = GatedMlp(dim)
        if adaln:
            self.adaLN_modulation = nn.Sequential(nn.SiLU(), nn.Linear(dim, adaln * 6 * dim))

    def forward(
        self, x: torch.Tensor, mask: torch.Tensor | None, mod: torch.Tensor | None = None
    ) -> torch.Tensor:
        if mod is None:
            x = x + self.attn(layer_norm(x), mask)
            return x + self.mlp(layer_norm(x))
        gate_a, gate_m, shift_a, scale_a, shift_m, scale_m = mod.chunk(6, dim=-1)
        x = x + gate_a * self.attn(modulate(layer_norm(x), shift_a, scale_a), mask)
        return x + gate_m * self.mlp(modulate(layer_norm(x), shift_m, scale_m))


class Transformer(nn.Module):
    def __init__(self, dim: int, depth: int, head_dim: int, adaln: int = 0) -> None:
        super().__init__()
        self.blocks = nn.ModuleList(Block(dim, head_dim, adaln) for _ in range(depth))


class Proj(nn.Module):
    """A step holding one linear layer ``proj`` (LinearLayer, LinearHead)."""

    def __init__(self, dim_in: int, dim_out: int, adaln: bool = False) -> None:
        super().__init__()
        if adaln:
            self.adaLN_modulation = nn.Sequential(nn.SiLU(), nn.Linear(dim_in, 2 * dim_in))
        self.proj = nn.Linear(dim_in, dim_out)


class PatchEmbed(nn.Module):
    def __init__(self, channels: int, patch: int, dim: int) -> None:
        super().__init__()
        self.patch = patch
        self.patch_proj = nn.Linear(channels * patch * patch, dim)

    def forward(self, latents: torch.Tensor) -> torch.Tensor:
        """(B, C, h, w) -> (B, h/p, w/p, dim); a patch's values in (py, px, c) order."""
        b, c, h, w = latents.shape
        p = self.patch
        x = latents.permute(0, 2, 3, 1).reshape(b, h // p, p, w // p, p, c)
        x = x.permute(0, 1, 3, 2, 4, 5).reshape(b, h // p, w // p, p * p * c)
        return self.patch_proj(x)


class PosEmb(nn.Module):
    def __init__(self, dim: int, side: int) -> None:
        super().__init__()
        self.posembs = nn.Parameter(sincos_2d(side, dim), requires_grad=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h, w = x.shape[1:3]
        return x + self.posembs[:, :, :h, :w].permute(0, 2, 3, 1)


class Registers(nn.Module):
    def __init__(self, n: int, dim: int) -> None:
        super().__init__()
        self.registers = nn.Parameter(torch.zeros(n, dim))


class MaskToken(nn.Module):
    def __init__(self, dim: int) -> None:
        super().__init__()
        self.dropout_mask_token = nn.Parameter(torch.zeros(dim))


class NullCond(nn.Module):
    def __init__(self, dim: int) -> None:
        super().__init__()
        self.nullcond = nn.Parameter(torch.zeros(dim))


class TimeEmbed(nn.Module):
    def __init__(self, dim: int, freq_dim: int, scale: float) -> None:
        super().__init__()
        self.freq_dim, self.scale = freq_dim, scale
        self.mlp = nn.Sequential(nn.Linear(freq_dim, dim), nn.SiLU(), nn.Linear(dim, dim))

    def forward(self, t: torch.Tensor) -> torch.Tensor:
        """Sinusoidal features of t in [0, 1] (the official max_period 256)."""
        half = self.freq_dim // 2
        freqs = self.scale * torch.exp(
            -math.log(256) * torch.arange(half, dtype=torch.float32, device=t.device) / half
        )
        args = t[:, None].float() * freqs[None]
        features = torch.cat([args.cos(), args.sin()], dim=-1)
        return self.mlp(features.to(self.mlp[0].weight.dtype))


class Steps(nn.Module):
    """The official SequentialModuleDictWrapper's state: a ``module_dict``."""

    def __init__(self, steps: dict[str, nn.Module]) -> None:
        super().__init__()
        self.module_dict = nn.ModuleDict(steps)


class VAEHolder(nn.Module):
    """The official StableDiffusionVAE wrapper: the diffusers model under ``vae``."""

    def __init__(self, cfg: FlexTokConfig) -> None:
        super().__init__()
        try:
            from diffusers import AutoencoderKL
        except ImportError as exc:
            raise ImportError("FlexTok's VAE needs diffusers: pip install 'evalkit[vae]'") from exc

        n = len(cfg.vae_channels)
        self.vae = AutoencoderKL(
            in_channels=3,
            out_channels=3,
            down_block_types=VAE_BLOCKS[:n],
            up_block_types=("UpDecoderBlock2D",) * n,
            block_out_channels=cfg.vae_channels,
            layers_per_block=cfg.vae_layers_per_block,
            act_fn="silu",
            latent_channels=cfg.latent_channels,
            norm_num_groups=32,
            sample_size=1024,
        )


def fsq_quantize(z: torch.Tensor, levels: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """FSQ (the official quantize_fsq.py, in float32): codes in [-1, 1] and token ids, z (...,
    len(levels))."""
    codes = fsq.quantize(z.float(), levels)
    return codes, fsq.codes_to_ids(codes, levels, fsq.radix_basis(levels)).long()


def register_mask(patches: int, registers: int, device: torch.device) -> torch.Tensor:
    """The encoder's 'causal_last' mask: patches see patches; register i sees every patch and
    registers <= i (True = may attend)."""
    n = patches + registers
    q = torch.arange(n, device=device)[:, None]
    k = torch.arange(n, device=device)[None, :]
    return (k < patches) | (k <= q)


class FlexTokNet(nn.Module):
    def __init__(self, cfg: FlexTokConfig) -> None:
        super().__init__()
        self.cfg = cfg
        self.vae = VAEHolder(cfg)
        c, p, s = cfg.latent_channels, cfg.patch_size, cfg.posemb_size
        e, d, n = cfg.enc_dim, cfg.dec_dim, cfg.num_registers
        self.encoder = Steps(
            {
                "enc_patch_emb": PatchEmbed(c, p, e),
                "enc_posemb_module": PosEmb(e, s),
                "enc_register_module": Registers(n, e),
                "enc_transformer": Transformer(e, cfg.enc_depth, cfg.head_dim),
                "enc_to_latents": Proj(e, len(cfg.fsq_levels)),
            }
        )
        dec: dict[str, nn.Module] = {
            "dec_from_latents": Proj(len(cfg.fsq_levels), d),
            "dec_nested_dropout": MaskToken(d),
        }
        if cfg.null_cond == "learned":
            dec["dec_nullcond"] = NullCond(d)
        dec |= {
            "dec_noise_patch_emb": PatchEmbed(c, p, d),
            "dec_noise_posemb": PosEmb(d, s),
            "dec_time_embedder": TimeEmbed(d, cfg.time_freq_dim, cfg.time_scale),
            "dec_transformer": Transformer(d, cfg.dec_depth, cfg.head_dim, adaln=2),
            "dec_to_patches": Proj(d, c * p * p, adaln=True),
        }
        self.decoder = Steps(dec)
        self.register_buffer("levels", torch.tensor(cfg.fsq_levels), persistent=False)

    def _step(self, side: Steps, name: str) -> nn.Module:
        return side.module_dict[name]

    def encode_latents(self, latents: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Scaled VAE latents (B, C, h, w) -> FSQ codes (B, N, 6) and token ids (B, N)."""
        m = self.encoder.module_dict
        x = m["enc_posemb_module"](m["enc_patch_emb"](latents))
        b, h, w, dim = x.shape
        regs = m["enc_register_module"].registers.expand(b, -1, -1)
        seq = torch.cat([x.reshape(b, h * w, dim), regs], dim=1)
        mask = register_mask(h * w, regs.shape[1], seq.device)
        for block in m["enc_transformer"].blocks:
            seq = block(seq, mask)
        z = m["enc_to_latents"].proj(layer_norm(seq[:, h * w :]))
        return fsq_quantize(z, self.levels)

    def velocity(
        self, noised: torch.Tensor, t: torch.Tensor, registers: torch.Tensor
    ) -> torch.Tensor:
        """The decoder's flow prediction for noised latents (B, C, h, w) at times t (B,), given
        embedded registers (B, N, dim) (budget mask or null condition already applied)."""
        m = self.decoder.module_dict
        x = m["dec_noise_posemb"](m["dec_noise_patch_emb"](noised))
        b, h, w, dim = x.shape
        temb = m["dec_time_embedder"](t)
        n_patch = h * w
        seq = torch.cat([x.reshape(b, n_patch, dim), registers], dim=1)
        group = torch.zeros(seq.shape[1], dtype=torch.long, device=seq.device)
        group[n_patch:] = 1  # adaLN: one set of modulations for patches, one for registers
        for block in m["dec_transformer"].blocks:
            mod = block.adaLN_modulation(temb).reshape(b, 2, -1)[:, group]
            seq = block(seq, None, mod)
        head = m["dec_to_patches"]
        shift, scale = head.adaLN_modulation(temb)[:, None].chunk(2, dim=-1)
        out = head.proj(modulate(layer_norm(seq[:, :n_patch]), shift, scale))
        p, c = self.cfg.patch_size, self.cfg.latent_channels
        out = out.reshape(b, h, w, p, p, c).permute(0, 5, 1, 3, 2, 4)
        return out.reshape(b, c, h * p, w * p)

    def embed_tokens(self, ids: torch.Tensor, keep: int) -> torch.Tensor:
        """Token ids (B, N) -> the decoder's registers, positions >= keep as the mask token."""
        m = self.decoder.module_dict
        full = ids.new_zeros(ids.shape[0], self.cfg.num_registers)
        full[:, : ids.shape[1]] = ids
        codes = fsq.ids_to_codes(full, self.levels, fsq.radix_basis(self.levels))
        reg = m["dec_from_latents"].proj(codes.to(self._dtype()))
        reg = reg.clone()
        reg[:, keep:] = m["dec_nested_dropout"].dropout_mask_token
        return reg

    def null_registers(self, registers: torch.Tensor) -> torch.Tensor:
        if self.cfg.null_cond == "learned":
            return self.decoder.module_dict["dec_nullcond"].nullcond.expand_as(registers)
        return torch.zeros_like(registers)

    def _dtype(self) -> torch.dtype:
        return self.decoder.module_dict["dec_from_latents"].proj.weight.dtype
