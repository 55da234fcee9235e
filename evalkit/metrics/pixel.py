"""Per-sample pixel metrics on uint8 RGB images, computed by scikit-image (a well-kept reference).

Both are computed on the quantised uint8 images that a user would save, with data_range 255.
PSNR of identical images is +inf (reported as such, never capped); means over samples follow.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class SampleMetric:
    """A per-sample metric: f(reference, candidate) -> float, both uint8 HxWx3."""

    name: str
    version: str
    higher_is_better: bool
    fn: Callable[[np.ndarray, np.ndarray], float]
    unit: str = ""
    library: str = "scikit-image"  # what computes it (reported by the metric registry)

    def __call__(self, reference: np.ndarray, candidate: np.ndarray) -> float:
        if reference.shape != candidate.shape:
            raise ValueError(f"{self.name}: shapes differ {reference.shape} vs {candidate.shape}")
        if reference.dtype != np.uint8 or candidate.dtype != np.uint8:
            raise TypeError(f"{self.name}: expects uint8, got {reference.dtype}/{candidate.dtype}")
        return float(self.fn(reference, candidate))


def _psnr(reference: np.ndarray, candidate: np.ndarray) -> float:
    from skimage.metrics import peak_signal_noise_ratio

    if np.array_equal(reference, candidate):
        return float("inf")  # skimage divides by zero here; the answer is exact
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return peak_signal_noise_ratio(reference, candidate, data_range=255)


def _ssim(reference: np.ndarray, candidate: np.ndarray) -> float:
    from skimage.metrics import structural_similarity

    return structural_similarity(reference, candidate, data_range=255, channel_axis=-1)


psnr = SampleMetric("psnr", "skimage-1", True, _psnr, "dB")
ssim = SampleMetric("ssim", "skimage-1", True, _ssim)
