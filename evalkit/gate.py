"""CI regression gate: compare a run's rows with a baseline under per-metric tolerances.

Exit codes (used by ``evalkit gate``): 0 pass, 1 regression (or a baseline value missing from the
run), 2 usage error (unreadable input, nothing to compare, bad tolerance).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

MATCH_KEY = ["benchmark", "model", "resolution", "subset", "bin", "metric"]
DEFAULT_RTOL = 1e-6


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
            raise GateUsageError(f"bad tolerance {text!r}: use a number (absolute) or N% "
                                 "(relative)") from None
        if v < 0 or math.isnan(v):
            raise GateUsageError(f"tolerance must be >= 0, got {text!r}")
        return cls(v, rel)

    def allowed(self, baseline: float) -> float:
        return self.value * abs(baseline) if self.relative else self.value


def parse_tolerances(specs: list[str]) -> dict[str, Tolerance]:
    out = {}
    for spec in specs:
        metric, sep, tol = spec.partition("=")
        if not sep or not metric:
            raise GateUsageError(f"bad --tol {spec!r}: use METRIC=VALUE, e.g. psnr=0.05 or "
                                 "ssim=0.5%")
        out[metric] = Tolerance.parse(tol)
    return out


def read_rows(path: str | Path) -> pd.DataFrame:
    """Rows from a parquet file, or every results.parquet under a folder."""
    path = Path(path)
    if path.is_file():
        try:
            return pd.read_parquet(path)
        except Exception as exc:
            raise GateUsageError(f"cannot read {path}: {exc}") from exc
    if path.is_dir():
        files = sorted(path.rglob("results.parquet")) or sorted(path.glob("*.parquet"))
        if files:
            return pd.concat([pd.read_parquet(f) for f in files], ignore_index=True)
    raise GateUsageError(f"no result rows at {path}")


def compare(current: pd.DataFrame, baseline: pd.DataFrame, tolerances: dict[str, Tolerance],
            default: Tolerance | None = None) -> pd.DataFrame:
    """One row per baseline value: baseline, current, delta, allowed, status."""
    default = default or Tolerance(DEFAULT_RTOL, True)
    for name, df in (("current", current), ("baseline", baseline)):
        missing = [c for c in MATCH_KEY + ["value", "higher_is_better"] if c not in df]
        if missing:
            raise GateUsageError(f"{name} rows lack columns {missing}")
    # Latest row per key wins on both sides (leaderboards may hold reruns).
    cur = current.drop_duplicates(MATCH_KEY, keep="last").set_index(MATCH_KEY)
    base = baseline.drop_duplicates(MATCH_KEY, keep="last")
    # A whole leaderboard can be the baseline: only (benchmark, model) pairs of this run count.
    ran = set(zip(current["benchmark"], current["model"]))
    base = base[[pair in ran for pair in zip(base["benchmark"], base["model"])]]
    if base.empty:
        raise GateUsageError("no baseline row is for a (benchmark, model) in the current rows")
    out = []
    for _, b in base.iterrows():
        key = tuple(b[k] for k in MATCH_KEY)
        tol = tolerances.get(b["metric"], default)
        row = {**dict(zip(MATCH_KEY, key)), "baseline": float(b["value"]),
               "higher_is_better": bool(b["higher_is_better"])}
        if key not in cur.index:
            out.append({**row, "current": math.nan, "delta": math.nan,
                        "allowed": tol.allowed(row["baseline"]), "status": "missing"})
            continue
        c = float(cur.loc[key, "value"])
        bv = row["baseline"]
        delta = 0.0 if c == bv else c - bv  # also makes inf - inf = 0
        allowed = tol.allowed(bv) if math.isfinite(bv) else 0.0
        worse = -delta if row["higher_is_better"] else delta
        if math.isnan(c) or worse > allowed:
            status = "regression"
        elif worse < -allowed:
            status = "improved"
        else:
            status = "ok"
        out.append({**row, "current": c, "delta": delta, "allowed": allowed, "status": status})
    report = pd.DataFrame(out)
    if (report["status"] == "missing").all():
        raise GateUsageError("no baseline row matches the current rows on " + ", ".join(MATCH_KEY))
    return report


def exit_code(report: pd.DataFrame, allow_missing: bool = False) -> int:
    bad = report["status"].eq("regression")
    if not allow_missing:
        bad |= report["status"].eq("missing")
    return 1 if bool(bad.any()) else 0
