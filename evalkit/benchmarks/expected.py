"""Is the data a run read the benchmark's own dataset? One generic check against its manifest.

A run is `complete` (leaderboards/SCHEMA.md) only when it read the benchmark's whole dataset. A
``--data`` folder proves that by matching what the benchmark expects: its pinned content hash
where one is established, else the expected file count and file names (e.g. the 50,000
``ILSVRC2012_val_XXXXXXXX.JPEG`` files of ImageNet val). Benchmarks call :func:`mismatch` with
their expectation; a reason string (not None) makes the run not complete.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from evalkit.benchmarks.base import DatasetManifest


@dataclass(frozen=True)
class ExpectedData:
    """What the benchmark's dataset must look like; the strongest available check is used."""

    name: str
    sha256: str | None = None  # pinned DatasetManifest.sha256 (id + file hash of every sample)
    n: int | None = None  # expected number of samples
    file_names: Collection[str] | None = None  # expected base names, in any folder layout


def mismatch(manifest: DatasetManifest, ids: Sequence[str], expected: ExpectedData) -> str | None:
    """None when ``manifest``/``ids`` are ``expected``'s dataset, else one line saying why not."""
    if expected.sha256 is not None:
        if manifest.sha256 == expected.sha256:
            return None
        got = (manifest.sha256 or "none")[:12]
        return f"data hash {got} is not the pinned hash {expected.sha256[:12]} of {expected.name}"
    if expected.n is None and expected.file_names is None:
        return f"no manifest of {expected.name} to check the data against"
    if expected.n is not None and len(ids) != expected.n:
        return f"{len(ids):,} samples, {expected.name} has {expected.n:,}"
    if expected.file_names is not None:
        names = {i.rsplit("/", 1)[-1] for i in ids}
        want = set(expected.file_names)
        if len(names) != len(ids):
            return f"duplicate file names in the data; {expected.name} has {len(want):,} files"
        missing, extra = sorted(want - names), sorted(names - want)
        if missing or extra:
            parts = []
            if missing:
                parts.append(f"{len(missing):,} of its files missing (e.g. {missing[0]})")
            if extra:
                parts.append(f"{len(extra):,} other files (e.g. {extra[0]})")
            return f"not {expected.name}: " + ", ".join(parts)
    return None


def non_default(options: Mapping[str, Any], defaults: Mapping[str, Any]) -> list[str]:
    """Names of options whose value differs from the benchmark's default (sorted)."""
    return sorted(k for k, v in defaults.items() if k in options and options[k] != v)
