"""The on-disk state of one run: completed parts, so that a killed run resumes where it stopped.

Layout of ``<out>/<benchmark>/<model>/<run_id>/``::

    run.json                 the run identity (everything hashed into run_id)
    parts/part-<first>.parquet   per-sample records of one batch
    parts/part-<first>.npz       the batch's summable state (optional)
    parts/part-<first>.json      commit marker, written last: covered sample ids, seconds
    samples.parquet          all per-sample records, sorted by sample (written at the end)
    results.parquet          the run's tidy result rows

Every file is written to a temporary name and renamed, and a part counts only once its marker
exists, so a SIGKILL at any point leaves either a whole part or none.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from evalkit.cache import atomic_write, atomic_write_text, canonical_json


@dataclass
class Part:
    first_index: int
    sample_ids: list[str]
    seconds: float
    records: Path
    state: Path | None


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
            state = marker.with_suffix(".npz")
            found.append(Part(meta["first_index"], meta["sample_ids"], meta["seconds"],
                              marker.with_suffix(".parquet"), state if state.exists() else None))
        return sorted(found, key=lambda p: p.first_index)

    def completed_ids(self) -> set[str]:
        return {sid for part in self.parts() for sid in part.sample_ids}

    def write_part(self, first_index: int, sample_ids: list[str], records: pd.DataFrame,
                   state: dict[str, np.ndarray] | None, seconds: float) -> None:
        stem = self.parts_dir / f"part-{first_index:09d}"
        atomic_write(stem.with_suffix(".parquet"), lambda tmp: records.to_parquet(tmp, index=False))
        if state:
            atomic_write(stem.with_suffix(".npz"), lambda tmp: _save_npz(tmp, state))
        marker = {"first_index": first_index, "sample_ids": sample_ids, "seconds": seconds}
        atomic_write_text(stem.with_suffix(".json"), json.dumps(marker))

    def load_records(self) -> pd.DataFrame:
        frames = [pd.read_parquet(p.records) for p in self.parts()]
        frames = [f for f in frames if len(f)]
        if not frames:
            return pd.DataFrame()
        df = pd.concat(frames, ignore_index=True)
        order = ["sample_index", "record_index"] if "record_index" in df else ["sample_index"]
        return df.sort_values(order, kind="stable").reset_index(drop=True)

    def load_states(self) -> list[dict[str, np.ndarray]]:
        states = []
        for part in self.parts():
            if part.state is not None:
                with np.load(part.state, allow_pickle=False) as z:
                    states.append({k: z[k] for k in z.files})
        return states

    def seconds(self) -> float:
        return sum(p.seconds for p in self.parts())


def _save_npz(tmp: str, state: dict[str, np.ndarray]) -> None:
    with open(tmp, "wb") as f:
        np.savez(f, **state)
