"""The runner: benchmark x model -> per-sample parquet + tidy result rows (+ leaderboard).

It owns everything adapters and benchmarks should not: device choice, batching, DataLoader
workers, precision, output validation, resume by content hash, atomic writes, progress. The CLI's
``evalkit run`` is a thin wrapper over :func:`run`.
"""

from __future__ import annotations

import contextlib
import functools
import json
import logging
import os
import resource
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch
from torch.utils.data import DataLoader, Dataset

from evalkit import catalog
from evalkit.benchmarks.base import Benchmark
from evalkit.cache import atomic_write, canonical_json, content_hash
from evalkit.distributed import ProcessGroup, Shard
from evalkit.errors import RunInterrupted, check_writable
from evalkit.flags import derive, refuse_publishing
from evalkit.options import check_options, check_run_settings, check_samples_model
from evalkit.records import ROW_COLUMNS, build_rows, environment, run_identity, to_frame
from evalkit.runerrors import RunError, mixed_sizes, stopped
from evalkit.runsetup import prepare, take_run_options
from evalkit.runstore import BackgroundWriter, RunStore, ShardBusyError
from evalkit.seeding import sample_seed
from evalkit.store import run_scope
from evalkit.types import Generator, InputFileError, ModelCard, Tokenizer

log = logging.getLogger("evalkit")

CHECKPOINT_SECONDS = float(os.environ.get("EVALKIT_CHECKPOINT_SECONDS", "60"))  # state saves
PRECISIONS = {"fp32": None, "bf16": torch.bfloat16, "fp16": torch.float16}


class ModelOutputError(ValueError):
    """A model returned NaN/Inf, a wrong shape or values far outside [0, 1]."""


@dataclass
class RunResult:
    run_id: str
    run_dir: Path
    rows: pd.DataFrame
    samples: pd.DataFrame
    resumed_samples: int = 0
    judges: dict[str, str] = field(default_factory=dict)
    leaderboard: Path | None = None  # the leaderboard file the rows were appended to, if any


def pick_device(requested: str | None = None) -> torch.device:
    """CUDA when present (or asked for), else CPU; a device this machine lacks is a ValueError."""
    if not requested:
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        dev = torch.device(requested)
    except RuntimeError:
        raise ValueError(f"unknown device {requested!r}: use cpu, cuda or cuda:N") from None
    if dev.type == "cuda":
        if not torch.cuda.is_available():
            raise ValueError(
                f"device {requested!r} asked for, but CUDA is not available here "
                f"(torch {torch.__version__}, built for CUDA "
                f"{torch.version.cuda or 'none'}); use --device cpu"
            )
        if dev.index is not None and dev.index >= torch.cuda.device_count():
            raise ValueError(
                f"device {requested!r} asked for, but this machine has "
                f"{torch.cuda.device_count()} CUDA device(s)"
            )
    elif dev.type == "mps" and not torch.backends.mps.is_available():
        raise ValueError(f"device {requested!r} asked for, but MPS is not available here")
    elif dev.type not in ("cpu", "cuda", "mps"):
        raise ValueError(f"device {requested!r} is not supported: use cpu, cuda or cuda:N")
    return dev


class _Samples(Dataset):
    """Wraps benchmark.load so DataLoader workers decode; errors name the sample."""

    def __init__(self, bench: Benchmark, indices: list[int], ids: list[str]) -> None:
        self.bench, self.indices, self.ids = bench, indices, ids

    def __len__(self) -> int:
        return len(self.indices)

    def __getitem__(self, i: int) -> dict[str, Any]:
        index = self.indices[i]
        try:
            item = self.bench.load(index)
        except Exception as exc:  # noqa: BLE001 - reported by the main process as one line
            # Raising here, in a DataLoader worker, would reach the user wrapped in the worker's
            # traceback text; a plain message travels back cleanly instead.
            sid = self.ids[index]
            text = " ".join(str(exc).split()) or type(exc).__name__
            return {
                "sample_index": index,
                "sample_id": sid,
                "load_error": text if repr(sid) in text else f"sample {sid!r}: {text}",
                "input_error": isinstance(exc, InputFileError),  # a bad file: exit 2
            }
        item["sample_index"] = index
        item["sample_id"] = self.ids[index]
        x = item.get("input")
        if "condition" in item and x is None:
            return item  # a generation sample: the model makes the image
        if not isinstance(x, torch.Tensor) or x.ndim != 3:
            raise ValueError(f"sample {self.ids[index]!r}: benchmark gave no CHW 'input' tensor")
        return item


