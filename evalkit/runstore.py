"""The on-disk state of one run: completed parts, so that a killed run resumes where it stopped.

Layout of ``<out>/<benchmark>/<model>/<run_id>/``::

    run.json                 the run identity (everything hashed into run_id)
    invocation.json          how the run was asked for (benchmark, model, options), for `merge`
    parts/part-<first>.parquet   per-sample records of one batch (one process: shard 0/1)
    parts/part-<first>.json      commit marker, written last: covered sample ids, seconds
    state.npz                checkpoint of the merged streaming state (benchmarks with state)
    shard.json               the shard's plan (range, batch size, device); "done" once finished
    shards/<K>-of-<N>/       the same four for shard K/N (torchrun rank K of N, or --shard K/N)
    samples.parquet          all per-sample records, sorted by sample (written at the end)
    results.parquet          the run's tidy result rows

Every file is written to a temporary name and renamed, and a part counts only once its marker
exists, so a SIGKILL at any point leaves either a whole part or none. Streaming state (e.g. FID's
float64 sums, 32 MB a side) is not kept per batch: each shard checkpoints its merged state with
the list of its parts it includes; a stateful part that its shard's checkpoint lacks does not
count (its owner redoes it on resume). Each shard writes only in its own folder, under a lock, so
shards may run at once; reading the whole run (``collect``) merges every shard in a fixed order.
"""

from __future__ import annotations

import json
import queue
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from evalkit.cache import atomic_write, atomic_write_text, canonical_json
from evalkit.distributed import Shard

PARTS_KEY = "__parts__"


class IncompleteRunError(RuntimeError):
    """The run folder does not (yet) hold every sample exactly once; the message names shards."""


class ShardMismatchError(IncompleteRunError):
    """A shard folder of the run holds another run's samples (other run id or identity)."""


class ShardBusyError(RuntimeError):
    """Another process holds this shard's lock (the same shard run twice at once)."""


@dataclass
class Part:
    first_index: int
    sample_ids: list[str]
    seconds: float
    records: Path
    stateful: bool
    peak_memory_mb: float


def _shard_of(dirname: str) -> Shard | None:
    k, sep, n = dirname.partition("-of-")
    return Shard(int(k), int(n)) if sep and k.isdigit() and n.isdigit() else None


