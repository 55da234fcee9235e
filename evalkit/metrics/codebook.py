"""Codebook statistics of a discrete tokenizer, from a summable histogram of token ids."""

from __future__ import annotations

import numpy as np


def usage(counts: np.ndarray) -> float:
    """Fraction of codebook entries used at least once."""
    counts = np.asarray(counts)
    return float((counts > 0).mean())


def entropy(counts: np.ndarray) -> float:
    """Shannon entropy (bits) of the token distribution; log2(codebook size) at most."""
    counts = np.asarray(counts, dtype=np.float64)
    p = counts / counts.sum()
    p = p[p > 0]
    return float(-(p * np.log2(p)).sum())