def _collate(items: list[dict[str, Any]]) -> tuple[torch.Tensor | None, list[dict[str, Any]]]:
    if any("load_error" in it for it in items):
        return None, items  # the main process reports it (see _Samples)
    if all("input" not in it for it in items):
        return None, items
    if len({tuple(it["input"].shape) for it in items}) != 1:  # reported by the main process
        items[0].update(load_error=mixed_sizes(items), input_error=True)
        return None, items
    return torch.stack([it.pop("input") for it in items]), items


def check_outputs(
    out: Any, inputs: torch.Tensor | None, ids: list[str], model_id: str
) -> torch.Tensor:
    """Reject NaN/Inf, wrong shapes and values far outside [0, 1]; name model and samples.

    With ``inputs`` (reconstruction) the shape must equal theirs; without (generation) the
    output must be N x 3 x H x W for the N conditions asked for.
    """
    if not isinstance(out, torch.Tensor):
        raise ModelOutputError(
            f"model {model_id!r} returned {type(out).__name__}, not a tensor (samples {ids})"
        )
    if inputs is not None and tuple(out.shape) != tuple(inputs.shape):
        raise ModelOutputError(
            f"model {model_id!r} returned shape {tuple(out.shape)} for input "
            f"{tuple(inputs.shape)} (samples {ids})"
        )
    if inputs is None and (out.ndim != 4 or out.shape[0] != len(ids) or out.shape[1] != 3):
        raise ModelOutputError(
            f"model {model_id!r} generated shape {tuple(out.shape)} for "
            f"{len(ids)} conditions; expected ({len(ids)}, 3, H, W) "
            f"(samples {ids})"
        )
    out = out.float()
    bad = ~torch.isfinite(out).flatten(1).all(dim=1)
    if bool(bad.any()):
        names = [ids[i] for i in bad.nonzero().flatten().tolist()]
        raise ModelOutputError(f"model {model_id!r} returned NaN/Inf for samples {names}")
    lo, hi = float(out.min()), float(out.max())
    if lo < -0.5 or hi > 1.5:
        raise ModelOutputError(
            f"model {model_id!r} returned values in [{lo:.3g}, {hi:.3g}] for samples {ids}; "
            "expected images in [0, 1] (is the adapter missing its output scaling?)"
        )
    return out.clamp(0, 1)


def _peak_memory_mb(device: torch.device) -> float:
    if device.type == "cuda":
        return torch.cuda.max_memory_allocated(device) / 2**20
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB


