"""Factories for the built-in per-sample metrics: wrappers, so each carries its registry facts.

The computations stay in :mod:`evalkit.metrics.pixel` and :mod:`evalkit.metrics.codebook`;
these factories add id, direction, units, version and library for ``catalog.metrics``.
"""

from __future__ import annotations

from typing import Any

from evalkit.metrics.base import Metric


def pixel(metric_id: str, **options: Any) -> Metric:
    """A :class:`~evalkit.metrics.pixel.SampleMetric` of ``evalkit.metrics.pixel`` by its id."""
    if options:
        raise ValueError(f"metric {metric_id!r} takes no options, got {sorted(options)}")
    from evalkit.metrics import pixel as module

    fn = getattr(module, metric_id, None)
    if not isinstance(fn, module.SampleMetric):
        raise ValueError(f"evalkit.metrics.pixel has no per-sample metric {metric_id!r}")
    return Metric(
        id=metric_id, compute=fn, higher_is_better=fn.higher_is_better, version=fn.version,
        units=fn.unit or "1", library=getattr(fn, "library", "scikit-image"), kind="sample",
        description=(module.__doc__ or "").strip().splitlines()[0],
    )


def codebook(metric_id: str, **options: Any) -> Metric:
    """``codebook_usage`` / ``code_entropy`` of a histogram of discrete token ids."""
    if options:
        raise ValueError(f"metric {metric_id!r} takes no options, got {sorted(options)}")
    from evalkit.metrics import codebook as module

    fns = {"codebook_usage": (module.usage, "fraction"), "code_entropy": (module.entropy, "bits")}
    if metric_id not in fns:
        raise ValueError(f"unknown codebook metric {metric_id!r}; known: {sorted(fns)}")
    fn, units = fns[metric_id]
    return Metric(id=metric_id, compute=fn, higher_is_better=True, version="1", units=units,
                  library="numpy", kind="distribution", description=(fn.__doc__ or "").strip())
