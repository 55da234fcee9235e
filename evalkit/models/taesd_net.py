"""The TAESD-family network (torch): our implementation of madebyollin/taesd's architecture.

Module names follow the official ``nn.Sequential`` layout so that the official ``*_encoder.pth`` /
``*_decoder.pth`` files load strictly. Facts: see :mod:`evalkit.models.taesd` (kept torch-free,
so that its cards can be read without torch).
"""

from __future__ import annotations

from collections.abc import Mapping

import torch
from torch import nn

# --- architecture ------------------------------------------------------------------------------


def _conv3(n_in: int, n_out: int, stride: int = 1, bias: bool = True) -> nn.Conv2d:
    return nn.Conv2d(n_in, n_out, 3, stride=stride, padding=1, bias=bias)


class SoftClamp(nn.Module):
    """Squashes latents into (-3, 3) before decoding, as the official decoder does."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return 3.0 * torch.tanh(x / 3.0)


class ResBlock(nn.Module):
    """Three 3x3 convs with a residual; optionally a global group-norm branch first (TAEF2).

    Attribute names (``conv``, ``skip``, ``fuse``, ``pool``) are the official ones.
    """

    def __init__(self, width: int, midblock_gn: bool = False) -> None:
        super().__init__()
        self.conv = nn.Sequential(
            _conv3(width, width), nn.ReLU(), _conv3(width, width), nn.ReLU(), _conv3(width, width)
        )
        self.skip = nn.Identity()  # in == out everywhere in these models: no 1x1 projection
        self.fuse = nn.ReLU()
        self.pool: nn.Module | None = None
        if midblock_gn:
            hidden = 4 * width
            self.pool = nn.Sequential(
                nn.Conv2d(width, hidden, 1, bias=False),
                nn.GroupNorm(4, hidden),
                nn.ReLU(),
                nn.Conv2d(hidden, width, 1, bias=False),
            )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.pool is not None:
            x = x + self.pool(x)
        return self.fuse(self.conv(x) + self.skip(x))


def make_encoder(latent_channels: int, width: int = 64, midblock_gn: bool = False) -> nn.Sequential:
    """RGB [0, 1] -> latents at 1/8 size: stem, then three (stride-2 conv, 3 blocks) stages."""
    layers: list[nn.Module] = [_conv3(3, width), ResBlock(width)]
    for stage in range(3):
        gn = midblock_gn and stage == 2  # only the lowest resolution has the GN branch
        layers.append(_conv3(width, width, stride=2, bias=False))
        layers.extend(ResBlock(width, gn) for _ in range(3))
    layers.append(_conv3(width, latent_channels))
    return nn.Sequential(*layers)


def make_decoder(latent_channels: int, width: int = 64, midblock_gn: bool = False) -> nn.Sequential:
    """Latents -> RGB (clamp to [0, 1]): soft clamp, three (3 blocks, upsample, conv) stages."""
    layers: list[nn.Module] = [SoftClamp(), _conv3(latent_channels, width), nn.ReLU()]
    for stage in range(3):
        gn = midblock_gn and stage == 0
        layers.extend(ResBlock(width, gn) for _ in range(3))
        layers.append(nn.Upsample(scale_factor=2))  # nearest, as in the official model
        layers.append(_conv3(width, width, bias=False))
    layers.extend([ResBlock(width), _conv3(width, 3)])
    return nn.Sequential(*layers)


class TinyAutoencoder(nn.Module):
    """Encoder + decoder pair; ``width`` is 64 in every released model (smaller for tests)."""

    def __init__(self, latent_channels: int, width: int = 64, midblock_gn: bool = False) -> None:
        super().__init__()
        self.encoder = make_encoder(latent_channels, width, midblock_gn)
        self.decoder = make_decoder(latent_channels, width, midblock_gn)

    def load_official(
        self, encoder_sd: Mapping[str, torch.Tensor], decoder_sd: Mapping[str, torch.Tensor]
    ) -> None:
        """Load the official encoder/decoder state dicts strictly (fp16 files become fp32)."""
        self.encoder.load_state_dict(dict(encoder_sd), strict=True)
        self.decoder.load_state_dict(dict(decoder_sd), strict=True)