@run_scope
def run(
    benchmark: str,
    model: str,
    *,
    options: dict[str, Any] | None = None,
    model_options: dict[str, Any] | None = None,
    batch_size: int = 8,
    device: str | None = None,
    workers: int | None = None,
    precision: str = "fp32",
    seed: int = 0,
    out_dir: str | Path = "evalkit-results",
    leaderboard_dir: str | Path | None = None,
    publish: bool = False,
    on_batch: Callable[[int, int], None] | None = None,
    on_start: Callable[[int, int], None] | None = None,
    shard: str | Shard | None = None,
) -> RunResult:
    """Run ``benchmark`` on ``model``; a rerun with the same settings resumes and skips done work.

    ``on_start(total, already_done)`` and ``on_batch(n_new, n_done)`` drive a progress display.
    Rows go to ``leaderboard_dir`` when given, if the run is complete (``evalkit.flags``) or
    ``publish`` is True; a diagnostic benchmark's rows never do (SCHEMA.md `complete`).
    ``options["limit"]`` is ``--limit`` (first N units), applied by the runner for every benchmark.
    Launched by torchrun, each rank runs its shard and rank 0 writes the rows once. With
    ``shard="K/N"`` only that shard runs and no rows are written: ``merge`` makes them.
    ``allow_unpinned=True`` (keyword) permits downloading URLs that publish no checksum at all;
    the rows then name them ``(unverified)``, with the sha256 of what was loaded.
    """
    check_run_settings(batch_size, workers, precision, PRECISIONS)
    dev = pick_device(device)  # before any work: a device this machine lacks fails at once
    options, limit = take_run_options({k: v for k, v in (options or {}).items() if v is not None})
    options = check_options(benchmark, catalog.benchmarks.factory(benchmark), options)
    check_samples_model(model, benchmark, options)  # before any run folder is made
    model_options = check_options(
        model, catalog.models.factory(model), model_options or {}, kind="model"
    )
    check_writable(out_dir, "run folder")
    if leaderboard_dir is not None:
        check_writable(leaderboard_dir, "leaderboard")
    if model_options.get("random_init") and leaderboard_dir is not None:
        raise ValueError(
            "random_init builds a model without its weights (for tests): its numbers "
            "must not reach a leaderboard; run with --no-leaderboard"
        )
    if isinstance(shard, str):
        shard = Shard.parse(shard)
    group = ProcessGroup.from_env(dev.type)
    if group is not None and shard is not None and shard.count > 1:
        group.close()
        raise ValueError(
            "--shard is for independent jobs; under torchrun every rank takes its "
            "own shard of the samples"
        )
    try:
        return _run(
            benchmark,
            model,
            options,
            model_options,
            batch_size,
            device,
            workers,
            precision,
            seed,
            Path(out_dir),
            leaderboard_dir,
            on_batch,
            on_start,
            shard or Shard(),
            group,
            limit,
            publish,
        )
    finally:
        if group is not None:
            group.close()


def _run(
    benchmark: str,
    model: str,
    options: dict[str, Any],
    model_options: dict[str, Any],
    batch_size: int,
    device: str | None,
    workers: int | None,
    precision: str,
    seed: int,
    out_dir: Path,
    leaderboard_dir: str | Path | None,
    on_batch: Callable[[int, int], None] | None,
    on_start: Callable[[int, int], None] | None,
    shard: Shard,
    group: ProcessGroup | None,
    limit: int | None,
    publish: bool,
) -> RunResult:
    card = model_card(model)
    bench, ids = prepare(benchmark, options, card, seed, limit)
    card = loaded_card(model, card, model_options)  # the files really loaded, and their sha256
    spec = bench.spec
    dev = group.device(device) if group is not None else pick_device(device)
    identity = run_identity(
        spec,
        card,
        model_options,
        precision,
        seed,
        device_type=dev.type,
        judges=bench.describe_judges(),
        limit=limit,
    )
    run_id = content_hash(identity)  # never depends on rank, world size, shard or device index
    this = group.shard if group is not None else shard
    store = RunStore(out_dir / spec.name / card.id / run_id, this)
    store.init(
        identity,
        {
            "benchmark": benchmark,
            "model": model,
            "options": options,
            "limit": limit,
            "model_options": model_options,
            "precision": precision,
            "seed": seed,
        },
    )
    label = dev.type if group is not None and dev.type == "cuda" else str(dev)
    error: Exception | None = None
    resumed, set_up = 0, False
    try:
        resumed, set_up = _run_shard(
            bench,
            card,
            model,
            model_options,
            ids,
            store,
            identity,
            dev,
            label,
            batch_size,
            workers,
            precision,
            seed,
            on_start,
            on_batch,
        )
    except Exception as exc:
        if group is None:
            raise
        error = exc
    if group is not None:  # every rank reaches this, failed or not: no rank waits forever
        failures = [
            f
            for f in group.all_gather(None if error is None else f"rank {group.rank}: {error}")
            if f
        ]
        if error is not None:
            raise error
        if failures:
            raise RunError(
                "another rank failed (this rank's samples are kept; rerun the same "
                "command to resume):\n" + "\n".join(failures)
            )
    if group is None and this.count > 1:  # an independent shard: `evalkit merge` writes rows
        return RunResult(
            run_id,
            store.root,
            pd.DataFrame(columns=list(ROW_COLUMNS)),
            pd.DataFrame(),
            resumed,
            bench.describe_judges(),
        )
    if group is not None and group.rank != 0:
        failed = group.broadcast(None)
        if failed:
            raise RunError(f"rank 0 could not summarise the run: {failed}")
        return RunResult(
            run_id,
            store.root,
            pd.read_parquet(store.root / "results.parquet"),
            pd.read_parquet(store.root / "samples.parquet"),
            resumed,
            bench.describe_judges(),
        )
    try:
        result = _finalize(
            bench,
            card,
            store,
            ids,
            run_id,
            seed,
            precision,
            dev,
            set_up,
            leaderboard_dir,
            resumed,
            identity,
            limit,
            publish,
        )
    except Exception as exc:
        if group is not None:
            group.broadcast(str(exc) or repr(exc))
        raise
    if group is not None:
        group.broadcast(None)
    return result


