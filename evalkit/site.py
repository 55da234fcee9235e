"""`evalkit leaderboard site OUT_DIR`: a static leaderboard site built from the parquet files.

No server and no CDN: one HTML page per benchmark plus an index, plots as SVG files beside them,
and the little JavaScript it needs (sorting, the "show all rows" toggle) inlined. Works opened
from disk and on any static host. A row is one run setting (model, resolution, precision, judges,
dataset, options, benchmark version), so cells never mix runs that are not comparable.
"""

from __future__ import annotations

import datetime as _dt
import html
import json
from pathlib import Path

import numpy as np
import pandas as pd

from evalkit import plots
from evalkit.selection import (
    changed_options,
    config_legend,
    judges_text,
    options_text,
    reasons,
    select,
    setting_label,
)

PROVENANCE = (
    ("weights", "weights"),
    ("judges", "judges"),
    ("model_options", "model options"),
    ("generation", "generation"),
    ("image_size", "image size"),
    ("dataset", "dataset"),
    ("dataset_sha256", "dataset sha256"),
    ("precision", "precision"),
    ("device", "device"),
    ("evalkit_version", "evalkit"),
    ("git_sha", "git"),
    ("timestamp", "date"),
    ("run_id", "run"),
)
DECIMALS = {
    "psnr": 2,
    "psnr_finite": 2,
    "ssim": 4,
    "ssim_uniform7": 4,
    "t_acc": 2,
    "t_ned": 2,
    "f_sim": 3,
    "fid": 2,
    "rfid": 2,
    "kid": 4,
    "is": 2,
    "fd_dinov2": 2,
    "sfid": 2,
    "cmmd": 3,
    "density": 3,
    "coverage": 3,
    "bpp": 3,
    "latent_values_per_pixel": 4,
}
PERCENT = {"t_acc", "t_ned"}  # shown x100, as TokBench's tables

_CSS = """
body{font-family:system-ui,sans-serif;margin:2rem;max-width:80rem;color:#222}
table{border-collapse:collapse;margin:1rem 0;font-size:.85rem}
th,td{border:1px solid #ccc;padding:.25rem .5rem;text-align:right}
th{background:#f3f3f3;cursor:pointer;user-select:none}
td:first-child,th:first-child{text-align:left}
tr.incomplete{display:none;color:#888}
body.show-all tr.incomplete{display:table-row}
td.nc{background:#fff6e0}
.plots img{max-width:100%;border:1px solid #eee;margin:.5rem 0}
details{font-size:.75rem;text-align:left}
.note{color:#555;font-size:.85rem}
"""
_JS = """
document.querySelectorAll('table.sortable').forEach(function(table){
  table.querySelectorAll('th').forEach(function(th, col){
    th.addEventListener('click', function(){
      var body = table.tBodies[0];
      var rows = Array.from(body.rows);
      var asc = th.dataset.dir !== 'asc';
      th.dataset.dir = asc ? 'asc' : 'desc';
      rows.sort(function(a, b){
        var x = a.cells[col].dataset.v, y = b.cells[col].dataset.v;
        var nx = parseFloat(x), ny = parseFloat(y);
        var c = (isNaN(nx) || isNaN(ny)) ? String(x).localeCompare(String(y)) : nx - ny;
        return asc ? c : -c;
      });
      rows.forEach(function(r){ body.appendChild(r); });
    });
  });
});
var toggle = document.getElementById('show-all');
if (toggle) { toggle.addEventListener('change', function(){
  document.body.classList.toggle('show-all', toggle.checked); }); }
"""


def metric_label(subset: str, bin_: str, metric: str) -> str:
    parts = [p for p in (subset, bin_) if p not in ("all", "", None)]
    return " ".join([*parts, metric])


def format_value(metric: str, value: float, decimals: dict[str, int] | None = None) -> str:
    """One number format per metric (card decimals first, then the defaults)."""
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return "–"
    if np.isinf(value):
        return "∞" if value > 0 else "-∞"
    scale = 100.0 if metric in PERCENT else 1.0
    places = (decimals or {}).get(metric, DECIMALS.get(metric, 3))
    return f"{value * scale:.{places}f}"


def _card(benchmark: str) -> dict:
    try:
        from evalkit.cards import load_card

        return load_card(benchmark)
    except Exception:  # noqa: BLE001 - a benchmark without a card still gets its page
        return {}


