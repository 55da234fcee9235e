"""Per-sample randomness for stochastic tokenizers (VAE posterior sampling).

A sample's noise must depend on that sample alone, never on its batch or its position in one:
otherwise ``--batch-size`` changes results. The runner passes one seed per sample, derived from
the run seed and the sample id (:func:`evalkit.seeding.sample_seed`); direct API calls without
seeds fall back to a seed derived from the adapter's seed and the image's own bytes. Noise is
drawn on the CPU, so it does not depend on the device either.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

import torch


def content_seeds(images: torch.Tensor, seed: int) -> list[int]:
    """One seed per image from ``seed`` and the image's bytes (for calls without sample ids)."""
    out = []
    for im in images.detach().to("cpu", torch.float32).contiguous():
        h = hashlib.sha256(f"{seed}:".encode())
        h.update(im.numpy().tobytes())
        out.append(int.from_bytes(h.digest()[:8], "little") & (2**63 - 1))
    return out


def per_sample_normal(shape: Sequence[int], seeds: Sequence[int]) -> torch.Tensor:
    """Standard normal noise of ``shape`` (N, ...), row i drawn from a generator seeded seeds[i]."""
    if len(seeds) != shape[0]:
        raise ValueError(f"{len(seeds)} seeds for a batch of {shape[0]}")
    return torch.stack(
        [
            torch.randn(tuple(shape[1:]), generator=torch.Generator().manual_seed(int(s)))
            for s in seeds
        ]
    )