def _run_shard(
    bench: Benchmark,
    card: ModelCard,
    model: str,
    model_options: dict[str, Any],
    ids: list[str],
    store: RunStore,
    identity: dict[str, Any],
    dev: torch.device,
    device_label: str,
    batch_size: int,
    workers: int | None,
    precision: str,
    seed: int,
    on_start: Callable[[int, int], None] | None,
    on_batch: Callable[[int, int], None] | None,
) -> tuple[int, bool]:
    """Do this process's shard (all samples for shard 0/1); returns (resumed samples, set up)."""
    with store.lock():
        store.check_plan(batch_size)
        own = store.shard.indices(len(ids), batch_size)
        plan = {
            "shard": store.shard.label,
            "batch_size": batch_size,
            "first": own.start,
            "stop": own.stop,
            "n_samples": len(ids),
            "device": device_label,
            "run_id": store.root.name,  # `merge` refuses a shard of another run by these two
            "identity": json.loads(canonical_json(identity)),
        }
        store.write_plan(plan, done=False)
        state = store.reconcile()
        done = store.completed_ids()
        todo = [i for i in own if ids[i] not in done]
        # Weights are resolved before any work starts: a missing file fails fast, with one message.
        model_obj = catalog.models.build(model, **model_options) if todo else None
        if on_start:
            on_start(len(own), len(own) - len(todo))
        if len(todo) < len(own):
            log.info(
                "resuming %s: %d of %d samples already done",
                store.dir,
                len(own) - len(todo),
                len(own),
            )
        torch.manual_seed(seed)
        if dev.type == "cuda":
            torch.cuda.reset_peak_memory_stats(dev)
        if todo:
            with exact_fp32(precision == "fp32"):
                _process(
                    bench,
                    model_obj,
                    card,
                    ids,
                    todo,
                    store,
                    dev,
                    batch_size,
                    workers,
                    precision,
                    len(own) - len(todo),
                    on_batch,
                    state,
                    seed,
                )
        store.write_plan(plan, done=True)
    return len(own) - len(todo), bool(todo)


@run_scope
def merge(
    run_dir: str | Path,
    *,
    leaderboard_dir: str | Path | None = None,
    device: str | None = None,
    publish: bool = False,
) -> RunResult:
    """Combine the shards of one run folder into its rows: exact, idempotent.

    A missing shard, one that did not finish, one of another run (its ``shard.json`` names
    another run id or identity), or samples done twice stop with an error naming the shard.
    Only ``merge`` (never a ``--shard`` job) appends to a leaderboard, as ``run`` does.
    """
    root = Path(run_dir)
    path = root / "invocation.json"
    if not path.is_file():
        raise ValueError(
            f"{root} is not a run folder (no invocation.json); give the folder "
            "<out>/<benchmark>/<model>/<run_id> that the shards wrote"
        )
    inv = json.loads(path.read_text())
    if inv["model_options"].get("random_init") and leaderboard_dir is not None:
        raise ValueError("random_init runs must not reach a leaderboard; use --no-leaderboard")
    card = model_card(inv["model"])
    options, limit = take_run_options({"limit": inv.get("limit"), **inv["options"]})
    bench, ids = prepare(inv["benchmark"], options, card, int(inv["seed"]), limit)
    card = loaded_card(inv["model"], card, inv["model_options"])
    stored = json.loads((root / "run.json").read_text()) if (root / "run.json").is_file() else {}
    identity = run_identity(
        bench.spec,
        card,
        inv["model_options"],
        inv["precision"],
        inv["seed"],
        device_type=stored.get("device_type", pick_device(device).type),
        judges=bench.describe_judges(),
        limit=limit,
    )
    run_id = content_hash(identity)
    if run_id != root.name:
        raise ValueError(
            f"{root}: this run now hashes to {run_id}, not {root.name}: the code, "
            "data or weights changed since its shards ran; rerun them"
        )
    store = RunStore(root)
    _check_idle(store)
    return _finalize(
        bench,
        card,
        store,
        ids,
        run_id,
        int(inv["seed"]),
        inv["precision"],
        pick_device(device),
        False,
        leaderboard_dir,
        len(ids),
        identity,
        limit,
        publish,
    )


