"""Leaderboard plots (matplotlib): the same figures for the published site and for notebooks.

Each function takes tidy result rows (``evalkit.load_results``) and returns a Figure; the site
writes them as SVG. Every plot shows the rows the tables show (:func:`evalkit.selection.select`:
complete runs, the latest per setting), one series or point per setting, named as the site
names it (``model @size [config]``): a plot never merges runs of other judges or settings.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from evalkit.modelid import split_budget
from evalkit.selection import select, setting_label

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

RATE_METRICS = ("bpp", "latent_values_per_pixel")
# Quality against the number of tokens: metric -> axis label (each plotted where rows have it)
TOKEN_METRICS = {"fid": "rFID", "psnr": "PSNR (dB)", "lpips": "LPIPS", "t_acc": "T-ACC"}
TOKBENCH_BINS = ("small", "medium", "large")
GENEVAL_TASKS = ("single_object", "two_object", "counting", "colors", "position", "color_attr")
_CODEC_SWEEP = re.compile(r"^(jpeg|webp)-q(\d+)$|^(resize-x)(\d+)$")


def _figure(width: float = 6.4, height: float = 4.2, ncols: int = 1) -> tuple[Figure, list]:
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), layout="constrained")
    axes = fig.subplots(1, ncols, squeeze=False)[0]
    return fig, list(axes)


def _label(ax: Axes, text: str, x: float, y: float) -> None:
    """A point's setting name, set just above and right of it."""
    ax.annotate(text, (x, y), fontsize=7, textcoords="offset points", xytext=(4, 4))


def shown_rows(frame: pd.DataFrame, include_all: bool = False) -> pd.DataFrame:
    """The rows the tables show (complete runs, the latest per setting), with ``shown``: the
    setting's name (``model @size [config]``), one per setting. ``include_all``: as ``--all``."""
    rows = select(frame, include_all)
    return rows.assign(shown=[setting_label(r) for _, r in rows.iterrows()])


def curve_of(model: str, family: str | None) -> str:
    """The curve a model belongs to: a codec sweep (jpeg, webp, resize-x), a variable-length
    tokenizer's budgets (``one-d-piece-l256@N`` -> ``one-d-piece-l256``) or its family."""
    match = _CODEC_SWEEP.match(model)
    if match:
        return match.group(1) or match.group(3)
    base, budget = split_budget(model)
    if budget is not None:
        return base
    return family or model


def headline_rows(rows: pd.DataFrame, metric: str) -> pd.DataFrame:
    """One value of ``metric`` per setting: the whole set (``all``), or TokBench's text mean."""
    part = rows[
        (rows["metric"] == metric)
        & rows["subset"].isin(["all", "text"])
        & rows["bin"].isin(["all", "mean"])
    ]
    order = part["subset"].ne("all").astype(int) + part["bin"].ne("all").astype(int)
    return part.assign(_order=order).sort_values("_order").drop_duplicates("setting")


def rate_distortion_points(
    frame: pd.DataFrame, metric: str = "psnr", include_all: bool = False
) -> pd.DataFrame:
    """model, shown, curve, rate metric, rate, quality: one point per shown setting."""
    rows = shown_rows(frame, include_all)
    keys = ["setting", "shown", "model", "model_family", "resolution"]
    quality = headline_rows(rows, metric)
    rates = rows[rows["metric"].isin(RATE_METRICS)]
    merged = quality[keys + ["value"]].merge(
        rates[keys + ["metric", "value"]].rename(
            columns={"metric": "rate_metric", "value": "rate"}
        ),
        on=keys,
    )
    merged = merged[np.isfinite(merged["value"]) & np.isfinite(merged["rate"])]
    merged["curve"] = [curve_of(m, f) for m, f in zip(merged["model"], merged["model_family"])]
    if merged["resolution"].nunique() > 1:  # a curve never joins points of two sizes
        merged["curve"] += " @" + merged["resolution"].astype(str)
    return merged.rename(columns={"value": metric}).sort_values(["curve", "rate"])


