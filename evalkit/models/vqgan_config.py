"""Shapes of the VQGAN-style convolutional autoencoders (torch-free, so cards can be read without
torch). The network is :mod:`evalkit.models.vqgan_arch`; facts and sources are listed there.

One config describes taming-transformers' VQGAN, LlamaGen's VQ tokenizer and MaskGIT's VQGAN (as
ported to PyTorch in bytedance/1d-tokenizer, also TiTok's pixel decoder). They share the layout
(a conv stem, ``len(ch_mult)`` resolution levels of residual blocks, a middle, a conv head) and
differ in details fixed by ``layout``; see :attr:`ConvVQConfig.maskgit`.
"""

from __future__ import annotations

from dataclasses import dataclass

LAYOUTS = ("taming", "llamagen", "maskgit")


@dataclass(frozen=True)
class ConvVQConfig:
    """Everything that shapes one of these networks; ``layout`` also names its official keys."""

    layout: str  # one of LAYOUTS
    codebook_size: int
    codebook_dim: int
    ch: int = 128
    ch_mult: tuple[int, ...] = (1, 1, 2, 2, 4)
    num_res_blocks: int = 2
    z_channels: int = 256
    l2_norm: bool = False  # codes and features l2-normalised before the nearest-code search

    def __post_init__(self) -> None:
        if self.layout not in LAYOUTS:
            raise ValueError(f"layout must be one of {LAYOUTS}, not {self.layout!r}")

    @property
    def maskgit(self) -> bool:
        """MaskGIT's variant: no attention anywhere, bias-free residual convs whose 1x1 shortcut
        is applied to the block's output, average-pool downsampling, ``num_res_blocks`` (not +1)
        decoder blocks per level, a 1x1 encoder head, and no quant/post-quant convs."""
        return self.layout == "maskgit"

    @property
    def factor(self) -> int:
        """Spatial downsampling: 2 per level after the first."""
        return 2 ** (len(self.ch_mult) - 1)

    def grid(self, image_size: int) -> int:
        return image_size // self.factor