def _check_idle(store: RunStore) -> None:
    from filelock import FileLock, Timeout

    for folder, shard in store.shard_folders():
        lock = FileLock(str(folder / ".lock"), timeout=0)
        try:
            lock.acquire()
        except Timeout:
            raise ShardBusyError(
                f"shard {shard.label} of {store.root} is still running; merge when it has finished"
            ) from None
        lock.release()


def _finalize(
    bench: Benchmark,
    card: ModelCard,
    store: RunStore,
    ids: list[str],
    run_id: str,
    seed: int,
    precision: str,
    dev: torch.device,
    set_up: bool,
    leaderboard_dir: str | Path | None,
    resumed: int,
    identity: dict[str, Any],
    limit: int | None,
    publish: bool,
) -> RunResult:
    """Merge every shard of the run exactly, summarise, write the rows once (+ leaderboard)."""
    store.check_shards(run_id, identity)
    records, state = store.collect(ids, bench.merge_states)
    if not set_up:  # summaries may need what setup loads (e.g. cached reference statistics)
        bench.setup(dev)
    spec = bench.spec
    values = bench.summarize(records, state)
    values = [_with_reported(bench, card, v) for v in values] + _rate_values(records)
    flags = derive(spec.name, replace(bench.facts(ids), limit=limit))  # one rule for all
    wall = store.seconds()  # model + scoring time summed over every invocation and shard
    peak = store.peak_memory_mb()
    rows = to_frame(
        build_rows(
            values,
            run_id=run_id,
            spec=spec,
            card=card,
            judges=bench.describe_judges(),
            seed=seed,
            precision=precision,
            env=environment(",".join(store.devices()) or str(dev)),
            wall_time_s=wall,
            peak_memory_mb=max(peak, _peak_memory_mb(dev)) if set_up else peak,
            setting=(records, store.identity().get("model_options", {})),
            flags=flags,
            limit=limit,
        )
    )
    atomic_write(store.root / "samples.parquet", lambda t: records.to_parquet(t, index=False))
    atomic_write(store.root / "results.parquet", lambda t: rows.to_parquet(t, index=False))
    board = None
    refused = None if leaderboard_dir is None else refuse_publishing(spec.name, flags, publish)
    if leaderboard_dir is not None and refused is None:
        from evalkit.leaderboard import append

        board = Path(leaderboard_dir) / f"{spec.name}.parquet"
        try:
            append(board, rows)
        except OSError as exc:
            raise RunError(
                f"cannot write the leaderboard {board}: {exc.strerror or exc}; the run is kept "
                f"in {store.root} (results.parquet); make the folder writable and rerun the same "
                "command (nothing is recomputed)"
            ) from exc
    elif refused is not None:
        log.warning("%s: rows kept in %s, not appended to %s", refused, store.root, leaderboard_dir)
    return RunResult(
        run_id, store.root, rows, records, resumed, bench.describe_judges(), leaderboard=board
    )


def _rate_values(records: pd.DataFrame) -> list[Any]:
    """One row per rate metric (mean over samples), lower is better."""
    from evalkit import rate
    from evalkit.benchmarks.base import MetricValue

    return [
        MetricValue(metric, value, n, higher_is_better=False, metric_version="1")
        for metric, value, n in rate.summarize(records)
    ]


# torch >= 2.9 API; cuDNN convolutions default to TF32 ("tf32"), which the exact tier must not use
_FP32_SWITCHES = (("cudnn", "conv"), ("cuda", "matmul"), ("mkldnn", "conv"), ("mkldnn", "matmul"))