class RunStore:
    """One run folder; writes go to the folder of ``shard`` (the root for shard 0/1)."""

    def __init__(self, root: Path, shard: Shard | None = None) -> None:
        self.root = root
        self.shard = shard or Shard()
        self.dir = self.shard_dir(self.shard)
        self.parts_dir = self.dir / "parts"

    def shard_dir(self, shard: Shard) -> Path:
        return self.root if shard.count == 1 else self.root / "shards" / shard.dirname

    def init(self, identity: dict[str, Any], invocation: dict[str, Any] | None = None) -> None:
        self.parts_dir.mkdir(parents=True, exist_ok=True)
        path = self.root / "run.json"
        if not path.exists():
            atomic_write_text(path, json.dumps(json.loads(canonical_json(identity)), indent=2))
        if invocation is not None:  # same content from every shard: a racing rename is harmless
            atomic_write_text(
                self.root / "invocation.json",
                json.dumps(json.loads(canonical_json(invocation)), indent=2),
            )

    @contextmanager
    def lock(self) -> Iterator[None]:
        """Hold this shard's lock: a second process on the same shard fails at once, by name."""
        from filelock import FileLock, Timeout

        self.dir.mkdir(parents=True, exist_ok=True)
        lock = FileLock(str(self.dir / ".lock"), timeout=0)
        try:
            lock.acquire()
        except Timeout:
            what = f"shard {self.shard.label} of run" if self.shard.count > 1 else "run"
            raise ShardBusyError(  # a plain run says nothing of shards the user never asked for
                f"{what} {self.root} is already being run by another process (the same command "
                "started twice?); wait for it to finish, then rerun to get its rows"
            ) from None
        try:
            yield
        finally:
            lock.release()

    # --- this shard's folder --------------------------------------------------------------
    def parts(self, folder: Path | None = None) -> list[Part]:
        found = []
        for marker in sorted(((folder or self.dir) / "parts").glob("part-*.json")):
            meta = json.loads(marker.read_text())
            found.append(
                Part(
                    meta["first_index"],
                    meta["sample_ids"],
                    meta["seconds"],
                    marker.with_suffix(".parquet"),
                    meta.get("stateful", False),
                    meta.get("peak_memory_mb", 0.0),
                )
            )
        return sorted(found, key=lambda p: p.first_index)

    def write_part(
        self,
        first_index: int,
        sample_ids: list[str],
        records: pd.DataFrame,
        seconds: float,
        stateful: bool,
        peak_memory_mb: float = 0.0,
    ) -> None:
        stem = self.parts_dir / f"part-{first_index:09d}"
        atomic_write(stem.with_suffix(".parquet"), lambda tmp: records.to_parquet(tmp, index=False))
        marker = {
            "first_index": first_index,
            "sample_ids": sample_ids,
            "seconds": seconds,
            "stateful": stateful,
            "peak_memory_mb": peak_memory_mb,
            "shard": self.shard.label,
        }
        atomic_write_text(stem.with_suffix(".json"), json.dumps(marker))

    def drop_part(self, first_index: int) -> None:
        stem = self.parts_dir / f"part-{first_index:09d}"
        for suffix in (".json", ".parquet"):  # marker first: a half-dropped part is not done
            stem.with_suffix(suffix).unlink(missing_ok=True)

    def save_state(self, state: dict[str, np.ndarray], parts: list[int]) -> None:
        payload = {**state, PARTS_KEY: np.asarray(sorted(parts), dtype=np.int64)}
        atomic_write(self.dir / "state.npz", lambda tmp: _save_npz(tmp, payload))

    def reconcile(self) -> dict[str, np.ndarray] | None:
        """Drop this shard's parts whose state its checkpoint lacks (killed before it was saved)."""
        state, included = self.load_state()
        for part in self.parts():
            if part.stateful and part.first_index not in included:
                self.drop_part(part.first_index)
        return state

    def load_state(
        self, folder: Path | None = None
    ) -> tuple[dict[str, np.ndarray] | None, set[int]]:
        """A shard's checkpointed merged state and the first indices of the parts it includes."""
        path = (folder or self.dir) / "state.npz"
        if not path.exists():
            return None, set()
        with np.load(path, allow_pickle=False) as z:
            state = {k: z[k] for k in z.files if k != PARTS_KEY}
            parts = {int(i) for i in z[PARTS_KEY]}
        return state, parts

    def write_plan(self, plan: dict[str, Any], done: bool) -> None:
        atomic_write_text(self.dir / "shard.json", json.dumps({**plan, "done": done}, indent=2))

    def check_plan(self, batch_size: int) -> None:
        """Every shard of one split must cut batches alike, or ranges would overlap or gap."""
        for folder, shard in self.shard_folders():
            plan = self._plan(folder)
            if (
                shard.count == self.shard.count
                and shard != self.shard
                and plan
                and plan.get("batch_size") != batch_size
            ):
                raise ValueError(
                    f"shard {shard.label} of this run used --batch-size {plan.get('batch_size')}; "
                    f"run every shard of a {shard.count}-way split with the same batch size "
                    f"(this one: {batch_size})"
                )

    # --- the whole run (every shard folder) -----------------------------------------------
    def shard_folders(self) -> list[tuple[Path, Shard]]:
        """The root (shard 0/1) and every shards/<K>-of-<N> folder, in a fixed order."""
        found = [(self.root, Shard())]
        base = self.root / "shards"
        if base.is_dir():
            for d in base.iterdir():
                shard = _shard_of(d.name)
                if shard is not None and d.is_dir():
                    found.append((d, shard))
        return sorted(found, key=lambda fs: (fs[1].count, fs[1].index))

    def check_shards(self, run_id: str, identity: dict[str, Any]) -> None:
        """Every folder holding parts belongs to this run: its ``shard.json`` names this run id
        and identity. A shard copied from another run (another model, data or options) is
        refused by name, never merged into this run's numbers."""
        want = json.loads(canonical_json(identity))
        for folder, shard in self.shard_folders():
            if not self.parts(folder):
                continue
            plan = self._plan(folder) or {}
            where = f"shard {shard.label} ({folder})"
            if "run_id" not in plan:
                raise ShardMismatchError(
                    f"{where} does not say which run it belongs to (no run id in "
                    f"{folder / 'shard.json'}); rerun that shard with this evalkit"
                )
            if plan["run_id"] != run_id or canonical_json(plan.get("identity")) != canonical_json(
                want
            ):
                theirs = plan.get("identity") or {}
                differ = sorted(
                    k for k in want.keys() | theirs.keys() if theirs.get(k) != want.get(k)
                )
                raise ShardMismatchError(
                    f"{where} belongs to run {plan['run_id']} (model {theirs.get('model')!r}), "
                    f"not to this run {run_id} (model {want.get('model')!r}); they differ in "
                    f"{', '.join(differ) or 'their run id'}. It was copied from another run: "
                    "remove it and run this run's shard"
                )

    def _plan(self, folder: Path) -> dict[str, Any] | None:
        path = folder / "shard.json"
        return json.loads(path.read_text()) if path.exists() else None

    def _valid_parts(self) -> list[tuple[Shard, Path, Part]]:
        """Parts that count: stateless ones, and stateful ones their shard's checkpoint holds."""
        out = []
        for folder, shard in self.shard_folders():
            parts = self.parts(folder)
            included = self.load_state(folder)[1] if any(p.stateful for p in parts) else set()
            out += [
                (shard, folder, p) for p in parts if not p.stateful or p.first_index in included
            ]
        return out

    def completed_ids(self) -> set[str]:
        return {sid for _, _, part in self._valid_parts() for sid in part.sample_ids}

    def collect(
        self, ids: Sequence[str], merge_states: Callable[[list[dict[str, np.ndarray]]], Any]
    ) -> tuple[pd.DataFrame, dict[str, np.ndarray] | None]:
        """Every sample's records and the exactly merged state; an error names what is wrong."""
        owner: dict[str, tuple[Shard, Path]] = {}
        valid = self._valid_parts()
        for shard, folder, part in valid:
            for sid in part.sample_ids:
                if sid in owner:
                    other, other_folder = owner[sid]
                    raise IncompleteRunError(
                        f"sample {sid!r} is done twice: by shard {other.label} ({other_folder}) "
                        f"and by shard {shard.label} ({folder}); the run folder holds a duplicated "
                        "shard: delete one of them and merge again"
                    )
                owner[sid] = (shard, folder)
        missing = [i for i, sid in enumerate(ids) if sid not in owner]
        if missing:
            raise IncompleteRunError(self._missing_message(ids, missing))
        frames = [pd.read_parquet(p.records) for _, _, p in valid]
        frames = [f for f in frames if len(f)]
        records = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
        if len(records):
            order = (
                ["sample_index", "record_index"] if "record_index" in records else ["sample_index"]
            )
            records = records.sort_values(order, kind="stable").reset_index(drop=True)
        states = [
            s for s, _ in (self.load_state(f) for f, _ in self.shard_folders()) if s is not None
        ]
        return records, merge_states(states) if states else None

    def _missing_message(self, ids: Sequence[str], missing: list[int]) -> str:
        splits: dict[int, dict[Shard, tuple[Path, dict[str, Any] | None]]] = {}
        for folder, shard in self.shard_folders():
            if shard.count > 1:
                splits.setdefault(shard.count, {})[shard] = (folder, self._plan(folder))
        lines = []
        for n, seen in sorted(splits.items()):
            batch = next((p["batch_size"] for _, p in seen.values() if p), None)
            if batch is None:
                continue
            for k in range(n):
                shard = Shard(k, n)
                rng = shard.indices(len(ids), batch)
                lacking = [i for i in missing if i in rng]
                if not lacking:
                    continue
                folder, plan = seen.get(shard, (self.shard_dir(shard), None))
                why = (
                    "is missing (no " + str(folder) + ")"
                    if shard not in seen
                    else "did not finish"
                    if not (plan and plan.get("done"))
                    else "lost samples"
                )
                lines.append(
                    f"shard {shard.label} {why}: {len(lacking)} samples, e.g. "
                    f"{ids[lacking[0]]!r}; run it with --shard {shard.label} "
                    f"--batch-size {batch}"
                )
        if not lines:
            lines.append(
                f"{len(missing)} of {len(ids)} samples are not done, e.g. "
                f"{ids[missing[0]]!r}; rerun the same command to finish them"
            )
        return f"run {self.root} is incomplete:\n  " + "\n  ".join(lines)

    def load_records(self) -> pd.DataFrame:
        frames = [pd.read_parquet(p.records) for _, _, p in self._valid_parts()]
        frames = [f for f in frames if len(f)]
        if not frames:
            return pd.DataFrame()
        df = pd.concat(frames, ignore_index=True)
        order = ["sample_index", "record_index"] if "record_index" in df else ["sample_index"]
        return df.sort_values(order, kind="stable").reset_index(drop=True)

    def identity(self) -> dict[str, Any]:
        """The run identity ``init`` wrote (run.json): model options, judges, spec, ..."""
        return dict(json.loads((self.root / "run.json").read_text()))

    def seconds(self) -> float:
        """Model + scoring seconds summed over every part (device-seconds when sharded)."""
        return sum(p.seconds for _, _, p in self._valid_parts())

    def peak_memory_mb(self) -> float:
        """The highest peak any invocation of this run reached (resumed runs included)."""
        return max((p.peak_memory_mb for _, _, p in self._valid_parts()), default=0.0)

    def devices(self) -> list[str]:
        found = {
            str(plan["device"])
            for folder, _ in self.shard_folders()
            if (plan := self._plan(folder)) and plan.get("device")
        }
        return sorted(found)


