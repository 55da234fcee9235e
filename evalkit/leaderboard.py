"""Leaderboard parquet files: locked, deduplicating appends; loading; terminal/md/html tables.

``leaderboards/<benchmark>.parquet`` holds the rows described in leaderboards/SCHEMA.md. Appends
take a file lock (so parallel writers never corrupt the file), replace rows with the same identity
key (run_id, subset, bin, metric) and write atomically.
"""

from __future__ import annotations

import html
import math
import os
import stat
from pathlib import Path
from typing import Any

import pandas as pd
from filelock import FileLock

from evalkit.cache import atomic_write
from evalkit.records import IDENTITY_KEY, ROW_COLUMNS, ROW_SCHEMA
from evalkit.selection import config_legend, judges_text, normalize, size_text
from evalkit.selection import select as published

DEFAULT_DIR = Path("leaderboards")


def read(path: str | Path) -> pd.DataFrame:
    path = Path(path)
    if not path.exists():
        return pd.DataFrame({c: pd.Series(dtype=t) for c, t in ROW_SCHEMA})
    return pd.read_parquet(path)


def append(path: str | Path, rows: pd.DataFrame) -> pd.DataFrame:
    """Add ``rows``; rows with an identity key already present replace the old ones.

    The file keeps its permission bits (a new file gets the umask's). When every row is already
    there with the same numbers (a rerun of a finished run), the file is left untouched.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with FileLock(str(path) + ".lock", timeout=600):
        old = read(path)
        if len(old) and ("complete" not in old.columns or old["complete"].isna().any()):
            old = normalize(old)[list(old.columns) + ["complete"] * ("complete" not in old)]
        if len(old) and _unchanged(old, rows):
            return old
        merged = pd.concat([old, rows], ignore_index=True) if len(old) else rows.copy()
        merged = merged.drop_duplicates(subset=list(IDENTITY_KEY), keep="last")
        order = [c for c in ROW_COLUMNS if c in merged]
        order += [c for c in merged if c not in ROW_COLUMNS]
        merged = merged[order].reset_index(drop=True)
        mode = _mode_for(path)

        def write(tmp: str) -> None:
            merged.to_parquet(tmp, index=False)
            os.chmod(tmp, mode)  # mkstemp makes 0600; keep the file's own mode

        atomic_write(path, write)
    return merged


# Columns that say when/where rows were written, not what was measured.
_CIRCUMSTANCE = {
    "timestamp",
    "wall_time_s",
    "peak_memory_mb",
    "device",
    "git_sha",
    "torch_version",
    "cuda_version",
    "evalkit_version",
}


def _unchanged(old: pd.DataFrame, rows: pd.DataFrame) -> bool:
    """Every row of ``rows`` is in ``old`` with equal measured values and provenance."""
    key = list(IDENTITY_KEY)
    cols = [c for c in rows.columns if c in old.columns and c not in _CIRCUMSTANCE]
    if old.duplicated(key).any():
        return False
    old_i, new_i = old.set_index(key), rows.set_index(key)
    if not new_i.index.isin(old_i.index).all():
        return False
    value_cols = [c for c in cols if c not in key]
    a = old_i.loc[new_i.index, value_cols].astype(object)
    b = new_i[value_cols].astype(object)
    both_na = a.isna().to_numpy() & b.isna().to_numpy()
    equal = (a == b).fillna(False).to_numpy(dtype=bool)
    return bool((equal | both_na).all())


def _mode_for(path: Path) -> int:
    if path.exists():
        return stat.S_IMODE(path.stat().st_mode)
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


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


def load_samples(
    results_dir: str | Path = "evalkit-results",
    benchmark: str | None = None,
    model: str | None = None,
    run_id: str | None = None,
) -> pd.DataFrame:
    """Per-sample records of finished runs, with run_id / benchmark / model columns added."""
    root = Path(results_dir)
    frames = []
    for path in sorted(root.glob("*/*/*/samples.parquet")):
        rid, mdl, bench = path.parent.name, path.parent.parent.name, path.parent.parent.parent.name
        if (
            (benchmark and bench != benchmark)
            or (model and mdl != model)
            or (run_id and rid != run_id)
        ):
            continue
        df = pd.read_parquet(path)
        df.insert(0, "run_id", rid)
        df.insert(1, "benchmark", bench)
        df.insert(2, "model", mdl)
        frames.append(df)
    if not frames:
        raise FileNotFoundError(f"no per-sample records under {root} for the given filters")
    return pd.concat(frames, ignore_index=True)


# --- published tables ---------------------------------------------------------------------------
# Units, decimals and display scale of each metric: one number format per metric (a card's
# `[[metrics]] decimals` overrides the decimals).
METRIC_FORMATS: dict[str, tuple[str, int, float]] = {
    "psnr": ("dB", 2, 1.0),
    "psnr_finite": ("dB", 2, 1.0),
    "n_identical": ("images", 0, 1.0),
    "ssim": ("0-1", 4, 1.0),
    "ssim_uniform7": ("0-1", 4, 1.0),
    "fid": ("FID", 2, 1.0),
    "rfid": ("FID", 2, 1.0),
    "gfid": ("FID", 2, 1.0),
    "kid": ("KID", 4, 1.0),
    "is": ("IS", 2, 1.0),
    "precision": ("0-1", 3, 1.0),
    "recall": ("0-1", 3, 1.0),
    "codebook_usage": ("fraction", 4, 1.0),
    "code_entropy": ("bits", 2, 1.0),
    "t_acc": ("%", 2, 100.0),
    "t_ned": ("%", 2, 100.0),
    "f_sim": ("cosine", 2, 1.0),
}
NOT_COMPARABLE_MARK = "†"


def metric_format(metric: str, benchmark: str | None = None) -> tuple[str, int, float]:
    """(units, decimals, scale) of a metric's published number."""
    units, decimals, scale = METRIC_FORMATS.get(metric, ("", 4, 1.0))
    if benchmark:
        try:
            from evalkit.cards import metric_specs

            spec = metric_specs(benchmark).get(metric, {})
            decimals = int(spec.get("decimals", decimals))
        except Exception:  # no card (yet) for this benchmark: the built-in format
            pass
    return units, decimals, scale