def table_frame(frame: pd.DataFrame) -> tuple[pd.DataFrame, list[str]]:
    """The shown rows (:func:`evalkit.selection.select`, incomplete ones too: the page hides
    them until asked), with ``column`` and the setting's label ``shown``; the metric columns in
    first-seen order."""
    frame = select(frame, include_all=True)
    frame["column"] = [
        metric_label(s, b, m) for s, b, m in zip(frame["subset"], frame["bin"], frame["metric"])
    ]
    frame["shown"] = [setting_label(r) for _, r in frame.iterrows()]
    return frame, beside_fid(list(dict.fromkeys(frame["column"])))


#: Distances shown right after FID's column, in this order, wherever rows have them.
BESIDE_FID = ("fd_dinov2", "sfid", "cmmd")


def beside_fid(columns: list[str]) -> list[str]:
    """``columns`` with FD-DINOv2 (then sFID, CMMD) moved right after the FID column."""
    fid = next((c for c in columns if c in ("fid", "gfid", "rfid")), None)
    if fid is None:
        return columns
    moved = [c for c in BESIDE_FID if c in columns]
    rest = [c for c in columns if c not in moved]
    at = rest.index(fid) + 1
    return rest[:at] + moved + rest[at:]


def _provenance(row: pd.Series) -> str:
    return "; ".join(
        f"{label}: {row.get(key, '')}" for key, label in PROVENANCE if str(row.get(key, ""))
    )


def main_table(frame: pd.DataFrame, decimals: dict[str, int]) -> str:
    frame, columns = table_frame(frame)
    groups = frame.groupby("setting", sort=False, dropna=False)
    head = "".join(f"<th>{html.escape(c)}</th>" for c in ["setting", *columns, "provenance"])
    body = []
    for _, group in groups:
        first = group.iloc[0]
        complete = bool(group["complete"].all()) if "complete" in group else True
        cells = [f'<td data-v="{html.escape(first["shown"])}">{html.escape(first["shown"])}</td>']
        by_column = {r["column"]: r for _, r in group.iterrows()}
        for column in columns:
            r = by_column.get(column)
            if r is None:
                cells.append('<td data-v="">–</td>')
                continue
            comparable = bool(r.get("comparable", True))
            mark = "" if comparable else "†"
            v = r["value"]
            sort_v = "" if pd.isna(v) else repr(float(v))
            cls = "" if comparable else ' class="nc"'
            cells.append(
                f'<td{cls} data-v="{sort_v}" title="n={int(r["n"])}; '
                f'{html.escape(_provenance(r))}">'
                f"{format_value(r['metric'], v, decimals)}{mark}</td>"
            )
        cells.append(
            f"<td><details><summary>run</summary>{html.escape(_provenance(first))}</details></td>"
        )
        cls = "" if complete else ' class="incomplete"'
        body.append(f"<tr{cls}>{''.join(cells)}</tr>")
    legend = "".join(f'<p class="note">{html.escape(x)}</p>' for x in config_legend(frame))
    return (
        f'<table class="sortable main"><thead><tr>{head}</tr></thead>'
        f"<tbody>{''.join(body)}</tbody></table>{legend}"
    )


def reported_table(frame: pd.DataFrame, decimals: dict[str, int]) -> str:
    """Published values beside ours. A difference is shown only for comparable rows (a
    reproduction); every other row says why it is not one, and incomplete rows hide with the
    main table's."""
    shown, _ = table_frame(frame)
    part = shown[shown["reported_value"].notna()]
    if not len(part):
        return ""
    rows = []
    for _, r in part.iterrows():
        label = metric_label(r["subset"], r["bin"], r["metric"])
        ours, theirs = float(r["value"]), float(r["reported_value"])
        if bool(r["comparable"]):
            delta = format_value(r["metric"], ours - theirs, decimals)
            diff, note = f'<td data-v="{ours - theirs!r}">{delta}', ""
        else:
            diff, note = '<td data-v="">–', reasons(r)
        cls = "" if bool(r["complete"]) else ' class="incomplete"'
        rows.append(
            f'<tr{cls}><td data-v="{html.escape(r["shown"])}">{html.escape(r["shown"])}</td>'
            f'<td data-v="{html.escape(label)}">{html.escape(label)}</td>'
            f'<td data-v="{theirs!r}">{format_value(r["metric"], theirs, decimals)}</td>'
            f'<td data-v="{ours!r}">{format_value(r["metric"], ours, decimals)}</td>'
            f'{diff}</td><td data-v="{html.escape(note)}">{html.escape(note)}</td></tr>'
        )
    return (
        '<h2>Reported vs reproduced</h2><p class="note">The difference is given only for rows '
        "comparable with the published setting; the others say why they are not a "
        'reproduction.</p><table class="sortable reported"><thead><tr><th>setting</th>'
        "<th>metric</th><th>reported</th><th>ours</th><th>difference</th><th>not comparable "
        f"because</th></tr></thead><tbody>{''.join(rows)}</tbody></table>"
    )


