"""Which leaderboard rows a table, a plot or the site shows, and what each is called.

One selection for all three, so a plot never shows a number the table does not. A shown row is
one run *setting*: the model, the images' real size, the precision, and a configuration (benchmark
version, data, judges, benchmark options, model options, generation settings, complete,
comparable). Within one setting the latest run fills the row as a whole, never value by value;
settings of one model that differ in their configuration become rows labelled [A], [B], ...
"""

from __future__ import annotations

import json
from typing import Any

import pandas as pd

from evalkit.records import ROW_COLUMNS, SETTING_DEFAULTS

SETTING_COLUMNS = ("model", "resolution", "image_size", "precision")
# A cell never mixes runs that differ in any of these: they become separate, labelled rows.
CONFIG_COLUMNS = (
    "benchmark_version",
    "dataset_sha256",
    "judges",
    "options",
    "model_options",
    "generation",
    "complete",
    "comparable",
)


def normalize(df: pd.DataFrame) -> pd.DataFrame:
    """Rows of any schema age with every documented column. Files written before `complete`
    existed: a row counts as complete when its options record no --limit; before the setting
    columns: no model options, no generation settings, the nominal resolution."""
    df = df.copy()
    if "complete" not in df.columns or df["complete"].isna().any():

        def no_limit(opts: object) -> bool:
            try:
                return json.loads(str(opts)).get("limit") is None
            except (ValueError, AttributeError):
                return False

        derived = (
            df["options"].map(no_limit)
            if "options" in df.columns
            else pd.Series(False, index=df.index)
        )
        old = df["complete"] if "complete" in df.columns else pd.Series(pd.NA, index=df.index)
        df["complete"] = old.astype(object).where(old.notna(), derived).astype(bool)
    for col in ROW_COLUMNS:
        if col not in df.columns:
            df[col] = pd.NA
    for col, default in {**SETTING_DEFAULTS, "flag_reasons": ""}.items():
        old = df[col] if col in df.columns else pd.Series(pd.NA, index=df.index)
        df[col] = old.astype(object).where(old.notna(), default)
    return df


def select(df: pd.DataFrame, include_all: bool = False) -> pd.DataFrame:
    """The rows to show: complete ones (all with ``include_all``), the latest run per setting,
    with ``setting`` (a key), ``config`` (A, B, ... when configurations differ) and ``label``
    (model [config] (incomplete))."""
    df = normalize(df).reset_index(drop=True)
    if not include_all:
        df = df[df["complete"].astype(bool)]
    if df.empty:
        return df.assign(setting="", config="", label="")
    configs = _keys(df, CONFIG_COLUMNS)
    settings = _keys(df, SETTING_COLUMNS) + "\x1e" + configs
    if df["run_id"].notna().all():  # a rerun replaces the whole row, never value by value
        when = df["timestamp"].astype(object).where(df["timestamp"].notna(), "").astype(str)
        ordered = df.assign(_setting=settings, _when=when).sort_values("_when", kind="stable")
        latest = set(ordered.groupby("_setting", sort=False)["run_id"].last())
        keep = df["run_id"].isin(latest)
        df, configs, settings = df[keep], configs[keep], settings[keep]
    order = list(dict.fromkeys(configs))
    letters = {k: _letter(i) for i, k in enumerate(order)} if len(order) > 1 else {}
    df = df.assign(setting=settings, config=configs.map(lambda k: letters.get(k, "")))
    labels = df["model"].astype(str) + df["config"].map(lambda c: f" [{c}]" if c else "")
    labels += df["complete"].map(lambda c: "" if bool(c) else " (incomplete)")
    return df.assign(label=labels).reset_index(drop=True)


def _keys(df: pd.DataFrame, columns: tuple[str, ...]) -> pd.Series:
    return pd.Series(
        ["\x1f".join(map(str, t)) for t in df[list(columns)].itertuples(index=False)],
        index=df.index,
    )


def _letter(i: int) -> str:
    return chr(ord("A") + i) if i < 26 else f"Z{i}"


