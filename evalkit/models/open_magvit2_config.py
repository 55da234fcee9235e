"""Open-MAGVIT2 configuration (torch-free, so that cards are readable without torch)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class MagvitConfig:
    """The official ``ddconfig`` and quantiser size (configs/Open-MAGVIT2/gpu/
    imagenet_lfqgan_256_L.yaml: ch 128, ch_mult [1,1,2,2,4], 4 res blocks, z 18, 2^18 codes)."""

    ch: int = 128
    ch_mult: tuple[int, ...] = (1, 1, 2, 2, 4)
    num_res_blocks: int = 4
    z_channels: int = 18  # = embed_dim = log2(n_embed): one bit per channel
    image_size: int = 256

    @property
    def factor(self) -> int:
        return 2 ** (len(self.ch_mult) - 1)

    @property
    def grid(self) -> int:
        return self.image_size // self.factor

    @property
    def num_tokens(self) -> int:
        return self.grid**2

    @property
    def codebook_size(self) -> int:
        return 2**self.z_channels


CONFIG = MagvitConfig()
