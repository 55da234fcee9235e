"""Leaderboard parquet files: locked, deduplicating appends; loading; terminal/md/html tables.

``leaderboards/<benchmark>.parquet`` holds the rows described in leaderboards/SCHEMA.md. Appends
take a file lock (so parallel writers never corrupt the file), replace rows with the same identity
key (run_id, subset, bin, metric) and write atomically.
"""

from __future__ import annotations

import html
from pathlib import Path

import pandas as pd
from filelock import FileLock

from evalkit.cache import atomic_write
from evalkit.records import IDENTITY_KEY, ROW_COLUMNS, ROW_SCHEMA

DEFAULT_DIR = Path("leaderboards")


def read(path: str | Path) -> pd.DataFrame:
    path = Path(path)
    if not path.exists():
        return pd.DataFrame({c: pd.Series(dtype=t) for c, t in ROW_SCHEMA})
    return pd.read_parquet(path)


def append(path: str | Path, rows: pd.DataFrame) -> pd.DataFrame:
    """Add ``rows``; rows with an identity key already present replace the old ones."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with FileLock(str(path) + ".lock", timeout=600):
        old = read(path)
        merged = pd.concat([old, rows], ignore_index=True) if len(old) else rows.copy()
        merged = merged.drop_duplicates(subset=list(IDENTITY_KEY), keep="last")
        merged = merged.reset_index(drop=True)
        atomic_write(path, lambda tmp: merged.to_parquet(tmp, index=False))
    return merged


def load_results(source: str | Path = DEFAULT_DIR, benchmark: str | None = None) -> pd.DataFrame:
    """Tidy result rows (one per value) from a leaderboard file, a leaderboards folder, or a
    results folder of runs (every ``results.parquet`` below it)."""
    source = Path(source)
    if source.is_file():
        frames = [pd.read_parquet(source)]
    elif source.is_dir():
        files = sorted(source.glob("*.parquet")) or sorted(source.rglob("results.parquet"))
        frames = [pd.read_parquet(f) for f in files]
    else:
        raise FileNotFoundError(f"no results at {source}")
    frames = [f for f in frames if len(f)]
    if not frames:
        return read(Path("/nonexistent"))
    df = pd.concat(frames, ignore_index=True)
    if benchmark is not None:
        df = df[df["benchmark"] == benchmark].reset_index(drop=True)
    return df


def load_samples(results_dir: str | Path = "evalkit-results", benchmark: str | None = None,
                 model: str | None = None, run_id: str | None = None) -> pd.DataFrame:
    """Per-sample records of finished runs, with run_id / benchmark / model columns added."""
    root = Path(results_dir)
    frames = []
    for path in sorted(root.glob("*/*/*/samples.parquet")):
        rid, mdl, bench = path.parent.name, path.parent.parent.name, path.parent.parent.parent.name
        if (benchmark and bench != benchmark) or (model and mdl != model) or (run_id and
                                                                           rid != run_id):
            continue
        df = pd.read_parquet(path)
        df.insert(0, "run_id", rid)
        df.insert(1, "benchmark", bench)
        df.insert(2, "model", mdl)
        frames.append(df)
    if not frames:
        raise FileNotFoundError(f"no per-sample records under {root} for the given filters")
    return pd.concat(frames, ignore_index=True)


def _fmt(value: float, reported: float | None = None) -> str:
    text = "inf" if value == float("inf") else f"{value:.4g}"
    if reported is not None and pd.notna(reported):
        text += f" ({reported:.4g})"
    return text


def pivot(df: pd.DataFrame) -> pd.DataFrame:
    """One row per (model, resolution, precision), one column per metric/subset/bin."""
    if df.empty:
        return pd.DataFrame()
    df = df.copy()
    df["column"] = df["metric"] + df.apply(
        lambda r: "" if r["subset"] == "all" else f"[{r['subset']}]", axis=1
    ) + df["bin"].map(lambda b: "" if b == "all" else f"/{b}")
    df["cell"] = [_fmt(v, r) for v, r in zip(df["value"], df["reported_value"])]
    index = ["model", "resolution", "precision"]
    table = df.pivot_table(index=index, columns="column", values="cell", aggfunc="last",
                           sort=False)
    return table.reset_index()


def render(df: pd.DataFrame, fmt: str = "md", title: str = "") -> str:
    """A publishable table: markdown or HTML; reported values appear in parentheses."""
    table = pivot(df)
    if table.empty:
        return "(no rows)\n"
    cols = [str(c) for c in table.columns]
    cells = table.fillna("").astype(str).values.tolist()
    note = "Values: ours (published value in parentheses where a paper gives one)."
    if fmt == "md":
        lines = [f"## {title}", ""] if title else []
        lines += ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
        lines += ["| " + " | ".join(row) + " |" for row in cells]
        return "\n".join(lines + ["", note, ""])
    if fmt == "html":
        head = "".join(f"<th>{html.escape(c)}</th>" for c in cols)
        body = "".join("<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in row) + "</tr>"
                       for row in cells)
        cap = f"<caption>{html.escape(title)}</caption>" if title else ""
        return (f"<table>{cap}<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>\n"
                f"<p>{html.escape(note)}</p>\n")
    raise ValueError(f"unknown format {fmt!r}: use md or html")


def markdown_to_html(md: str) -> str:
    """HTML for the markdown a benchmark's own table renderer writes (headings, pipe tables)."""
    out: list[str] = []
    in_table = False
    for line in md.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if line.startswith("|") and set(line.replace("|", "").strip()) <= set("-: "):
            continue  # the separator row
        if line.startswith("|"):
            tag = "td" if in_table else "th"
            if not in_table:
                out.append("<table>")
                in_table = True
            out.append("<tr>" + "".join(f"<{tag}>{html.escape(c)}</{tag}>" for c in cells)
                       + "</tr>")
            continue
        if in_table:
            out.append("</table>")
            in_table = False
        if line.startswith("#"):
            level = min(len(line) - len(line.lstrip("#")), 6)
            out.append(f"<h{level}>{html.escape(line.lstrip('#').strip())}</h{level}>")
        elif line.strip():
            out.append(f"<p>{html.escape(line.strip())}</p>")
    if in_table:
        out.append("</table>")
    return "\n".join(out) + "\n"


__all__ = ["append", "load_results", "load_samples", "pivot", "read", "render", "ROW_COLUMNS"]
