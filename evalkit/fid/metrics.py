"""Registry factories for the distribution metrics (FID, KID, precision/recall, IS, FD-DINOv2,
sFID, CMMD, density/coverage).

Each computes from what one Inception pass produced (summable statistics, per-image features or
logit state), so the runner can shard and merge; features come from torch-fidelity's
``inception-v3-compat`` network (:mod:`evalkit.fid.inception`).
"""

from __future__ import annotations

from typing import Any

from evalkit.metrics.base import Metric

FEATURES = "torch-fidelity"  # the library whose Inception network gives the features


def _fid(a: Any, b: Any) -> float:
    from evalkit.fid.stats import fid_from_stats

    return fid_from_stats(a, b)


def _kid(a: Any, b: Any, **kw: Any) -> tuple[float, float, int]:
    from evalkit.fid.kid import kid

    return kid(a, b, **kw)


def _precision(real: Any, fake: Any, **kw: Any) -> float:
    from evalkit.fid.prdc import precision_recall

    return precision_recall(real, fake, **kw)[0]


def _recall(real: Any, fake: Any, **kw: Any) -> float:
    from evalkit.fid.prdc import precision_recall

    return precision_recall(real, fake, **kw)[1]


def _fd(a: Any, b: Any) -> float:
    from evalkit.fid.stats import fid_from_stats

    return fid_from_stats(a, b)


def _cmmd(a: Any, b: Any) -> float:
    from evalkit.fid.cmmd import mmd

    return mmd(a, b)


def _density(real: Any, fake: Any, **kw: Any) -> float:
    from evalkit.fid.prdc import density_coverage

    return density_coverage(real, fake, **kw)[0]


def _coverage(real: Any, fake: Any, **kw: Any) -> float:
    from evalkit.fid.prdc import density_coverage

    return density_coverage(real, fake, **kw)[1]


def _is(state: dict[str, Any]) -> float:
    from evalkit.fid.isc import isc_from_state

    return isc_from_state(state)[0]


_TABLE = {
    # id: (compute, higher_is_better, units, description[, library])
    "fid": (_fid, False, "FID", "Frechet distance of Inception pool features (float64 stats)"),
    "kid": (_kid, False, "KID", "unbiased MMD^2, cubic polynomial kernel, random subsets"),
    "precision": (_precision, True, "fraction", "improved precision, k=3 (ADM evaluator)"),
    "recall": (_recall, True, "fraction", "improved recall, k=3 (ADM evaluator)"),
    "is": (_is, True, "IS", "Inception Score, 10 splits (online Inception weights only)"),
    "fd_dinov2": (
        _fd,
        False,
        "FD",
        "Frechet distance of DINOv2 ViT-L/14 CLS features, dgm-eval preprocessing",
        "timm",
    ),
    "sfid": (_fd, False, "sFID", "Frechet distance of ADM's mixed_6/conv[:7] features"),
    "cmmd": (
        _cmmd,
        False,
        "CMMD",
        "RBF MMD^2 (sigma 10, x1000) of CLIP ViT-L/14@336 embeddings",
        "open_clip",
    ),
    "density": (_density, True, "ratio", "density (Naeem et al.), k=5, prdc's definition"),
    "coverage": (_coverage, True, "fraction", "coverage (Naeem et al.), k=5, prdc's definition"),
}


def build(metric_id: str, **options: Any) -> Metric:
    """``catalog.metrics`` factory for the distribution metrics of :data:`_TABLE`."""
    if options:
        raise ValueError(f"metric {metric_id!r} takes no options, got {sorted(options)}")
    if metric_id not in _TABLE:
        raise ValueError(f"unknown distribution metric {metric_id!r}; known: {sorted(_TABLE)}")
    from evalkit.fid.refcache import CODE_VERSION

    fn, hib, units, desc, *library = _TABLE[metric_id]
    return Metric(
        id=metric_id,
        compute=fn,
        higher_is_better=hib,
        version=CODE_VERSION,
        units=units,
        library=library[0] if library else FEATURES,
        kind="distribution",
        description=desc,
    )
