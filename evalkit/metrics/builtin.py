"""Factories for the built-in per-sample metrics: wrappers, so each carries its registry facts.

The computations stay in :mod:`evalkit.metrics.pixel` and :mod:`evalkit.metrics.codebook`;
these factories add id, direction, units, version and library for ``catalog.metrics``.
"""

from __future__ import annotations

from typing import Any

from evalkit.metrics.base import Metric


def _takes_no_options(metric_id: str, options: dict[str, Any]) -> None:
    if options:
        raise ValueError(f"metric {metric_id!r} takes no options, got {sorted(options)}")


def pixel(metric_id: str, **options: Any) -> Metric:
    """A :class:`~evalkit.metrics.pixel.SampleMetric` of ``evalkit.metrics.pixel`` by its id."""
    _takes_no_options(metric_id, options)
    from evalkit.metrics import pixel as module

    fn = getattr(module, metric_id, None)
    if not isinstance(fn, module.SampleMetric):
        raise ValueError(f"evalkit.metrics.pixel has no per-sample metric {metric_id!r}")
    return Metric(
        id=metric_id,
        compute=fn,
        higher_is_better=fn.higher_is_better,
        version=fn.version,
        units=fn.unit or "1",
        library=getattr(fn, "library", "scikit-image"),
        kind="sample",
        description=(module.__doc__ or "").strip().splitlines()[0],
    )


def codebook(metric_id: str, **options: Any) -> Metric:
    """``codebook_usage`` / ``code_entropy`` of a histogram of discrete token ids."""
    _takes_no_options(metric_id, options)
    from evalkit.metrics import codebook as module

    fns = {"codebook_usage": (module.usage, "fraction"), "code_entropy": (module.entropy, "bits")}
    if metric_id not in fns:
        raise ValueError(f"unknown codebook metric {metric_id!r}; known: {sorted(fns)}")
    fn, units = fns[metric_id]
    return Metric(
        id=metric_id,
        compute=fn,
        higher_is_better=True,
        version="1",
        units=units,
        library="numpy",
        kind="distribution",
        description=(fn.__doc__ or "").strip(),
    )


def _mean_fraction(verdicts: Any) -> float:
    import numpy as np

    values = np.asarray(verdicts, dtype=np.float64)
    return float(values.mean()) if values.size else float("nan")


def _mean_percent(verdicts: Any) -> float:
    return 100.0 * _mean_fraction(verdicts)


def judged(metric_id: str, **options: Any) -> Metric:
    """Aggregates of a judge's per-image verdicts or scores (GenEval, VISOR, T2I-CompBench,
    DetailMaster): the mean of 0/1 verdicts or [0, 1] scores, as a fraction or in percent.

    The benchmark's card names which rule produced the verdicts; this metric only averages them.
    """
    _takes_no_options(metric_id, options)
    kinds = {
        "accuracy": (_mean_fraction, "fraction"),
        "accuracy_percent": (_mean_percent, "percent"),
        "judge_score": (_mean_fraction, "fraction"),
    }
    if metric_id not in kinds:
        raise ValueError(f"unknown judged metric {metric_id!r}; known: {sorted(kinds)}")
    fn, units = kinds[metric_id]
    return Metric(
        id=metric_id,
        compute=fn,
        higher_is_better=True,
        version="1",
        units=units,
        library="numpy",
        kind="sample",
        description=(judged.__doc__ or "").split("\n")[0],
    )


def rate(metric_id: str, **options: Any) -> Metric:
    """Bits (or latent values) per pixel of a reconstruction, recorded by the runner."""
    _takes_no_options(metric_id, options)
    units = {"bpp": "bits/pixel", "latent_values_per_pixel": "values/pixel"}
    if metric_id not in units:
        raise ValueError(f"unknown rate metric {metric_id!r}; known: {sorted(units)}")
    return Metric(
        id=metric_id,
        compute=_mean_fraction,
        higher_is_better=False,
        version="1",
        units=units[metric_id],
        library="evalkit",
        kind="sample",
        description="mean over samples of the per-image rate (evalkit.rate)",
    )
