"""TokBench: text (T-ACC, T-NED) and face (F-Sim) fidelity of image reconstructions.

Public API: :func:`t_acc`, :func:`t_ned`, :func:`summarize` (the official binned aggregation),
``BINS``; the benchmark itself is :class:`evalkit.benchmarks.tokbench.benchmark.TokBench`
(registry ids ``tokbench`` and ``tokbench-mini``), imported lazily because it loads judges.
"""

from __future__ import annotations

from evalkit.benchmarks.tokbench.metrics import BIN_NAMES, BINS, bin_of, summarize, t_acc, t_ned

__all__ = ["BINS", "BIN_NAMES", "bin_of", "summarize", "t_acc", "t_ned"]