@contextlib.contextmanager
def exact_fp32(enabled: bool = True) -> Any:
    """IEEE fp32 for convolutions and matmuls (no TF32 / reduced precision) while active.

    The ``fp32`` tier promises exact float32; on Ampere+ GPUs torch's defaults let cuDNN
    convolutions use TF32. Previous settings are restored afterwards.
    """
    if not enabled:
        yield
        return
    saved = []
    for backend, op in _FP32_SWITCHES:
        obj = getattr(getattr(torch.backends, backend, None), op, None)
        if obj is not None and hasattr(obj, "fp32_precision"):
            saved.append((obj, obj.fp32_precision))
            obj.fp32_precision = "ieee"
    try:
        yield
    finally:
        for obj, value in saved:
            obj.fp32_precision = value


def _with_reported(bench: Benchmark, card: ModelCard, v: Any) -> Any:
    if v.reported is not None:
        return v
    reported = bench.reported_value(card, v)
    if reported is None:
        return v
    return replace(v, reported=reported)


def loaded_card(model_id: str, card: ModelCard, model_options: dict[str, Any]) -> ModelCard:
    """The card whose weights are the files this build will load, each with its sha256.

    A family module may declare ``RANDOM_INIT_OPTIONS`` (options that skip the weights) and
    ``WEIGHT_OPTIONS`` (option name -> index of the card file it replaces, e.g. ``weights_path``).
    """
    import importlib

    from evalkit.store import loaded_weights

    module = importlib.import_module(catalog.models.factory(model_id).__module__)
    if any(
        model_options.get(k) is not None and model_options.get(k) is not False
        for k in getattr(module, "RANDOM_INIT_OPTIONS", ())
    ):
        return replace(card, weights=())
    overrides = {
        i: str(model_options[opt])
        for opt, i in getattr(module, "WEIGHT_OPTIONS", {}).items()
        if model_options.get(opt)
    }
    return loaded_weights(card, overrides)


def model_card(model_id: str) -> ModelCard:
    """The card of ``model_id`` without loading weights (registered with its factory)."""
    return catalog.models.card(model_id)


