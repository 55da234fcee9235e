"""UniTok configuration (torch-free, so that cards are readable without torch)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class UniTokConfig:
    """The official ``Args`` fields the tokenizer uses, and the ViTamin widths its ``model`` name
    stands for (models/vitamin.py: ``vitamin_large`` and ``ViTaminDecoder``'s table)."""

    conv_widths: tuple[int, int] = (160, 320)  # stem = stage 1 width, stage 2 width
    width: int = 1024  # transformer width (encoder and decoder)
    depth: int = 31
    num_heads: int = 16
    decoder_depths: tuple[int, int] = (4, 2)  # ViTaminDecoder default
    img_size: int = 256
    vocab_size: int = 32768  # all codebooks together
    vocab_width: int = 64  # all codebooks together
    num_codebooks: int = 8

    @property
    def factor(self) -> int:
        return 16  # stem, two MbConv stages and the strided conv each halve the image

    @property
    def grid(self) -> int:
        return self.img_size // self.factor

    @property
    def num_tokens(self) -> int:
        return self.grid**2

    @property
    def codebook_entries(self) -> int:
        return self.vocab_size // self.num_codebooks


CONFIG = UniTokConfig()  # Args() defaults: model='vitamin_large', 32768 codes in 8 codebooks
