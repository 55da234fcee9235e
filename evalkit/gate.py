"""CI regression gate: compare a run's rows with a baseline under per-metric tolerances.

Rows are matched on the run's *setting* (benchmark, model, resolution, precision, judge, options,
model options) plus (subset, bin, metric). Baseline rows of settings the run did not cover are
ignored; a setting whose baseline differs in what makes numbers comparable (dataset hash, judge,
options, benchmark version, `complete`) is refused, never compared. An empty bin (NaN, n = 0) on
both sides is equal; a value on one side only is "missing".

Exit codes (used by ``evalkit gate``): 0 pass, 1 regression (or a value missing on one side),
2 usage error (unreadable input, nothing to compare, not comparable, bad tolerance).
"""

from __future__ import annotations

import json
import math
import textwrap
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

SETTING_KEY = [
    "benchmark",
    "model",
    "resolution",
    "precision",
    "judge",
    "options",
    "model_options",
]
VALUE_KEY = ["subset", "bin", "metric"]
MATCH_KEY = SETTING_KEY + VALUE_KEY
# What must be equal for two rows of one setting to be comparable at all.
COMPARABILITY = ["dataset_sha256", "benchmark_version", "complete"]
DEFAULT_RTOL = 1e-6
STATUSES = ("regression", "missing", "improved", "ok", "new")


class GateUsageError(ValueError):
    """Bad gate input: exit code 2."""


@dataclass(frozen=True)
class Tolerance:
    value: float
    relative: bool

    @classmethod
    def parse(cls, text: str) -> Tolerance:
        rel = text.endswith("%")
        try:
            v = float(text[:-1]) / 100 if rel else float(text)
        except ValueError:
            raise GateUsageError(
                f"bad tolerance {text!r}: use a number (absolute) or N% (relative)"
            ) from None
        if v < 0 or math.isnan(v):
            raise GateUsageError(f"tolerance must be >= 0, got {text!r}")
        return cls(v, rel)

    def allowed(self, baseline: float) -> float:
        return self.value * abs(baseline) if self.relative else self.value

    def __str__(self) -> str:
        return f"{self.value * 100:g}%" if self.relative else f"{self.value:g}"


def parse_tolerances(specs: list[str]) -> dict[str, Tolerance]:
    out = {}
    for spec in specs:
        metric, sep, tol = spec.partition("=")
        if not sep or not metric:
            raise GateUsageError(
                f"bad --tol {spec!r}: use METRIC=VALUE, e.g. psnr=0.05 or ssim=0.5%"
            )
        out[metric] = Tolerance.parse(tol)
    return out


def read_rows(path: str | Path) -> pd.DataFrame:
    """Rows from a parquet file, or every results.parquet under a folder."""
    path = Path(path)
    try:
        if path.is_file():
            return pd.read_parquet(path)
        if path.is_dir():
            files = sorted(path.rglob("results.parquet")) or sorted(path.glob("*.parquet"))
            if files:
                return pd.concat([pd.read_parquet(f) for f in files], ignore_index=True)
    except Exception as exc:  # pyarrow raises several types for corrupt files
        raise GateUsageError(f"cannot read {path}: {exc}") from exc
    raise GateUsageError(f"no result rows at {path}")


def _prepare(df: pd.DataFrame, name: str) -> pd.DataFrame:
    from evalkit.leaderboard import normalize

    optional = {"model_options"}  # rows written before it existed: no model options
    needed = [c for c in MATCH_KEY + ["value", "higher_is_better"] if c not in optional]
    missing = [c for c in needed if c not in df]
    if missing:
        raise GateUsageError(f"{name} rows lack columns {missing}")
    df = normalize(df)
    df = df.assign(
        judge=df["judge"].astype(object).where(df["judge"].notna(), ""),
        options=df["options"].astype(str),
        model_options=df["model_options"].astype(str),
        resolution=df["resolution"].astype(int),
    )
    if "timestamp" in df:
        df = df.sort_values("timestamp", kind="stable")
    return df


def _describe(setting: tuple) -> str:
    b, m, res, prec, judge, *_ = setting
    return f"{b}/{m} {res}px {prec}" + (f" judge {judge}" if judge else "")