def _process(
    bench: Benchmark,
    model: Any,
    card: ModelCard,
    ids: list[str],
    todo: list[int],
    store: RunStore,
    dev: torch.device,
    batch_size: int,
    workers: int | None,
    precision: str,
    n_done: int,
    on_batch: Callable[[int, int], None] | None,
    state: dict[str, np.ndarray] | None,
    seed: int = 0,
) -> dict[str, np.ndarray] | None:
    """Run the remaining samples; returns the merged streaming state (checkpointed as it goes).

    Batches are the global chunks ``[b * batch_size, (b + 1) * batch_size)`` of the sample
    order (less what is done), so a batch holds the same samples in one process, in a shard or
    on resume. DataLoader workers decode, the next batch is copied to the device while this one
    runs, and parts and checkpoints are written by a background thread.
    """
    bench.setup(dev)
    bench.prepare_run_dir(store.root)
    model = model.to(dev)
    batches = _batches(todo, batch_size)
    if workers is None:
        per_process = _cpu_count() // max(1, int(os.environ.get("LOCAL_WORLD_SIZE", "1")))
        workers = max(0, min(4, len(batches), per_process - 1))
    loader = DataLoader(
        _Samples(bench, todo, ids),
        batch_sampler=batches,
        num_workers=workers,
        collate_fn=_collate,
        persistent_workers=False,
        pin_memory=dev.type == "cuda",
    )
    autocast = (
        torch.autocast(dev.type, dtype=PRECISIONS[precision])
        if PRECISIONS[precision] is not None
        else contextlib.nullcontext()
    )
    count_tokens = (
        hasattr(bench, "score_tokens")
        and bool(card.discrete)
        and bool(card.codebook_size)
        and hasattr(model, "token_ids")
    )
    included = sorted(store.load_state()[1])
    last_checkpoint = time.monotonic()
    writer = BackgroundWriter()
    try:
        for inputs, items in _prefetch(loader, dev):
            t0 = time.perf_counter()
            failed = [it["load_error"] for it in items if "load_error" in it]
            if failed:
                more = f" (and {len(failed) - 1} more in this batch)" if len(failed) > 1 else ""
                bad_file = any(it.get("input_error") for it in items)
                raise (InputFileError if bad_file else ValueError)(failed[0] + more)
            batch_ids = [it["sample_id"] for it in items]
            with torch.inference_mode(), autocast:
                if inputs is None:
                    out, token_ids = _generate(model, items, card), None
                elif count_tokens:  # the same computation as reconstruct, keeping the tokens
                    codes = model.encode(inputs)
                    out, token_ids = model.decode(codes), model.token_ids(codes)
                else:
                    seeds = [sample_seed(seed, sid) for sid in batch_ids]
                    out, token_ids = _reconstruct(model, inputs, card, seeds), None
            out = check_outputs(out, inputs, batch_ids, card.id).cpu()
            if inputs is None:
                _keep_images(bench, items, out, store.root)
                _attach_generation_info(model, items)
            else:
                _attach_rates(model, card, inputs, items)
            scored = bench.score(items, out)
            batch_state = dict(scored.state or {})
            if token_ids is not None:
                batch_state.update(bench.score_tokens(token_ids, card.codebook_size))
            first = items[0]["sample_index"]
            frame = _records_frame(scored.records, items)
            writer.submit(
                functools.partial(
                    store.write_part,
                    first,
                    batch_ids,
                    frame,
                    time.perf_counter() - t0,
                    stateful=bool(batch_state),
                    peak_memory_mb=_peak_memory_mb(dev),
                )
            )
            if batch_state:  # its part is queued first: the checkpoint never runs ahead of it
                state = bench.merge_states([s for s in (state, batch_state) if s is not None])
                included.append(first)
                if time.monotonic() - last_checkpoint > CHECKPOINT_SECONDS:
                    writer.submit(functools.partial(store.save_state, state, list(included)))
                    last_checkpoint = time.monotonic()
            n_done += len(items)
            if on_batch:
                on_batch(len(items), n_done)
        if state is not None:
            writer.submit(functools.partial(store.save_state, state, list(included)))
        writer.flush()
        return state
    except KeyboardInterrupt:
        with contextlib.suppress(Exception):
            writer.flush()  # finished batches are kept
        if state is not None and not writer.failed:
            store.save_state(state, included)
        kept = len(store.completed_ids())
        raise RunInterrupted(
            f"interrupted: {kept} of {len(ids)} samples are done and kept in {store.root}; "
            "rerun the same command to resume"
        ) from None
    except Exception as exc:
        with contextlib.suppress(Exception):
            writer.flush()  # finished batches are kept
        if state is not None and not writer.failed:
            store.save_state(state, included)
        kept = len(store.completed_ids())
        first = _one_line(exc)
        raise stopped(exc)(
            f"{first}; {kept} of {len(ids)} samples are done and kept in {store.root}; fix the "
            "problem and rerun the same command to resume"
        ) from exc
    finally:
        writer.close()