def format_value(value: float, metric: str, benchmark: str | None = None) -> str:
    _, decimals, scale = metric_format(metric, benchmark)
    if value is None or pd.isna(value):
        return "–"
    if math.isinf(value):
        return "inf" if value > 0 else "-inf"
    return f"{float(value) * scale:.{decimals}f}"


def header_lines(df: pd.DataFrame) -> list[str]:
    """What every table states: dataset(s), judges, configurations that differ, marks."""
    lines = []
    for r in df.drop_duplicates(["dataset", "dataset_source", "dataset_sha256"]).itertuples():
        has_rev = pd.notna(r.dataset_revision) and bool(r.dataset_revision)
        rev = f" {r.dataset_revision}" if has_rev else ""
        sha = str(r.dataset_sha256)[:12] if pd.notna(r.dataset_sha256) else "unhashed"
        lines.append(f"Dataset: {r.dataset} ({r.dataset_source}{rev}; sha256 {sha}).")
    judges = sorted({judges_text(j) for j in df["judges"].dropna()})
    lines.append("Judges: " + ("; ".join(judges) if judges else "none") + ".")
    lines += config_legend(df)
    if (~df["complete"].astype(bool)).any():
        lines.append(
            "Rows marked (incomplete) did not run the benchmark's whole definition "
            "(--limit, other data or non-default options): shown because of --all."
        )
    comparable = df["comparable"].astype(bool)
    if comparable.all():
        lines.append("Every value is comparable with published numbers of this benchmark.")
    elif not comparable.any():
        lines.append(
            "No value here is comparable with published numbers (other data or "
            "judges than the official ones)."
        )
    else:
        lines.append(
            f"Values marked {NOT_COMPARABLE_MARK} are not comparable with published numbers."
        )
    return lines


def footer_lines(df: pd.DataFrame, benchmark: str | None = None) -> list[str]:
    """What differs from the official protocol: the card's deviations and the rows' own."""
    out: list[str] = []
    if benchmark:
        try:
            from evalkit.cards import load_card

            for d in load_card(benchmark).get("deviations", []):
                out.append(f"{d.get('what', '')}" + (f" ({d['why']})" if d.get("why") else ""))
        except Exception:  # no card (yet): only what the rows say
            pass
    if (~df["comparable"].astype(bool)).any():
        out.append("rows not comparable with published numbers: see the dataset and judges above")
    if (~df["complete"].astype(bool)).any():
        opts = sorted(set(df.loc[~df["complete"].astype(bool), "options"].astype(str)))
        out.append("incomplete rows ran with options " + "; ".join(opts))
    if not out:
        return [
            "Differences from the official protocol: none recorded (every row is complete "
            "and comparable)."
        ]
    return ["Differences from the official protocol:"] + [f"- {x}" for x in out]