def rate_distortion(frame: pd.DataFrame, metric: str = "psnr", include_all: bool = False) -> Figure:
    """Quality against bits per pixel (codec sweeps and token budgets as curves); continuous
    tokenizers as labelled points against latent values per pixel, on their own axis."""
    points = rate_distortion_points(frame, metric, include_all)
    kinds = [k for k in RATE_METRICS if (points["rate_metric"] == k).any()] or ["bpp"]
    fig, axes = _figure(width=5.2 * len(kinds), ncols=len(kinds))
    for ax, kind in zip(axes, kinds):
        part = points[points["rate_metric"] == kind]
        for curve, group in part.groupby("curve", sort=True):
            line = "-o" if len(group) > 1 else "o"
            ax.plot(group["rate"], group[metric], line, label=curve, markersize=5)
            if len(group) == 1 or kind != "bpp":
                for _, row in group.iterrows():
                    _label(ax, row["shown"], row["rate"], row[metric])
        ax.set_xlabel("bits per pixel" if kind == "bpp" else "latent values per pixel")
        ax.set_ylabel(metric.upper() if metric == "psnr" else metric)
        ax.grid(alpha=0.3)
        if len(part):
            ax.legend(fontsize=7)
    fig.suptitle(f"rate-distortion: {metric}")
    return fig


def tokens_points(frame: pd.DataFrame, metric: str, include_all: bool = False) -> pd.DataFrame:
    """model, shown, curve, tokens, value: one point per shown setting whose card gives a token
    count; a variable-length tokenizer's budgets (``<id>@N``) form one curve per base id."""
    rows = shown_rows(frame, include_all)
    if "num_tokens" not in rows.columns:
        return pd.DataFrame(columns=["model", "shown", "curve", "tokens", metric])
    part = headline_rows(rows, metric)
    part = part[part["num_tokens"].notna() & np.isfinite(part["value"].astype(float))]
    out = pd.DataFrame(
        {
            "model": part["model"],
            "shown": part["shown"],
            "curve": [split_budget(m)[0] for m in part["model"]],
            "tokens": part["num_tokens"].astype(int),
            metric: part["value"].astype(float),
            "resolution": part["resolution"],
        }
    )
    if out["resolution"].nunique() > 1:  # a curve never joins points of two sizes
        out["curve"] += " @" + out["resolution"].astype(str)
    return out.sort_values(["curve", "tokens"]).reset_index(drop=True)


def quality_vs_tokens(frame: pd.DataFrame, metric: str, include_all: bool = False) -> Figure:
    """A metric against the number of tokens (log 2): a line per variable-length tokenizer over
    its budgets, fixed-length tokenizers (TiTok, ...) as labelled points."""
    points = tokens_points(frame, metric, include_all)
    fig, axes = _figure()
    ax = axes[0]
    for curve, group in points.groupby("curve", sort=True):
        if len(group) > 1:
            ax.plot(group["tokens"], group[metric], "-o", label=curve, markersize=5)
        else:
            ax.plot(group["tokens"], group[metric], "s", label=curve, markersize=6)
            row = group.iloc[0]
            _label(ax, row["shown"], row["tokens"], row[metric])
    ax.set_xscale("log", base=2)
    ax.set_xlabel("tokens per image (log 2)")
    ax.set_ylabel(TOKEN_METRICS.get(metric, metric))
    ax.grid(alpha=0.3)
    if len(points):
        ax.legend(fontsize=7)
    ax.set_title(f"{TOKEN_METRICS.get(metric, metric)} against the number of tokens")
    return fig


def has_budget_sweep(frame: pd.DataFrame) -> bool:
    """Whether any row is a token budget of a variable-length tokenizer (``<id>@N``)."""
    return any(split_budget(str(m))[1] is not None for m in frame["model"].unique())