def _batches(todo: list[int], batch_size: int) -> list[list[int]]:
    """Positions into ``todo`` grouped by global batch (sample index // batch_size)."""
    groups: dict[int, list[int]] = {}
    for pos, index in enumerate(todo):
        groups.setdefault(index // batch_size, []).append(pos)
    return [groups[b] for b in sorted(groups)]


def _prefetch(
    loader: DataLoader, dev: torch.device
) -> Iterator[tuple[torch.Tensor | None, list[dict[str, Any]]]]:
    """Yield batches with inputs on ``dev``; on CUDA the next batch's copy (pinned memory,
    non-blocking, on a side stream) overlaps the current batch's compute."""
    if dev.type != "cuda":
        for inputs, items in loader:
            yield (inputs.to(dev) if inputs is not None else None), items
        return
    stream = torch.cuda.Stream(dev)

    def move(
        batch: tuple[torch.Tensor | None, list[dict[str, Any]]],
    ) -> tuple[torch.Tensor | None, list[dict[str, Any]]]:
        inputs, items = batch
        if inputs is None:
            return None, items
        with torch.cuda.stream(stream):
            return inputs.to(dev, non_blocking=True), items

    def ready(
        batch: tuple[torch.Tensor | None, list[dict[str, Any]]],
    ) -> tuple[torch.Tensor | None, list[dict[str, Any]]]:
        if batch[0] is not None:
            current = torch.cuda.current_stream(dev)
            current.wait_stream(stream)
            batch[0].record_stream(current)
        return batch

    pending = None
    batches = iter(loader)
    while True:
        try:
            moved = move(next(batches))
        except StopIteration:
            break
        except Exception:
            if pending is not None:  # a bad next sample must not cost the batch already loaded
                yield ready(pending)
            raise
        if pending is not None:
            yield ready(pending)
        pending = moved
    if pending is not None:
        yield ready(pending)


def _keep_images(
    bench: Benchmark, items: list[dict[str, Any]], images: torch.Tensor, run_dir: Path
) -> None:
    """Save generated images where the benchmark's official layout puts them (PNG, atomic)."""
    from PIL import Image

    for item, image in zip(items, images):
        rel = bench.image_path(item)
        if rel is None:
            continue
        array = image.mul(255).round().clamp(0, 255).to(torch.uint8).permute(1, 2, 0).numpy()
        target = run_dir / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        atomic_write(target, lambda t, a=array: Image.fromarray(a).save(t, format="PNG"))


def _one_line(exc: BaseException) -> str:
    """The message of ``exc`` on one line; for an error re-raised from a DataLoader worker, the
    original exception's last traceback line rather than the worker's traceback text."""
    text = str(exc)
    if "Original Traceback" in text:
        tail = [ln for ln in text.splitlines() if ln.strip()]
        text = tail[-1] if tail else text
    return " ".join(text.split()) or type(exc).__name__


def _generate(model: Any, items: list[dict[str, Any]], card: ModelCard) -> Any:
    if not isinstance(model, Generator):
        raise TypeError(
            f"this benchmark generates images from conditions, and model {card.id!r} "
            "is not a generator (it has no generate())"
        )
    return model.generate([it["condition"] for it in items])


def _reconstruct(model: Any, x: torch.Tensor, card: ModelCard, seeds: list[int]) -> Any:
    if not isinstance(model, Tokenizer):
        raise TypeError(
            f"this benchmark reconstructs images, and model {card.id!r} is not a "
            "tokenizer (it has no reconstruct())"
        )
    if getattr(model, "per_sample_seeds", False):  # stochastic: one seed per sample
        return model.reconstruct(x, seeds=seeds)
    return model.reconstruct(x)


def _attach_generation_info(model: Any, items: list[dict[str, Any]]) -> None:
    """What made each generated sample (seed, steps, guidance, size, tokens seen), if told."""
    info = getattr(model, "generation_info", None)
    if info is None:
        return
    for it in items:
        it["generation"] = info(it["condition"])


def _attach_rates(
    model: Any, card: ModelCard, inputs: torch.Tensor, items: list[dict[str, Any]]
) -> None:
    """Bits (or latent values) per pixel of each reconstruction, for rate-distortion plots."""
    from evalkit import rate

    found = rate.sample_rates(model, card, inputs.shape[-2], inputs.shape[-1], len(items))
    if found is None:
        return
    metric, values = found
    for it, value in zip(items, values):
        it.setdefault("generation", {})[metric] = value


def _records_frame(records: list[dict[str, Any]], items: list[dict[str, Any]]) -> pd.DataFrame:
    index_of = {it["sample_id"]: it["sample_index"] for it in items}
    df = pd.DataFrame(records)
    if len(df) == 0:
        return df
    if "sample_id" not in df:
        raise ValueError("benchmark.score returned records without 'sample_id'")
    generation = {it["sample_id"]: it["generation"] for it in items if "generation" in it}
    if generation:  # every record of a sample carries what made it (seed, steps, bits, ...)
        extra = pd.DataFrame.from_dict(generation, orient="index")
        extra = extra.drop(columns=[c for c in extra.columns if c in df.columns])
        df = df.join(extra, on="sample_id")
    df.insert(0, "sample_index", df["sample_id"].map(index_of).astype("int64"))
    df.insert(1, "record_index", np.arange(len(df), dtype=np.int64))
    return df


def _cpu_count() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