def _differs(cur: pd.DataFrame, base: pd.DataFrame) -> str | None:
    """The first comparability field whose values differ between the two sides, described."""
    for col in COMPARABILITY:
        a, b = set(cur[col].astype(str)), set(base[col].astype(str))
        if a != b:
            return f"{col} differs (run {', '.join(sorted(a))}; baseline {', '.join(sorted(b))})"
    return None


def compare(
    current: pd.DataFrame,
    baseline: pd.DataFrame,
    tolerances: dict[str, Tolerance],
    default: Tolerance | None = None,
) -> pd.DataFrame:
    """One row per value of every setting the run covers: baseline, current, delta, status."""
    default = default or Tolerance(DEFAULT_RTOL, True)
    cur_all, base_all = _prepare(current, "current"), _prepare(baseline, "baseline")
    known = set(cur_all["metric"]) | set(base_all["metric"])
    unknown = sorted(set(tolerances) - known)
    if unknown:
        raise GateUsageError(
            f"--tol names unknown metric(s) {', '.join(unknown)}; metrics in "
            f"these rows: {', '.join(sorted(known))}"
        )
    out: list[dict] = []
    compared = 0
    for setting, cur in cur_all.groupby(SETTING_KEY, sort=False):
        base = base_all
        for col, val in zip(SETTING_KEY, setting):
            base = base[base[col] == val]
        if base.empty:
            _refuse_other_options(setting, base_all, cur)
            continue  # a setting the baseline does not have: nothing to compare
        why = _differs(cur, base)
        if why:
            # The baseline may hold several runs of this setting; keep the ones like this run.
            same = base
            for col in COMPARABILITY:
                same = same[same[col].astype(str).isin(set(cur[col].astype(str)))]
            if same.empty:
                raise GateUsageError(f"not comparable: {_describe(setting)}: {why}")
            base = same
        compared += 1
        cur_v = cur.drop_duplicates(VALUE_KEY, keep="last").set_index(VALUE_KEY)
        base_v = base.drop_duplicates(VALUE_KEY, keep="last").set_index(VALUE_KEY)
        for key in list(base_v.index) + [k for k in cur_v.index if k not in base_v.index]:
            out.append(_compare_value(setting, key, cur_v, base_v, tolerances, default))
    if not compared:
        raise GateUsageError("no baseline row matches the run on " + ", ".join(SETTING_KEY))
    return pd.DataFrame(out)


def _refuse_other_options(setting: tuple, base_all: pd.DataFrame, cur: pd.DataFrame) -> None:
    """A baseline of the same model and setting but other judge/options: refuse, don't skip."""
    same = base_all
    for col, val in zip(SETTING_KEY[:4], setting[:4]):
        same = same[same[col] == val]
    same = same[same["metric"].isin(set(cur["metric"]))]
    if same.empty:
        return
    for col, val in zip(SETTING_KEY[4:], setting[4:]):
        if val not in set(same[col]):
            theirs = ", ".join(sorted(set(same[col].astype(str)))) or "none"
            raise GateUsageError(
                f"not comparable: {_describe(setting)}: {col} differs "
                f"(run {val or 'none'}; baseline {theirs})"
            )


def _compare_value(
    setting: tuple,
    key: tuple,
    cur_v: pd.DataFrame,
    base_v: pd.DataFrame,
    tolerances: dict[str, Tolerance],
    default: Tolerance,
) -> dict:
    metric = key[2]
    tol = tolerances.get(metric, default)
    row = {**dict(zip(SETTING_KEY, setting)), **dict(zip(VALUE_KEY, key)), "tolerance": str(tol)}
    in_base, in_cur = key in base_v.index, key in cur_v.index
    bv = float(base_v.loc[key, "value"]) if in_base else math.nan
    cv = float(cur_v.loc[key, "value"]) if in_cur else math.nan
    hib = bool((base_v if in_base else cur_v).loc[key, "higher_is_better"])
    row.update(baseline=bv, current=cv, higher_is_better=hib)
    if not in_base:
        return {**row, "delta": math.nan, "allowed": math.nan, "status": "new"}
    if not in_cur:
        return {**row, "delta": math.nan, "allowed": math.nan, "status": "missing"}
    if math.isnan(bv) and math.isnan(cv):  # an empty bin on both sides (n = 0): equal
        return {**row, "delta": 0.0, "allowed": 0.0, "status": "ok"}
    if math.isnan(bv) or math.isnan(cv):  # a value on one side only
        return {**row, "delta": math.nan, "allowed": math.nan, "status": "missing"}
    delta = 0.0 if cv == bv else cv - bv  # also makes inf - inf = 0
    allowed = tol.allowed(bv) if math.isfinite(bv) else 0.0
    worse = -delta if hib else delta
    status = "regression" if worse > allowed else "improved" if worse < -allowed else "ok"
    return {**row, "delta": delta, "allowed": allowed, "status": status}