def pivot(df: pd.DataFrame, include_all: bool = False) -> pd.DataFrame:
    """One row per shown setting (model [config], size, precision), one column per
    metric/subset/bin, sorted by resolution, precision, then the first metric (best first),
    then label."""
    df = published(df, include_all)
    if df.empty:
        return pd.DataFrame()
    bench = str(df["benchmark"].iloc[0]) if "benchmark" in df else None
    df = df.copy()
    df["column"] = (
        df["metric"]
        + df.apply(lambda r: "" if r["subset"] == "all" else f"[{r['subset']}]", axis=1)
        + df["bin"].map(lambda b: "" if b == "all" else f"/{b}")
    )
    ref = df[df["complete"].astype(bool)] if df["complete"].astype(bool).any() else df
    col_n = ref.groupby("column")["n"].agg(lambda s: s.mode().max())  # the complete runs' n
    mixed = df["comparable"].astype(bool).nunique() > 1

    def cell(r: Any) -> str:
        text = format_value(r["value"], r["metric"], bench)
        rep = r.get("reported_value")
        if rep is not None and pd.notna(rep):
            text += f" ({format_value(rep, r['metric'], bench)})"
        if r["n"] != col_n[r["column"]]:
            text += f" n={r['n']}"
        return text + (NOT_COMPARABLE_MARK if mixed and not bool(r["comparable"]) else "")

    df["cell"] = df.apply(cell, axis=1)
    df["size"] = df.apply(size_text, axis=1)  # the images' real size where rows record it
    index = ["label", "resolution", "size", "precision"]
    columns = list(dict.fromkeys(df["column"]))
    table = df.pivot_table(
        index=index, columns="column", values="cell", aggfunc="first", sort=False
    )[columns]
    first = df[df["column"] == columns[0]].set_index(index)
    hib = bool(first["higher_is_better"].iloc[0])
    key = first["value"].reindex(table.index).astype(float)
    table = table.assign(_key=(-key if hib else key).to_numpy()).reset_index()
    table = table.sort_values(["resolution", "precision", "_key", "label"], kind="stable")
    table = table.drop(columns=["_key", "resolution"])
    table = table.rename(columns={"label": "model", "size": "resolution"})
    table.attrs["sort_key"] = (
        f"resolution, precision, then {columns[0]} ({'highest' if hib else 'lowest'} first)"
    )
    table.attrs["n"] = {c: int(col_n[c]) for c in columns}
    return table.reset_index(drop=True)


def units_line(df: pd.DataFrame, benchmark: str | None = None) -> str:
    parts = []
    for metric in dict.fromkeys(df["metric"]):
        units, decimals, scale = metric_format(str(metric), benchmark)
        shown = f"{units}, " if units else ""
        parts.append(
            f"{metric}: {shown}{decimals} decimals" + (f", x{scale:g}" if scale != 1 else "")
        )
    return "Units and rounding: " + "; ".join(parts) + " (rounded to nearest)."


def render(df: pd.DataFrame, fmt: str = "md", title: str = "", include_all: bool = False) -> str:
    """A publishable table (markdown or HTML) that states its data, judges, n, units, rounding,
    row order and what differs from the official protocol; reported values in parentheses."""
    if fmt not in ("md", "html"):
        raise ValueError(f"unknown format {fmt!r}: use md or html")
    rows = published(df, include_all)
    if rows.empty:
        return "(no complete rows; --all shows incomplete ones)\n"
    bench = str(rows["benchmark"].iloc[0])
    table = pivot(df, include_all)
    ns = table.attrs["n"]
    n_text = (
        f"n = {next(iter(ns.values()))} per value"
        if len(set(ns.values())) == 1
        else "n per column: " + ", ".join(f"{c} {v}" for c, v in ns.items())
    )
    head = header_lines(rows) + [
        f"{n_text} (a cell shows n=... where it differs).",
        units_line(rows, bench),
        f"Rows sorted by {table.attrs['sort_key']}.",
        "Values: ours (published value in parentheses where a paper gives one).",
    ]
    foot = footer_lines(rows, bench)
    cols = [str(c) for c in table.columns]
    cells = table.fillna("").astype(str).values.tolist()
    if fmt == "md":
        lines = [f"## {title}", ""] if title else []
        lines += [*head, "", "| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
        lines += ["| " + " | ".join(row) + " |" for row in cells]
        return "\n".join([*lines, "", *foot, ""])
    th = "".join(f"<th>{html.escape(c)}</th>" for c in cols)
    body = "".join(
        "<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in row) + "</tr>" for row in cells
    )
    cap = f"<caption>{html.escape(title)}</caption>" if title else ""
    paras = "".join(f"<p>{html.escape(x)}</p>" for x in head)
    tail = "".join(f"<p>{html.escape(x)}</p>" for x in foot)
    return f"{paras}<table>{cap}<thead><tr>{th}</tr></thead><tbody>{body}</tbody></table>\n{tail}\n"


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
            out.append(
                "<tr>" + "".join(f"<{tag}>{html.escape(c)}</{tag}>" for c in cells) + "</tr>"
            )
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
