"""TokBench metrics and the official binned aggregation (bins: ``benchmarks/tokbench/card.toml``).

Facts (see ``shared/protocols/tokbench.md``): T-ACC is case-sensitive exact match of raw strings;
T-NED is ``1 - lev(gt, pred) / max(len(gt), len(pred))``; instances are binned on their ``ratio``
with half-open ``[lo, hi)`` bins per setting; "mean" is the unweighted mean of the three bin means.

Nothing is dropped silently. Instances below the lowest bound (or at/above the top bound 1.0)
are reported in extra ``below``/``above`` rows with their count and mean, and are excluded from
the three bins and from ``mean`` exactly as the official aggregation excludes them. Text
instances marked ``official_skip`` (their official batch is skipped by eval_text.py: a GT word
outside docTR's vocab; card quirk) are excluded from every other row and counted in a
``skipped`` row.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

import numpy as np
import pandas as pd
from rapidfuzz.distance import Levenshtein

from evalkit.cards import load_card
from evalkit.metrics.base import Metric


def _bins() -> dict[str, dict[int, tuple[float, float, float, float]]]:
    bins = load_card("tokbench")["bins"]
    return {
        kind: {int(res): tuple(edges) for res, edges in bins[kind].items()}  # type: ignore[misc]
        for kind in ("text", "face")
    }


# [lo, hi) edges per setting: small, medium, large. The one copy is benchmarks/tokbench/card.toml.
BINS: dict[str, dict[int, tuple[float, float, float, float]]] = _bins()
BIN_NAMES: tuple[str, str, str] = tuple(load_card("tokbench")["bins"]["names"])  # type: ignore[assignment]
METRICS_BY_KIND: dict[str, tuple[str, ...]] = {"text": ("t_acc", "t_ned"), "face": ("f_sim",)}


def t_acc(gt: str, pred: str) -> float:
    """Word accuracy: 1.0 when the raw strings are equal (case-sensitive), else 0.0."""
    return 1.0 if gt == pred else 0.0


def t_ned(gt: str, pred: str) -> float:
    """1 - normalised Levenshtein distance (raw, case-sensitive); 1.0 for two empty strings."""
    longest = max(len(gt), len(pred))
    if longest == 0:
        return 1.0
    return 1.0 - Levenshtein.distance(gt, pred) / longest


def edges(kind: str, resolution: int) -> tuple[float, float, float, float]:
    """The bin edges of ``kind`` ('text' or 'face') at ``resolution`` (256, 512 or 1024)."""
    try:
        return BINS[kind][int(resolution)]
    except KeyError:
        raise ValueError(
            f"TokBench has no {kind!r} bins for resolution {resolution}; "
            f"choose one of {sorted(BINS['text'])}"
        ) from None


def bin_of(ratio: float, kind: str, resolution: int) -> str:
    """Which bin a ratio falls in: 'small'/'medium'/'large', or 'below'/'above' (not binned)."""
    e = edges(kind, resolution)
    if not ratio >= e[0]:  # also catches NaN
        return "below"
    for name, lo, hi in zip(BIN_NAMES, e[:-1], e[1:], strict=True):
        if lo <= ratio < hi:
            return name
    return "above"


def bins_of(ratios: Iterable[float], kind: str, resolution: int) -> list[str]:
    return [bin_of(float(r), kind, resolution) for r in ratios]


def _mean(values: np.ndarray) -> float:
    return float(np.mean(values)) if len(values) else math.nan


def summarize(instances: pd.DataFrame, resolution: int) -> pd.DataFrame:
    """Tidy table of (metric, bin, value, n) from per-instance values, as the official script.

    ``instances`` has columns ``kind`` ('text' | 'face'), ``ratio`` and ``t_acc``/``t_ned`` (text)
    or ``f_sim`` (face). Rows: per metric the bins small/medium/large (n = instances in the bin),
    ``mean`` (unweighted mean of the three bin means; n = instances in the three bins), and
    ``below``/``above`` (not in any bin: counted, not averaged into ``mean``). A metric whose kind
    has no instance is omitted; an empty bin has value NaN and n 0.

    With an ``official_skip`` column (bool per instance), the text instances it marks are left
    out of all those rows, as the official script leaves their batches out, and a ``skipped`` row
    gives their count (n, also when 0) and the mean of their values.
    """
    rows: list[dict[str, object]] = []
    for kind, metrics in METRICS_BY_KIND.items():
        sub = instances[instances["kind"] == kind]
        if sub.empty:
            continue
        skipped = None
        if kind == "text" and "official_skip" in sub.columns:
            marked = sub["official_skip"].fillna(False).astype(bool).to_numpy()
            skipped, sub = sub[marked], sub[~marked]
        labels = np.array(bins_of(sub["ratio"].to_numpy(dtype=float), kind, resolution))
        for metric in metrics:
            if metric not in sub.columns:
                raise ValueError(f"{kind} instances need a {metric!r} column")
            values = sub[metric].to_numpy(dtype=float)
            if np.isnan(values).any():
                raise ValueError(f"{metric} has NaN values: every instance must be scored")
            means = []
            for name in BIN_NAMES:
                v = values[labels == name]
                means.append(_mean(v))
                rows.append({"metric": metric, "bin": name, "value": means[-1], "n": len(v)})
            n_binned = int(np.isin(labels, BIN_NAMES).sum())
            rows.append(
                {"metric": metric, "bin": "mean", "value": float(np.mean(means)), "n": n_binned}
            )
            for extra in ("below", "above"):
                v = values[labels == extra]
                if extra == "below" or len(v):
                    rows.append({"metric": metric, "bin": extra, "value": _mean(v), "n": len(v)})
            if skipped is not None:
                v = skipped[metric].to_numpy(dtype=float)
                rows.append({"metric": metric, "bin": "skipped", "value": _mean(v), "n": len(v)})
    return pd.DataFrame(rows, columns=["metric", "bin", "value", "n"])


def _f_sim(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    from evalkit.benchmarks.tokbench.judges.base import cosine

    return cosine(a, b)


def metric(metric_id: str, **options: object) -> Metric:
    """``catalog.metrics`` factory for t_acc, t_ned (per text instance) and f_sim (per face)."""
    if options:
        raise ValueError(f"metric {metric_id!r} takes no options, got {sorted(options)}")
    table = {
        "t_acc": (t_acc, "fraction", "python", "case-sensitive exact word match"),
        "t_ned": (t_ned, "fraction", "rapidfuzz", "1 - normalised Levenshtein distance"),
        "f_sim": (_f_sim, "cosine", "numpy", "cosine of face-identity embeddings"),
    }
    if metric_id not in table:
        raise ValueError(f"unknown TokBench metric {metric_id!r}; known: {sorted(table)}")
    fn, units, library, desc = table[metric_id]
    return Metric(
        id=metric_id,
        compute=fn,
        higher_is_better=True,
        version="1",
        units=units,
        library=library,
        kind="instance",
        description=desc,
    )