def exit_code(report: pd.DataFrame, allow_missing: bool = False) -> int:
    bad = report["status"].eq("regression")
    if not allow_missing:
        bad |= report["status"].eq("missing")
    return 1 if bool(bad.any()) else 0


# --- output -------------------------------------------------------------------------------------
def _num(v: float) -> str:
    if math.isnan(v):
        return "-"
    if math.isinf(v):
        return "inf" if v > 0 else "-inf"
    return f"{v:.6g}"


def _label(r: pd.Series) -> str:
    parts = [str(r["metric"])]
    if r["subset"] != "all":
        parts.append(str(r["subset"]))
    if r["bin"] != "all":
        parts.append(str(r["bin"]))
    return "/".join(parts)


def verdict(report: pd.DataFrame, code: int) -> str:
    counts = report["status"].value_counts()
    summary = ", ".join(f"{int(counts.get(s, 0))} {s}" for s in STATUSES if counts.get(s, 0))
    return f"{'PASS' if code == 0 else 'REGRESSION'}: {summary}"


def format_text(report: pd.DataFrame, code: int, width: int = 80) -> str:
    """A plain list that fits ``width`` columns: one header line per setting, one line per value."""
    lines = []
    for setting, grp in report.groupby(SETTING_KEY, sort=False):
        lines.append(_describe(setting)[:width])
        opts = _short_options(setting[-1])
        if opts:
            lines += textwrap.wrap(
                f"options: {opts}", width, initial_indent="  ", subsequent_indent="    "
            )
        for _, r in grp.iterrows():
            name = _label(r)[:24]
            line = (
                f"  {r['status']:<10} {name:<24} {_num(r['baseline']):>10} -> "
                f"{_num(r['current']):<10} {_signed(r['delta'])}"
            )
            lines.append(line[:width])
    lines.append(verdict(report, code))
    return "\n".join(lines) + "\n"


def _signed(v: float) -> str:
    return "" if math.isnan(v) else f"{v:+.4g}"


def _short_options(options: str) -> str:
    """Options that are set (non-null), compact, for a header line."""
    try:
        opts = {k: v for k, v in json.loads(options).items() if v is not None}
    except (ValueError, AttributeError):
        return options
    return " ".join(f"{k}={v}" for k, v in sorted(opts.items()))


def format_md(report: pd.DataFrame, code: int) -> str:
    """A markdown table for CI summaries (e.g. $GITHUB_STEP_SUMMARY)."""
    lines = [
        f"**{verdict(report, code)}**",
        "",
        "| setting | value | status | baseline | current | delta | tolerance |",
        "|---|---|---|---|---|---|---|",
    ]
    for _, r in report.iterrows():
        setting = _describe(tuple(r[k] for k in SETTING_KEY))
        lines.append(
            f"| {setting} | {_label(r)} | {r['status']} | {_num(r['baseline'])} | "
            f"{_num(r['current'])} | {_signed(r['delta'])} | {r['tolerance']} |"
        )
    return "\n".join(lines) + "\n"


def format_json(report: pd.DataFrame, code: int) -> str:
    def clean(v: object) -> object:
        return (
            None
            if isinstance(v, float) and math.isnan(v)
            else (str(v) if isinstance(v, float) and math.isinf(v) else v)
        )

    rows = [{k: clean(v) for k, v in r.items()} for r in report.to_dict(orient="records")]
    counts = {s: int((report["status"] == s).sum()) for s in STATUSES}
    return (
        json.dumps(
            {"exit_code": code, "pass": code == 0, "counts": counts, "rows": rows},
            indent=2,
            default=str,
        )
        + "\n"
    )


FORMATS = {"text": format_text, "md": format_md, "json": format_json}
