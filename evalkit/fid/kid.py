"""Kernel Inception Distance: unbiased MMD^2 with the cubic polynomial kernel over random subsets.

Subsets are drawn as torch-fidelity draws them (``numpy.random.RandomState(seed).choice`` without
replacement, first set then second per subset) so the two agree on the same features.
"""

from __future__ import annotations

import numpy as np


def _poly(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    return (x @ y.T / x.shape[1] + 1.0) ** 3


def mmd2_unbiased(x: np.ndarray, y: np.ndarray) -> float:
    m = len(x)
    kxx, kyy, kxy = _poly(x, x), _poly(y, y), _poly(x, y)
    sxx = kxx.sum() - np.trace(kxx)
    syy = kyy.sum() - np.trace(kyy)
    return float((sxx + syy) / (m * (m - 1)) - 2 * kxy.sum() / (m * m))


def kid(
    feats1: np.ndarray,
    feats2: np.ndarray,
    subsets: int = 100,
    subset_size: int = 1000,
    seed: int = 2020,
) -> tuple[float, float, int]:
    """(mean, std, subset size actually used) of MMD^2 over ``subsets`` random subsets.

    When a set is smaller than ``subset_size`` the subset shrinks to the smaller set's size (the
    size used is returned so the row can say so) instead of failing.
    """
    n1, n2 = len(feats1), len(feats2)
    size = min(subset_size, n1, n2)
    if size < 2:
        raise ValueError(f"KID needs at least 2 samples per set, have {n1} and {n2}")
    rng = np.random.RandomState(seed)
    vals = np.empty(subsets)
    for i in range(subsets):
        a = feats1[rng.choice(n1, size, replace=False)]
        b = feats2[rng.choice(n2, size, replace=False)]
        vals[i] = mmd2_unbiased(np.asarray(a, np.float64), np.asarray(b, np.float64))
    return float(vals.mean()), float(vals.std()), size