class BackgroundWriter:
    """One thread that runs write jobs in order, off the critical path of the batch loop.

    The queue is bounded (a slow disk slows the loop rather than filling memory); jobs run in
    submission order, so a state checkpoint queued after its parts is written after them. The
    first exception a job raises is re-raised in the caller by the next ``submit`` or ``flush``;
    later jobs are skipped, so nothing is written after a failed write.
    """

    def __init__(self, maxsize: int = 8) -> None:
        self._queue: queue.Queue[Callable[[], None] | None] = queue.Queue(maxsize)
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._loop, name="evalkit-writer", daemon=True)
        self._thread.start()

    def _loop(self) -> None:
        while True:
            job = self._queue.get()
            try:
                if job is None:
                    return
                if self._error is None:
                    job()
            except BaseException as exc:  # noqa: BLE001 - handed to the caller
                self._error = exc
            finally:
                self._queue.task_done()

    @property
    def failed(self) -> bool:
        return self._error is not None

    def _raise(self) -> None:
        if self._error is not None:
            raise self._error

    def submit(self, job: Callable[[], None]) -> None:
        self._raise()
        self._queue.put(job)

    def flush(self) -> None:
        """Wait until every queued job ran; raise the first failure."""
        self._queue.join()
        self._raise()

    def close(self) -> None:
        self._queue.put(None)
        self._thread.join()


def _save_npz(tmp: str, state: dict[str, np.ndarray]) -> None:
    with open(tmp, "wb") as f:
        np.savez(f, **state)