def page_plots(benchmark: str, frame: pd.DataFrame) -> dict[str, str]:
    """name -> SVG text for the plots that apply to this benchmark's rows."""
    import matplotlib

    matplotlib.use("Agg", force=False)
    out: dict[str, str] = {}
    metrics = set(frame["metric"])
    if metrics & set(plots.RATE_METRICS):
        for metric in ("psnr", "ssim", "fid", "lpips", "t_acc"):
            if metric in metrics:
                out[f"rate-distortion-{metric}"] = plots.to_svg(
                    plots.rate_distortion(frame, metric)
                )
    if plots.has_budget_sweep(frame):  # quality against the number of tokens
        for metric in plots.TOKEN_METRICS:
            if metric in metrics:
                out[f"tokens-{metric}"] = plots.to_svg(plots.quality_vs_tokens(frame, metric))
    if benchmark.startswith("tokbench"):
        for res in sorted(set(plots.shown_rows(frame)["resolution"])):
            out[f"bins-{res}"] = plots.to_svg(plots.tokbench_bins(frame, int(res)))
    if benchmark == "geneval":
        out["tasks"] = plots.to_svg(plots.task_bars(frame))
    primary = next((m for m in ("psnr", "t_acc", "fid", "overall", "oa") if m in metrics), None)
    if primary and "wall_time_s" in frame.columns:
        out[f"time-{primary}"] = plots.to_svg(plots.quality_vs_time(frame, primary))
    return out


def _runs_html(frame: pd.DataFrame, card: dict) -> str:
    """What the shown runs did differently: the judges that ran (beside the card's official
    ones) and the subset / options, one item per configuration."""
    shown, _ = table_frame(frame)
    if shown.empty:
        return ""
    official = {role: str(j.get("official", "")) for role, j in card.get("judges", {}).items()}
    ds = card.get("dataset", {})
    full = f"n = {ds['n']}" if "n" in ds else "the whole dataset"
    if ds.get("images_per_prompt"):
        full += f" prompts x {ds['images_per_prompt']} images"
    items = []
    for _, group in shown.groupby(["judges", "options", "flag_reasons"], sort=False):
        r = group.iloc[0]
        names = ", ".join(dict.fromkeys(group["shown"]))
        ran = judges_text(r["judges"])
        if official:
            ran += "; official: " + ", ".join(f"{k} {v}" for k, v in official.items())
        why = reasons(r)
        subset = options_text(changed_options(r["benchmark"], r["options"]))
        items.append(
            f"<li>{html.escape(names)}: judges that ran: {html.escape(ran)}. Subset and options: "
            f"{html.escape(subset or 'the card defaults')} (n up to {int(group['n'].max())}; "
            f"the protocol: {html.escape(full)})"
            f"{'. ' + html.escape(why[:1].upper() + why[1:]) if why else ''}.</li>"
        )
    return f'<h4>In the runs shown</h4><ul class="runs">{"".join(items)}</ul>'


def _card_html(card: dict, frame: pd.DataFrame) -> str:
    if not card:
        return '<p class="note">This benchmark has no protocol card.</p>'
    proto = card.get("protocol", {})
    parts = [f"<p>{html.escape(card.get('summary', ''))}</p>"]
    if proto:
        ref = ", ".join(str(proto[k]) for k in ("paper", "repo", "commit") if proto.get(k))
        parts.append(f'<p class="note">Protocol: {html.escape(ref)}</p>')
    dataset = card.get("dataset", {})
    if dataset:
        parts.append(
            f'<p class="note">Data: {html.escape(str(dataset.get("name", "")))} '
            f"({html.escape(str(dataset.get('source', '')))}, "
            f"n = {html.escape(str(dataset.get('n', '?')))})</p>"
        )
    for key, title in (
        ("deviations", "What differs from the official protocol"),
        ("quirks", "Official quirks reproduced"),
    ):
        items = card.get(key, [])
        if items:
            lis = "".join(
                f"<li>{html.escape(i.get('what', ''))}"
                f"{': ' + html.escape(i['why']) if i.get('why') else ''}</li>"
                for i in items
            )
            parts.append(f"<h3>{title}</h3><ul>{lis}</ul>")
        if key == "deviations":
            if not items:
                parts.append(f"<h3>{title}</h3>")
            parts.append(_runs_html(frame, card))
    return "".join(parts)


