"""How far per-image scores agree with a benchmark's verdicts: Spearman per prompt.

Per prompt: the share of its images the benchmark judged correct, and each score's mean over
the same images; then Spearman's rank correlation across prompts (scipy), one row per score.
Written beside the run's records as ``agreement.csv`` and ``agreement.svg`` (a bar per score).
A score that ranks prompts as the benchmark does gets rho near 1; rho is NaN when either side
is constant over the prompts (nothing to rank).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from evalkit.scores.extra import column


def table(
    records: pd.DataFrame, verdict: str, score_ids: Sequence[str], unit: str = "prompt_index"
) -> pd.DataFrame:
    """One row per score: spearman, p_value, prompts (how many were ranked)."""
    import numpy as np
    from scipy.stats import spearmanr

    rows = []
    for score_id in score_ids:
        col = column(score_id)
        frame = records[[unit, verdict, col]].dropna()
        per_prompt = frame.assign(**{verdict: frame[verdict].astype(float)}).groupby(unit).mean()
        n = len(per_prompt)
        constant = n < 2 or per_prompt[verdict].nunique() < 2 or per_prompt[col].nunique() < 2
        if constant:
            rho, p = float("nan"), float("nan")
        else:
            result = spearmanr(per_prompt[verdict], per_prompt[col])
            rho, p = float(result.statistic), float(result.pvalue)
        rows.append({"score": score_id, "spearman": rho, "p_value": p, "prompts": n})
    out = pd.DataFrame(rows, columns=["score", "spearman", "p_value", "prompts"])
    out["spearman"] = out["spearman"].astype(np.float64)
    return out


def svg(agreement: pd.DataFrame, title: str) -> str:
    """A bar per score (rho in [-1, 1]), its prompt count on the bar."""
    import io

    import matplotlib
    from matplotlib.figure import Figure

    fig = Figure(figsize=(1.2 + 1.1 * max(1, len(agreement)), 3.2))
    ax = fig.subplots()
    ax.bar(agreement["score"], agreement["spearman"].fillna(0.0), color="#4c72b0")
    for i, row in enumerate(agreement.itertuples()):
        label = "n/a" if row.spearman != row.spearman else f"{row.spearman:.2f}"
        ax.annotate(f"{label}\n{row.prompts} prompts", (i, 0), ha="center", va="bottom", size=7)
    ax.set_ylim(-1, 1)
    ax.axhline(0, color="black", linewidth=0.6)
    ax.set_ylabel("Spearman rho (per prompt)")
    ax.set_title(title, fontsize=9)
    fig.tight_layout()
    buf = io.StringIO()
    with matplotlib.rc_context({"svg.fonttype": "none", "svg.hashsalt": "evalkit"}):
        fig.savefig(buf, format="svg", metadata={"Date": None})  # stable, text stays text
    return buf.getvalue()


def write(
    run_dir: Path,
    records: pd.DataFrame,
    verdict: str,
    score_ids: Sequence[str],
    unit: str = "prompt_index",
) -> Path:
    """``agreement.csv`` and ``agreement.svg`` in ``run_dir``; returns the CSV's path."""
    agreement = table(records, verdict, score_ids, unit)
    run_dir.mkdir(parents=True, exist_ok=True)
    path = run_dir / "agreement.csv"
    agreement.to_csv(path, index=False)
    title = f"per-image scores vs the benchmark's '{verdict}' verdicts"
    (run_dir / "agreement.svg").write_text(svg(agreement, title))
    return path
