"""The on-disk state of one run: completed parts, so that a killed run resumes where it stopped.

Layout of ``<out>/<benchmark>/<model>/<run_id>/``::

    run.json                 the run identity (everything hashed into run_id)
    parts/part-<first>.parquet   per-sample records of one batch
    parts/part-<first>.json      commit marker, written last: covered sample ids, seconds
    state.npz                checkpoint of the merged streaming state (benchmarks with state)
    samples.parquet          all per-sample records, sorted by sample (written at the end)
    results.parquet          the run's tidy result rows

Every file is written to a temporary name and renamed, and a part counts only once its marker
exists, so a SIGKILL at any point leaves either a whole part or none. Streaming state (e.g. FID's
float64 sums, 32 MB a side) is not kept per batch: the merged state is checkpointed with the list
of parts it includes, and on resume parts the checkpoint does not include are done again.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from evalkit.cache import atomic_write, atomic_write_text, canonical_json

PARTS_KEY = "__parts__"


@dataclass
class Part:
    first_index: int
    sample_ids: list[str]
    seconds: float
    records: Path
    stateful: bool
    peak_memory_mb: float


class RunStore:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.parts_dir = root / "parts"

    def init(self, identity: dict[str, Any]) -> None:
        self.parts_dir.mkdir(parents=True, exist_ok=True)
        path = self.root / "run.json"
        if not path.exists():
            atomic_write_text(path, json.dumps(json.loads(canonical_json(identity)), indent=2))

    def parts(self) -> list[Part]:
        found = []
        for marker in sorted(self.parts_dir.glob("part-*.json")):
            meta = json.loads(marker.read_text())
            found.append(Part(meta["first_index"], meta["sample_ids"], meta["seconds"],
                              marker.with_suffix(".parquet"), meta.get("stateful", False),
                              meta.get("peak_memory_mb", 0.0)))
        return sorted(found, key=lambda p: p.first_index)

    def completed_ids(self) -> set[str]:
        return {sid for part in self.parts() for sid in part.sample_ids}

    def write_part(self, first_index: int, sample_ids: list[str], records: pd.DataFrame,
                   seconds: float, stateful: bool, peak_memory_mb: float = 0.0) -> None:
        stem = self.parts_dir / f"part-{first_index:09d}"
        atomic_write(stem.with_suffix(".parquet"), lambda tmp: records.to_parquet(tmp, index=False))
        marker = {"first_index": first_index, "sample_ids": sample_ids, "seconds": seconds,
                  "stateful": stateful, "peak_memory_mb": peak_memory_mb}
        atomic_write_text(stem.with_suffix(".json"), json.dumps(marker))

    def drop_part(self, first_index: int) -> None:
        stem = self.parts_dir / f"part-{first_index:09d}"
        for suffix in (".json", ".parquet"):  # marker first: a half-dropped part is not done
            stem.with_suffix(suffix).unlink(missing_ok=True)

    def save_state(self, state: dict[str, np.ndarray], parts: list[int]) -> None:
        payload = {**state, PARTS_KEY: np.asarray(sorted(parts), dtype=np.int64)}
        atomic_write(self.root / "state.npz", lambda tmp: _save_npz(tmp, payload))

    def reconcile(self) -> dict[str, np.ndarray] | None:
        """Drop parts whose state the checkpoint lacks (killed before it was saved); return it."""
        state, included = self.load_state()
        for part in self.parts():
            if part.stateful and part.first_index not in included:
                self.drop_part(part.first_index)
        return state

    def load_state(self) -> tuple[dict[str, np.ndarray] | None, set[int]]:
        """The checkpointed merged state and the first indices of the parts it includes."""
        path = self.root / "state.npz"
        if not path.exists():
            return None, set()
        with np.load(path, allow_pickle=False) as z:
            state = {k: z[k] for k in z.files if k != PARTS_KEY}
            parts = {int(i) for i in z[PARTS_KEY]}
        return state, parts

    def load_records(self) -> pd.DataFrame:
        frames = [pd.read_parquet(p.records) for p in self.parts()]
        frames = [f for f in frames if len(f)]
        if not frames:
            return pd.DataFrame()
        df = pd.concat(frames, ignore_index=True)
        order = ["sample_index", "record_index"] if "record_index" in df else ["sample_index"]
        return df.sort_values(order, kind="stable").reset_index(drop=True)

    def seconds(self) -> float:
        return sum(p.seconds for p in self.parts())

    def peak_memory_mb(self) -> float:
        """The highest peak any invocation of this run reached (resumed runs included)."""
        return max((p.peak_memory_mb for p in self.parts()), default=0.0)


def _save_npz(tmp: str, state: dict[str, np.ndarray]) -> None:
    with open(tmp, "wb") as f:
        np.savez(f, **state)