def _page(title: str, body: str) -> str:
    return (
        f'<!doctype html><html><head><meta charset="utf-8"><title>{html.escape(title)}'
        f"</title><style>{_CSS}</style></head><body>{body}<script>{_JS}</script>"
        "</body></html>"
    )


def benchmark_page(benchmark: str, frame: pd.DataFrame, plot_files: dict[str, str]) -> str:
    card = _card(benchmark)
    decimals = {m["id"]: int(m["decimals"]) for m in card.get("metrics", []) if "decimals" in m}
    n_all = select(frame, include_all=True)["run_id"].nunique()
    n_complete = select(frame)["run_id"].nunique()
    imgs = "".join(
        f'<img alt="{html.escape(name)}" src="{html.escape(src)}">'
        for name, src in plot_files.items()
    )
    body = (
        f'<p><a href="index.html">all benchmarks</a></p>'
        f"<h1>{html.escape(card.get('title', benchmark))} <small>({html.escape(benchmark)})"
        f"</small></h1>{_card_html(card, frame)}"
        f'<p><label><input type="checkbox" id="show-all"> show runs that are not complete '
        f"({n_all - n_complete} of {n_all})</label></p>"
        f'<p class="note">Click a column to sort. † = not comparable with published numbers '
        "(offline judges, embedded data or another deviation); hover a cell for its "
        "provenance.</p>"
        f"{main_table(frame, decimals)}{reported_table(frame, decimals)}"
        f'<h2>Plots</h2><div class="plots">{imgs}</div>'
        f'<p class="note">Generated by evalkit on '
        f"{_dt.date.today().isoformat()} from leaderboards/{html.escape(benchmark)}.parquet."
        "</p>"
    )
    return _page(f"evalkit: {benchmark}", body)


def build_site(
    out_dir: str | Path,
    leaderboard_dir: str | Path = "leaderboards",
    benchmarks: list[str] | None = None,
) -> list[Path]:
    """Write index.html, one page per benchmark and its SVG plots; returns the pages."""
    from evalkit.leaderboard import read

    out, source = Path(out_dir), Path(leaderboard_dir)
    files = sorted(source.glob("*.parquet"))
    if benchmarks:
        missing = [b for b in benchmarks if not (source / f"{b}.parquet").is_file()]
        if missing:
            raise FileNotFoundError(f"no leaderboard for {missing} in {source}")
        files = [source / f"{b}.parquet" for b in benchmarks]
    if not files:
        raise FileNotFoundError(f"no leaderboard parquet files in {source}")
    (out / "plots").mkdir(parents=True, exist_ok=True)
    pages, index_rows = [], []
    for path in files:
        benchmark = path.stem
        frame = read(path)
        plot_files = {}
        for name, svg in page_plots(benchmark, frame).items():
            rel = f"plots/{benchmark}-{name}.svg"
            (out / rel).write_text(svg)
            plot_files[name] = rel
        page = out / f"{benchmark}.html"
        page.write_text(benchmark_page(benchmark, frame, plot_files))
        pages.append(page)
        index_rows.append(
            f'<tr><td data-v="{html.escape(benchmark)}"><a href="{html.escape(page.name)}">'
            f'{html.escape(benchmark)}</a></td><td data-v="{frame["model"].nunique()}">'
            f'{frame["model"].nunique()}</td><td data-v="{frame["run_id"].nunique()}">'
            f"{frame['run_id'].nunique()}</td></tr>"
        )
    index = _page(
        "evalkit leaderboards",
        (
            '<h1>evalkit leaderboards</h1><table class="sortable index"><thead><tr>'
            "<th>benchmark</th><th>models</th><th>runs</th></tr></thead>"
            f"<tbody>{''.join(index_rows)}</tbody></table>"
        ),
    )
    (out / "index.html").write_text(index)
    (out / "site.json").write_text(json.dumps({"pages": [p.name for p in pages]}, indent=2))
    return [out / "index.html", *pages]
