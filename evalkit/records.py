"""The run record: one tidy row per (run, subset, bin, metric), each carrying its provenance.

The column list here is the schema documented in leaderboards/SCHEMA.md; `ROW_COLUMNS` is checked
against that file by a test so the two cannot drift.
"""

from __future__ import annotations

import datetime as _dt
import json
import os
import platform
import subprocess
from dataclasses import asdict
from functools import lru_cache
from pathlib import Path
from typing import Any

from evalkit import __version__
from evalkit.benchmarks.base import BenchmarkSpec, MetricValue
from evalkit.flags import Flags
from evalkit.types import ModelCard

RECORD_SCHEMA_VERSION = "1"
#: Bump when evalkit's scoring code changes a number without a benchmark/metric version change
#: (2: SSIM as Wang et al., PSNR rows, per-sample VAE noise, balanced-permuted gFID labels).
SCORING_CODE_VERSION = "2"

# (column, dtype) in order; dtype names are pandas dtypes.
ROW_SCHEMA: tuple[tuple[str, str], ...] = (
    ("run_id", "string"),
    ("benchmark", "string"),
    ("benchmark_version", "string"),
    ("task", "string"),
    ("subset", "string"),
    ("bin", "string"),
    ("metric", "string"),
    ("metric_version", "string"),
    ("value", "float64"),
    ("n", "int64"),
    ("higher_is_better", "bool"),
    ("reported_value", "float64"),
    ("model", "string"),
    ("model_family", "string"),
    ("weights", "string"),
    ("provenance", "string"),
    ("discrete", "boolean"),
    ("num_tokens", "Int64"),
    ("compression", "string"),
    ("judge", "string"),
    ("judge_weights", "string"),
    ("judges", "string"),
    ("resolution", "int64"),
    ("image_size", "string"),
    ("model_options", "string"),
    ("generation", "string"),
    ("preprocessing", "string"),
    ("options", "string"),
    ("dataset", "string"),
    ("dataset_source", "string"),
    ("dataset_revision", "string"),
    ("dataset_sha256", "string"),
    ("comparable", "bool"),
    ("complete", "bool"),
    ("flag_reasons", "string"),
    ("seed", "int64"),
    ("precision", "string"),
    ("evalkit_version", "string"),
    ("git_sha", "string"),
    ("torch_version", "string"),
    ("cuda_version", "string"),
    ("device", "string"),
    ("wall_time_s", "float64"),
    ("peak_memory_mb", "float64"),
    ("timestamp", "string"),
)
ROW_COLUMNS = tuple(name for name, _ in ROW_SCHEMA)
IDENTITY_KEY = ("run_id", "subset", "bin", "metric")