def config_legend(shown: pd.DataFrame) -> list[str]:
    """What the [A], [B], ... of :func:`select`'s rows differ in (no lines when none)."""
    if not shown["config"].ne("").any():
        return []
    first = shown.drop_duplicates("config")
    varying = [c for c in CONFIG_COLUMNS if first[c].astype(str).nunique() > 1]
    lines = ["Rows labelled [A], [B], ... come from runs that differ in:"]
    for _, r in first.iterrows():
        lines.append(
            f"  [{r['config']}] " + "; ".join(f"{c} {_describe(c, r[c])}" for c in varying)
        )
    return lines


def _describe(col: str, value: object) -> str:
    if col == "judges":
        return judges_text(value)
    if col == "dataset_sha256":
        return str(value)[:12]
    return str(value)


def size_text(row: Any) -> str:
    """The images' real size: ``128`` (square), ``640x480``, ``128x128, 256x256`` (mixed);
    the nominal resolution for rows that do not record it (reconstructions: the input size)."""
    size = str(_get(row, "image_size") or "")
    if not size:
        return str(_get(row, "resolution"))
    if "," not in size:
        w, _, h = size.partition("x")
        return w if w == h else size
    return size


def setting_label(row: Any) -> str:
    """``model (size px) [precision] [config] (incomplete)``: the name of a shown row. Not
    ``model @size``: ``@N`` in a model id is a token budget (``one-d-piece-s256@2 (32 px)``)."""
    label = f"{_get(row, 'model')} ({size_text(row)} px)"
    if _get(row, "precision") not in (None, "fp32"):
        label += f" {_get(row, 'precision')}"
    if _get(row, "config"):
        label += f" [{_get(row, 'config')}]"
    return label + ("" if bool(_get(row, "complete", True)) else " (incomplete)")


def _get(row: Any, key: str, default: Any = None) -> Any:
    value = row.get(key, default) if hasattr(row, "get") else getattr(row, key, default)
    return default if value is None or (not isinstance(value, str) and pd.isna(value)) else value


def reasons(row: Any) -> str:
    """Why a row is not complete or not comparable: the row's ``flag_reasons`` when it has
    them, else what its options and the card say ("" for a complete, comparable row)."""
    given = str(_get(row, "flag_reasons", "") or "")
    complete, comparable = bool(_get(row, "complete", True)), bool(_get(row, "comparable", True))
    if given or (complete and comparable):
        return given
    found = options_text(changed_options(str(_get(row, "benchmark", "")), _get(row, "options")))
    if not complete:
        return "not complete" + (f": {found}" if found else "")
    return "not comparable: " + (found or "data or judges other than the official ones")


def options_text(options: dict[str, Any]) -> str:
    """``key=value, ...`` with JSON values (``allow_missing=true``)."""
    return ", ".join(
        f"{k}={v if isinstance(v, str) else json.dumps(v)}" for k, v in options.items()
    )


def changed_options(benchmark: str, options: object) -> dict[str, Any]:
    """Options whose value differs from the card's default where the card says the option
    changes what is measured (``changes`` = measure, subset or judge), plus ``limit`` and counts
    of what was scored (``*_scored``)."""
    try:
        given = json.loads(str(options))
    except ValueError:
        return {}
    try:
        from evalkit.cards import load_card

        declared = load_card(benchmark).get("options", {})
    except Exception:  # noqa: BLE001 - no card (yet): only limit and the counts
        declared = {}
    out = {}
    for key, value in given.items():
        spec = declared.get(key, {})
        changed = spec.get("changes") in ("measure", "subset", "judge") and value not in (
            spec.get("default"),
            "",
        )
        if value is not None and (changed or key == "limit" or key.endswith("_scored")):
            out[key] = value
    return out


def judges_text(text: object) -> str:
    """The ``judges`` JSON of a row as people read it: ``role (file:sha256[:8]), ...``."""
    try:
        judges = json.loads(str(text))
    except ValueError:
        return str(text)
    if not judges:
        return "none"
    return ", ".join(f"{k} ({_short_id(v)})" for k, v in sorted(judges.items()))


def _short_id(weights: object) -> str:
    """``file:sha256`` -> ``file:sha256[:8]`` (several comma-separated ids stay separate)."""
    parts = []
    for item in str(weights).split(","):
        name, sep, digest = item.rpartition(":")
        parts.append(f"{name}:{digest[:8]}" if sep and len(digest) > 8 else item)
    return ",".join(parts)
