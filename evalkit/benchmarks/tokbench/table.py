"""TokBench's own table layout: T-ACC S/M/L/Mean | T-NED S/M/L/Mean | F-Sim S/M/L/Mean.

One markdown table per resolution, one row per model (T-ACC and T-NED in percent, F-Sim as a
0-1 similarity, two decimals, as the official leaderboard). Where rows carry a ``reported`` value
(the official leaderboard's, in our units) a "(reported)" row follows the model's row.
"""

from __future__ import annotations

import math

import pandas as pd

_BINS = ("small", "medium", "large", "mean")
_METRICS = (("t_acc", "T-ACC", 100.0), ("t_ned", "T-NED", 100.0), ("f_sim", "F-Sim", 1.0))


def _fmt(v: object, scale: float) -> str:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "–"
    return f"{float(v) * scale:.2f}"


def render_table(rows_df: pd.DataFrame) -> str:
    """Markdown for leaderboard rows with columns model (or model_id), resolution, metric, bin,
    value and optionally reported (or reported_value); other metrics/bins (e.g. 'below') are
    ignored."""
    model_col = "model" if "model" in rows_df.columns else "model_id"
    if "reported" not in rows_df.columns and "reported_value" in rows_df.columns:
        rows_df = rows_df.rename(columns={"reported_value": "reported"})  # run-record name
    df = rows_df[rows_df["metric"].isin([m for m, _, _ in _METRICS]) & rows_df["bin"].isin(_BINS)]
    header = ["Method"] + [f"{label} {b[0].upper() if b != 'mean' else 'Mean'}"
                           for _, label, _ in _METRICS for b in _BINS]  # fmt: skip
    out: list[str] = []
    for res in sorted(df["resolution"].unique()):
        sub = df[df["resolution"] == res]
        out += [f"### TokBench {int(res)}", "", "| " + " | ".join(header) + " |",
                "|" + "---|" * len(header)]  # fmt: skip
        for model in dict.fromkeys(sub[model_col]):  # keep first-seen order
            m = sub[sub[model_col] == model]
            cells = {(r.metric, r.bin): r for r in m.itertuples(index=False)}
            ours = [_fmt(getattr(cells.get((k, b)), "value", None), s)
                    for k, _, s in _METRICS for b in _BINS]  # fmt: skip
            out.append("| " + " | ".join([str(model), *ours]) + " |")
            if "reported" in m.columns and m["reported"].notna().any():
                rep = [_fmt(getattr(cells.get((k, b)), "reported", None), s)
                       for k, _, s in _METRICS for b in _BINS]  # fmt: skip
                out.append("| " + " | ".join([f"{model} (reported)", *rep]) + " |")
        out.append("")
    return "\n".join(out)