@lru_cache(maxsize=1)
def git_sha() -> str:
    """The evalkit checkout's commit, or "" for an installed wheel."""
    here = Path(__file__).resolve().parent
    try:
        out = subprocess.run(
            ["git", "-C", str(here), "rev-parse", "HEAD"],
            capture_output=True,
            text=True,
            timeout=5,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return ""
    return out.stdout.strip() if out.returncode == 0 else ""


def environment(device: str) -> dict[str, str]:
    import torch

    return {
        "torch_version": torch.__version__,
        "cuda_version": torch.version.cuda or "",
        "device": device
        if device != "cpu"
        else f"cpu ({platform.processor() or platform.machine()}, {os.cpu_count()} cores)",
    }


def run_identity(
    spec: BenchmarkSpec,
    card: ModelCard,
    model_options: dict[str, Any],
    precision: str,
    seed: int,
    device_type: str = "cpu",
    judges: dict[str, str] | None = None,
    limit: int | None = None,
) -> dict[str, Any]:
    """Everything that changes a number; its hash is the run id (and the resume key).

    ``device_type`` is cpu/cuda, never the index (ranks and shards share a run); ``judges`` are
    the resolved judge / feature-network weights (``weights="auto"`` as it resolved); ``limit``
    is the runner's ``--limit``.
    """
    return {
        "limit": limit,
        "record_schema": RECORD_SCHEMA_VERSION,
        "scoring_code": SCORING_CODE_VERSION,
        "device_type": device_type,
        "judges": dict(sorted((judges or {}).items())),
        "spec": asdict(spec),
        "model": card.id,
        "weights": card.weights_id(),
        "model_extra": dict(card.extra),
        "model_options": model_options,
        "precision": precision,
        "seed": seed,
    }


def provenance() -> str:
    """JSON: every file this run read (weights, judges, data), each with its sha256, size, the
    source and commit it came from and how it was verified (evalkit.assets.Verified)."""
    from evalkit.assets import used

    rows = sorted((v.row() for v in used()), key=lambda r: (r["name"], r["source"]))
    return json.dumps(rows, sort_keys=True)


def build_rows(
    values: list[MetricValue],
    *,
    run_id: str,
    spec: BenchmarkSpec,
    card: ModelCard,
    judges: dict[str, str],
    seed: int,
    precision: str,
    env: dict[str, str],
    wall_time_s: float,
    peak_memory_mb: float,
    flags: Flags,
    limit: int | None = None,
    setting: tuple[Any, dict[str, Any]] | None = None,
) -> list[dict[str, Any]]:
    """One row per value. ``setting`` = (per-sample records, model options): see
    :func:`setting_columns` (the images' real size, model options, generation settings)."""
    now = _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")
    common = {
        "run_id": run_id,
        "benchmark": spec.name,
        "benchmark_version": spec.version,
        "task": spec.task,
        "model": card.id,
        "model_family": card.family,
        "weights": card.weights_id(),
        "provenance": provenance(),
        "discrete": card.discrete,
        "num_tokens": card.num_tokens,
        "compression": card.compression,
        "judges": json.dumps(judges, sort_keys=True),
        "resolution": spec.resolution,
        "preprocessing": spec.resize,
        "options": json.dumps({**spec.options, "limit": limit}, sort_keys=True, default=str),
        "dataset": spec.dataset.name,
        "dataset_source": spec.dataset.source,
        "dataset_revision": spec.dataset.revision,
        "dataset_sha256": spec.dataset.sha256,
        # derived by evalkit.flags; comparable means complete *and* comparable with published
        "comparable": flags.comparable,
        "complete": flags.complete,
        "flag_reasons": flags.reasons,
        "seed": seed,
        "precision": precision,
        "evalkit_version": __version__,
        "git_sha": git_sha(),
        "wall_time_s": wall_time_s,
        "peak_memory_mb": peak_memory_mb,
        "timestamp": now,
        **env,
        **(setting_columns(*setting, spec) if setting else SETTING_DEFAULTS),
    }
    rows = []
    for v in values:
        rows.append(
            {
                **common,
                "subset": v.subset,
                "bin": v.bin,
                "metric": v.metric,
                "metric_version": v.metric_version,
                "value": v.value,
                "n": v.n,
                "higher_is_better": v.higher_is_better,
                "reported_value": v.reported,
                "judge": v.judge,
                "judge_weights": v.judge_weights,
            }
        )
    return rows


# Per-sample generation columns (runner._attach_generation_info) that make up a run's setting;
# the per-image seed and prompt token counts vary by sample and are left out.
GENERATION_FIELDS = ("gen_steps", "gen_guidance", "gen_height", "gen_width", "gen_seeding")
SETTING_DEFAULTS = {"image_size": "", "model_options": "{}", "generation": "{}"}


def setting_columns(
    records: Any, model_options: dict[str, Any], spec: BenchmarkSpec
) -> dict[str, Any]:
    """The row columns that tell runs apart beyond the spec: ``model_options`` (preset, dtype,
    steps, ...), ``generation`` (what the records say made the images) and, for generation
    benchmarks whose records carry ``height``/``width``, the images' real size, which then
    replaces the spec's nominal ``resolution`` (0 when the images differ in size)."""
    out: dict[str, Any] = {
        "model_options": json.dumps(model_options, sort_keys=True, default=str),
        "generation": json.dumps(_generation(records), sort_keys=True, default=str),
        "image_size": "",
        "resolution": spec.resolution,
    }
    if spec.task != "generation" or not {"height", "width"} <= set(getattr(records, "columns", ())):
        return out
    per_image = records.drop_duplicates("sample_id") if "sample_id" in records else records
    sizes = sorted({(int(w), int(h)) for h, w in zip(per_image["height"], per_image["width"])})
    if sizes:
        out["image_size"] = ", ".join(f"{w}x{h}" for w, h in sizes)
        out["resolution"] = max(sizes[0]) if len(sizes) == 1 else 0
    return out


def _generation(records: Any) -> dict[str, Any]:
    """Each generation field's value (a sorted list when samples differ); {} without any."""
    found: dict[str, Any] = {}
    for col in GENERATION_FIELDS:
        if col not in getattr(records, "columns", ()):
            continue
        values = sorted({v.item() if hasattr(v, "item") else v for v in records[col].dropna()})
        if values:
            found[col.removeprefix("gen_")] = values[0] if len(values) == 1 else values
    return found


def to_frame(rows: list[dict[str, Any]]) -> Any:
    """Rows -> DataFrame with the documented column order and dtypes."""
    import pandas as pd

    df = pd.DataFrame(rows, columns=list(ROW_COLUMNS))
    return df.astype(dict(ROW_SCHEMA))
