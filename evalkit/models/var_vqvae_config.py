"""VAR VQ-VAE configuration (torch-free, so that cards are readable without torch)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class VarVQConfig:
    """The official ``VQVAE(...)`` arguments (``build_vae_var``'s defaults are the release's)."""

    vocab_size: int = 4096
    z_channels: int = 32
    ch: int = 160
    ch_mult: tuple[int, ...] = (1, 1, 2, 2, 4)
    num_res_blocks: int = 2
    patch_nums: tuple[int, ...] = (1, 2, 3, 4, 5, 6, 8, 10, 13, 16)
    quant_resi: float = 0.5
    share_quant_resi: int = 4  # K partially shared Phi layers for all scales
    quant_conv_ks: int = 3

    @property
    def factor(self) -> int:
        return 2 ** (len(self.ch_mult) - 1)

    @property
    def image_size(self) -> int:
        return self.patch_nums[-1] * self.factor

    @property
    def num_tokens(self) -> int:
        return sum(pn * pn for pn in self.patch_nums)


CONFIG = VarVQConfig()  # the release: build_vae_var(V=4096, Cvae=32, ch=160, share_quant_resi=4)
