"""Per-sample pixel metrics on uint8 RGB images, computed by scikit-image (a well-kept reference).

All are computed on the quantised uint8 images that a user would save, with data_range 255.

- ``psnr``: PSNR of identical images is +inf (reported as such, never capped). How per-sample
  values become rows is :func:`psnr_rows`, one rule for every benchmark (leaderboards/SCHEMA.md).
- ``ssim``: SSIM as Wang et al. (2004) define it: 11x11 Gaussian window with sigma 1.5, population
  covariance, the paper's K1/K2. These are the settings scikit-image documents as matching the
  paper (``gaussian_weights=True, sigma=1.5, use_sample_covariance=False``); channels averaged.
- ``ssim_uniform7``: scikit-image's default instead (7x7 uniform window, sample covariance), which
  earlier evalkit versions reported as ``ssim`` (metric version ``skimage-1``).
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from evalkit.benchmarks.base import MetricValue


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


def _ssim_wang(reference: np.ndarray, candidate: np.ndarray) -> float:
    from skimage.metrics import structural_similarity

    return structural_similarity(
        reference,
        candidate,
        data_range=255,
        channel_axis=-1,
        gaussian_weights=True,
        sigma=1.5,
        use_sample_covariance=False,
    )


def _ssim_uniform7(reference: np.ndarray, candidate: np.ndarray) -> float:
    from skimage.metrics import structural_similarity

    return structural_similarity(reference, candidate, data_range=255, channel_axis=-1)


psnr = SampleMetric("psnr", "skimage-1", True, _psnr, "dB")
ssim = SampleMetric("ssim", "wang2004-gauss1.5-skimage-2", True, _ssim_wang)
ssim_uniform7 = SampleMetric("ssim_uniform7", "skimage-1", True, _ssim_uniform7)


def psnr_rows(values: Sequence[float] | np.ndarray, **common: object) -> list[MetricValue]:
    """The one PSNR rule (SCHEMA.md): three rows from per-sample PSNRs.

    ``psnr``: mean over all samples, so +inf when any reconstruction is identical; n = all.
    ``psnr_finite``: mean over the finite values only, n = how many (NaN when none are finite).
    ``n_identical``: how many samples were identical (PSNR +inf); n = all.
    ``common`` is passed to every :class:`MetricValue` (subset, bin, judge...).
    """
    from evalkit.benchmarks.base import MetricValue

    v = np.asarray(values, dtype=np.float64)
    if np.isnan(v).any() or (v == -np.inf).any():
        raise ValueError("psnr: per-sample values must be finite or +inf")
    finite = v[np.isfinite(v)]
    n_identical = int(len(v) - len(finite))
    mean_all = float(v.mean()) if len(v) else float("nan")
    mean_finite = float(finite.mean()) if len(finite) else float("nan")
    ver = psnr.version
    return [
        MetricValue("psnr", mean_all, len(v), True, metric_version=ver, **common),  # type: ignore[arg-type]
        MetricValue("psnr_finite", mean_finite, len(finite), True, metric_version=ver, **common),  # type: ignore[arg-type]
        MetricValue("n_identical", float(n_identical), len(v), True, metric_version=ver, **common),  # type: ignore[arg-type]
    ]
