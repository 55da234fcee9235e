"""TiTok network shapes (torch-free, so that model cards can be read without torch).

The network itself is :mod:`evalkit.models.titok_arch`; facts and sources are listed there.
"""

from __future__ import annotations

from dataclasses import dataclass

VIT_SIZES: dict[str, tuple[int, int, int]] = {  # width, depth, heads
    "small": (512, 8, 8),
    "base": (768, 12, 12),
    "large": (1024, 24, 16),
}


@dataclass(frozen=True)
class TiTokConfig:
    """Everything that shapes a TiTok network; ``small_test`` gives a tiny one of the same kind."""

    num_latent_tokens: int
    token_size: int  # channels per token (VAE: channels of the mean)
    quantize_mode: str  # "vq" or "vae"
    codebook_size: int | None  # VQ only
    use_l2_norm: bool
    legacy: bool  # TiTok-L32/B64/S128: reshape bug + MaskGIT-VQGAN pixel decoder
    enc_width: int
    enc_depth: int
    enc_heads: int
    dec_width: int
    dec_depth: int
    dec_heads: int
    image_size: int = 256
    # One-D-Piece: the decoder also takes the first n <= num_latent_tokens tokens (tail drop)
    variable_length: bool = False
    patch_size: int = 16
    # MaskGIT-VQGAN pixel decoder (legacy only)
    pixel_codebook_size: int = 1024
    pixel_z_channels: int = 256
    pixel_hidden: int = 128
    pixel_channel_mult: tuple[int, ...] = (1, 1, 2, 2, 4)
    pixel_res_blocks: int = 2

    @property
    def grid(self) -> int:
        return self.image_size // self.patch_size

    @classmethod
    def official(
        cls,
        enc: str,
        dec: str,
        num_latent_tokens: int,
        token_size: int,
        quantize_mode: str,
        codebook_size: int | None,
        use_l2_norm: bool,
        legacy: bool,
    ) -> TiTokConfig:
        ew, ed, eh = VIT_SIZES[enc]
        dw, dd, dh = VIT_SIZES[dec]
        return cls(
            num_latent_tokens,
            token_size,
            quantize_mode,
            codebook_size,
            use_l2_norm,
            legacy,
            ew,
            ed,
            eh,
            dw,
            dd,
            dh,
        )