def tokbench_bins(frame: pd.DataFrame, resolution: int) -> Figure:
    """Per-bin bars (S/M/L) of T-ACC and F-Sim for every model at one resolution."""
    rows = shown_rows(frame)
    rows = rows[rows["resolution"] == resolution]
    fig, axes = _figure(width=11, ncols=2)
    for ax, (subset, metric, label) in zip(
        axes, (("text", "t_acc", "T-ACC"), ("face", "f_sim", "F-Sim"))
    ):
        part = rows[
            (rows["subset"] == subset)
            & (rows["metric"] == metric)
            & rows["bin"].isin(TOKBENCH_BINS)
        ]
        table = part.pivot(index="shown", columns="bin", values="value")  # one per setting
        table = table.reindex(columns=list(TOKBENCH_BINS))
        models = list(table.index)
        width = 0.8 / max(len(models), 1)
        for i, model in enumerate(models):
            xs = np.arange(len(TOKBENCH_BINS)) + i * width - 0.4 + width / 2
            ax.bar(xs, table.loc[model].to_numpy(dtype=float), width, label=model)
        ax.set_xticks(np.arange(len(TOKBENCH_BINS)), [b[0].upper() for b in TOKBENCH_BINS])
        ax.set_title(f"{label} by text/face size, {resolution} px")
        ax.set_ylim(0, 1.0)
        ax.grid(axis="y", alpha=0.3)
        if models:
            ax.legend(fontsize=7)
    return fig


def task_bars(
    frame: pd.DataFrame, tasks: tuple[str, ...] = GENEVAL_TASKS, title: str = "GenEval per task"
) -> Figure:
    """Bars per task (rows whose ``subset`` is the task) for every shown setting."""
    rows = shown_rows(frame)
    part = rows[rows["subset"].isin(tasks)]
    table = part.pivot(index="shown", columns="subset", values="value")  # one per setting
    table = table.reindex(columns=[t for t in tasks if t in table.columns])
    fig, axes = _figure(width=9)
    ax = axes[0]
    width = 0.8 / max(len(table.index), 1)
    for i, model in enumerate(table.index):
        xs = np.arange(len(table.columns)) + i * width - 0.4 + width / 2
        ax.bar(xs, table.loc[model].to_numpy(dtype=float), width, label=model)
    ax.set_xticks(np.arange(len(table.columns)), list(table.columns), rotation=20)
    ax.set_title(title)
    ax.grid(axis="y", alpha=0.3)
    if len(table.index):
        ax.legend(fontsize=7)
    return fig


def quality_vs_time(frame: pd.DataFrame, metric: str) -> Figure:
    """A metric against wall time per sample, one point per shown setting."""
    rows = shown_rows(frame)
    part = rows[(rows["metric"] == metric) & (rows["subset"].isin(["all", "text", "face"]))]
    part = part[part["bin"].isin(["all", "mean"])].drop_duplicates(["run_id", "metric"])
    fig, axes = _figure()
    ax = axes[0]
    per_sample = part["wall_time_s"] / part["n"].clip(lower=1)
    ax.scatter(per_sample, part["value"], s=18)
    for x, y, name in zip(per_sample, part["value"], part["shown"]):
        ax.annotate(name, (x, y), fontsize=7, textcoords="offset points", xytext=(3, 3))
    ax.set_xscale("log")
    ax.set_xlabel("wall time per sample (s, log)")
    ax.set_ylabel(metric)
    ax.grid(alpha=0.3)
    ax.set_title(f"{metric} vs time")
    return fig


def to_svg(fig: Figure) -> str:
    """The figure as an SVG document (text)."""
    import io

    import matplotlib

    buf = io.StringIO()
    with matplotlib.rc_context({"svg.fonttype": "none", "svg.hashsalt": "evalkit"}):
        fig.savefig(buf, format="svg", metadata={"Date": None})  # text stays text; stable output
    return buf.getvalue()
