"""Rate of a reconstruction: bits per pixel for codecs and discrete tokenizers, latent values per
pixel for continuous ones. Recorded per sample by the runner and summarised as a row, so
rate-distortion plots need nothing but the leaderboard.

- codecs: the encoded size of each image (``last_bits``), or 24 / N^2 for ``resize-xN``;
- discrete tokenizers: tokens x log2(codebook size) / pixels (the index cost, no entropy coding;
  a 2D ``"16x"`` tokenizer has one token per 16 x 16 patch at any image size); a card whose
  tokens are not one index each (UniTok's eight sub-codes per token) states the bits of one
  image's indices at its resolution as ``extra["index_bits"]``;
- continuous tokenizers: latent values / pixels (channels / f^2 for an f-times 2D latent, or
  tokens x channels / pixels for 1D latents): not bits, so it is a separate metric on its own axis.
"""

from __future__ import annotations

import math
import re
from typing import Any

import numpy as np

from evalkit.types import ModelCard

BPP = "bpp"
LATENT_VALUES = "latent_values_per_pixel"


def sample_rates(
    model: Any, card: ModelCard, height: int, width: int, n: int
) -> tuple[str, list[float]] | None:
    """(metric id, one rate per image) for a batch of ``n`` images just reconstructed, or None."""
    pixels = float(height * width)
    bits = getattr(model, "last_bits", None)
    if bits is not None:
        if len(bits) != n:
            raise ValueError(f"model {card.id!r} reported {len(bits)} sizes for {n} images")
        return BPP, [b / pixels for b in bits]
    index_bits = card.extra.get("index_bits") if card.discrete else None
    if index_bits:
        return BPP, [float(index_bits) / pixels] * n
    if card.discrete and card.codebook_size and (tokens := _discrete_tokens(card, height, width)):
        return BPP, [tokens * math.log2(card.codebook_size) / pixels] * n
    if card.discrete is False and card.latent_channels:
        if card.num_tokens:  # 1D latent tokens
            return LATENT_VALUES, [card.num_tokens * card.latent_channels / pixels] * n
        factor = _spatial_factor(card.compression)
        if factor:
            return LATENT_VALUES, [card.latent_channels / factor**2] * n
    return None


def _discrete_tokens(card: ModelCard, height: int, width: int) -> int | None:
    """Tokens of one image: one per f x f patch for a 2D (``"16x"``) tokenizer, whatever the
    image size; otherwise the card's fixed count."""
    factor = _spatial_factor(card.compression)
    if factor:
        return (height // factor) * (width // factor)
    return card.num_tokens


def _spatial_factor(compression: str | None) -> int | None:
    match = re.fullmatch(r"(\d+)x", compression or "")
    return int(match.group(1)) if match else None


def summarize(records: Any) -> list[tuple[str, float, int]]:
    """(metric, mean over samples, n) for each rate column present in per-sample records."""
    out = []
    for metric in (BPP, LATENT_VALUES):
        if metric not in getattr(records, "columns", ()):
            continue
        per_sample = records.drop_duplicates("sample_id")[metric].dropna()
        if len(per_sample):
            out.append(
                (
                    metric,
                    float(np.mean(per_sample.to_numpy(dtype=np.float64))),
                    int(len(per_sample)),
                )
            )
    return out
