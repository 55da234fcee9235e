"""The runner: benchmark x model -> per-sample parquet + tidy result rows (+ leaderboard).

It owns everything adapters and benchmarks should not: device choice, batching, DataLoader
workers, precision, output validation, resume by content hash, atomic writes, progress. The CLI's
``evalkit run`` is a thin wrapper over :func:`run`.
"""

from __future__ import annotations

import contextlib
import logging
import resource
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch
from torch.utils.data import DataLoader, Dataset

from evalkit import catalog
from evalkit.benchmarks.base import Benchmark
from evalkit.cache import atomic_write, content_hash
from evalkit.records import build_rows, environment, run_identity, to_frame
from evalkit.runstore import RunStore
from evalkit.store import MissingAssetError
from evalkit.types import Generator, ModelCard, Tokenizer

log = logging.getLogger("evalkit")

CHECKPOINT_SECONDS = 60.0  # how often streaming state is saved for resume
PRECISIONS = {"fp32": None, "bf16": torch.bfloat16, "fp16": torch.float16}


class RunError(RuntimeError):
    """A run stopped on bad input or bad model output; completed samples are kept on disk."""


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


def pick_device(requested: str | None = None) -> torch.device:
    """CUDA when present (or asked for), else CPU."""
    if requested:
        return torch.device(requested)
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


class _Samples(Dataset):
    """Wraps benchmark.load so DataLoader workers decode; errors name the sample."""

    def __init__(self, bench: Benchmark, indices: list[int], ids: list[str]) -> None:
        self.bench, self.indices, self.ids = bench, indices, ids

    def __len__(self) -> int:
        return len(self.indices)

    def __getitem__(self, i: int) -> dict[str, Any]:
        index = self.indices[i]
        item = self.bench.load(index)
        item["sample_index"] = index
        item["sample_id"] = self.ids[index]
        x = item.get("input")
        if "condition" in item and x is None:
            return item  # a generation sample: the model makes the image
        if not isinstance(x, torch.Tensor) or x.ndim != 3:
            raise ValueError(f"sample {self.ids[index]!r}: benchmark gave no CHW 'input' tensor")
        return item


def _collate(items: list[dict[str, Any]]) -> tuple[torch.Tensor | None, list[dict[str, Any]]]:
    if all("input" not in it for it in items):
        return None, items
    shapes = {tuple(it["input"].shape) for it in items}
    if len(shapes) != 1:
        raise ValueError(f"inputs of one batch differ in shape: {sorted(shapes)}")
    return torch.stack([it.pop("input") for it in items]), items


def check_outputs(out: Any, inputs: torch.Tensor | None, ids: list[str], model_id: str
                  ) -> torch.Tensor:
    """Reject NaN/Inf, wrong shapes and values far outside [0, 1]; name model and samples.

    With ``inputs`` (reconstruction) the shape must equal theirs; without (generation) the
    output must be N x 3 x H x W for the N conditions asked for.
    """
    if not isinstance(out, torch.Tensor):
        raise ModelOutputError(f"model {model_id!r} returned {type(out).__name__}, not a tensor "
                               f"(samples {ids})")
    if inputs is not None and tuple(out.shape) != tuple(inputs.shape):
        raise ModelOutputError(f"model {model_id!r} returned shape {tuple(out.shape)} for input "
                               f"{tuple(inputs.shape)} (samples {ids})")
    if inputs is None and (out.ndim != 4 or out.shape[0] != len(ids) or out.shape[1] != 3):
        raise ModelOutputError(f"model {model_id!r} generated shape {tuple(out.shape)} for "
                               f"{len(ids)} conditions; expected ({len(ids)}, 3, H, W) "
                               f"(samples {ids})")
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


def _accepts_allow_unpinned(fn: Callable[..., RunResult]) -> Callable[..., RunResult]:
    """Adds the keyword ``allow_unpinned`` (default False): the run downloads unpinned weights
    only when it is True (see :func:`evalkit.store.allowing_unpinned`)."""
    import functools

    @functools.wraps(fn)
    def wrapper(*args: Any, allow_unpinned: bool = False, **kwargs: Any) -> RunResult:
        from evalkit.store import allowing_unpinned

        with allowing_unpinned(allow_unpinned):
            return fn(*args, **kwargs)

    return wrapper


@_accepts_allow_unpinned
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
    on_batch: Callable[[int, int], None] | None = None,
    on_start: Callable[[int, int], None] | None = None,
) -> RunResult:
    """Run ``benchmark`` on ``model``; a rerun with the same settings resumes and skips done work.

    ``on_start(total, already_done)`` and ``on_batch(n_new, n_done)`` drive a progress display.
    ``allow_unpinned=True`` (keyword) permits downloading weights that have no pinned checksum;
    the rows then name them ``(unpinned)``, with the sha256 of what was loaded.
    """
    if precision not in PRECISIONS:
        raise ValueError(f"precision must be one of {sorted(PRECISIONS)}")
    options = {k: v for k, v in (options or {}).items() if v is not None}
    model_options = dict(model_options or {})
    if model_options.get("random_init") and leaderboard_dir is not None:
        raise ValueError("random_init builds a model without its weights (for tests): its numbers "
                         "must not reach a leaderboard; run with --no-leaderboard")
    card = model_card(model)
    try:
        bench: Benchmark = catalog.benchmarks.build(benchmark, **options)
        bench.check()
    except MissingAssetError as data_missing:
        raise MissingAssetError(_with_missing_weights(str(data_missing), card)) from None
    card = loaded_card(model, card, model_options)  # the files really loaded, and their sha256
    spec = bench.spec
    dev = pick_device(device)
    identity = run_identity(spec, card, model_options, precision, seed, device_type=dev.type,
                            judges=bench.describe_judges())
    run_id = content_hash(identity)
    store = RunStore(Path(out_dir) / spec.name / card.id / run_id)
    store.init(identity)

    ids = list(bench.sample_ids())
    if len(set(ids)) != len(ids):
        raise ValueError(f"benchmark {spec.name} has duplicate sample ids")
    state = store.reconcile()
    done = store.completed_ids()
    todo = [i for i, sid in enumerate(ids) if sid not in done]
    # Weights are resolved before any work starts: a missing file fails fast, with one message.
    model_obj = catalog.models.build(model, **model_options) if todo else None
    if on_start:
        on_start(len(ids), len(ids) - len(todo))
    if done:
        log.info("resuming %s: %d of %d samples already done", store.root, len(done), len(ids))

    torch.manual_seed(seed)
    if dev.type == "cuda":
        torch.cuda.reset_peak_memory_stats(dev)
    if todo:
        with exact_fp32(precision == "fp32"):
            state = _process(bench, model_obj, card, ids, todo, store, dev, batch_size,
                             workers, precision, len(ids) - len(todo), on_batch, state, seed)

    records = store.load_records()
    values = bench.summarize(records, state)
    values = [_with_reported(bench, card, v) for v in values]
    wall = store.seconds()  # model + scoring time summed over every invocation of this run
    rows = to_frame(build_rows(
        values, run_id=run_id, spec=spec, card=card, judges=bench.describe_judges(), seed=seed,
        precision=precision, env=environment(str(dev)), wall_time_s=wall,
        peak_memory_mb=max(store.peak_memory_mb(), _peak_memory_mb(dev)),
    ))
    atomic_write(store.root / "samples.parquet", lambda t: records.to_parquet(t, index=False))
    atomic_write(store.root / "results.parquet", lambda t: rows.to_parquet(t, index=False))
    if leaderboard_dir is not None:
        from evalkit.leaderboard import append

        append(Path(leaderboard_dir) / f"{spec.name}.parquet", rows)
    return RunResult(run_id, store.root, rows, records, len(ids) - len(todo),
                     bench.describe_judges())


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


def _with_missing_weights(message: str, card: ModelCard) -> str:
    """When data is missing, also say which model weights are (one message for both)."""
    from evalkit.store import resolve

    for wf in card.weights:
        try:
            resolve(wf, f"{card.id} weights")
        except MissingAssetError as weights_missing:
            message += f"\n\nThe model's weights are missing too:\n{weights_missing}"
    return message


def _with_reported(bench: Benchmark, card: ModelCard, v: Any) -> Any:
    if v.reported is not None:
        return v
    reported = bench.reported_value(card, v)
    if reported is None:
        return v
    from dataclasses import replace

    return replace(v, reported=reported)


def loaded_card(model_id: str, card: ModelCard, model_options: dict[str, Any]) -> ModelCard:
    """The card whose weights are the files this build will load, each with its sha256.

    A family module may declare ``RANDOM_INIT_OPTIONS`` (options that skip the weights) and
    ``WEIGHT_OPTIONS`` (option name -> index of the card file it replaces, e.g. ``weights_path``).
    """
    import importlib
    from dataclasses import replace

    from evalkit.store import loaded_weights

    module = importlib.import_module(catalog.models.factory(model_id).__module__)
    if any(model_options.get(k) is not None and model_options.get(k) is not False
           for k in getattr(module, "RANDOM_INIT_OPTIONS", ())):
        return replace(card, weights=())
    overrides = {i: str(model_options[opt])
                 for opt, i in getattr(module, "WEIGHT_OPTIONS", {}).items()
                 if model_options.get(opt)}
    return loaded_weights(card, overrides)


def model_card(model_id: str) -> ModelCard:
    """The card of ``model_id`` without loading weights (the family module's ``card``)."""
    import importlib

    factory = catalog.models.factory(model_id)
    module = importlib.import_module(factory.__module__)
    return module.card(model_id)


def _process(bench: Benchmark, model: Any, card: ModelCard,
             ids: list[str], todo: list[int], store: RunStore, dev: torch.device,
             batch_size: int, workers: int | None, precision: str, n_done: int,
             on_batch: Callable[[int, int], None] | None,
             state: dict[str, np.ndarray] | None, seed: int = 0) -> dict[str, np.ndarray] | None:
    """Run the remaining samples; returns the merged streaming state (checkpointed as it goes)."""
    bench.setup(dev)
    model = model.to(dev)
    if workers is None:
        workers = min(4, max(0, (len(todo) // batch_size)), _cpu_count() - 1)
    loader = DataLoader(_Samples(bench, todo, ids), batch_size=batch_size, shuffle=False,
                        num_workers=workers, collate_fn=_collate,
                        persistent_workers=False, pin_memory=dev.type == "cuda")
    autocast = (torch.autocast(dev.type, dtype=PRECISIONS[precision])
                if PRECISIONS[precision] is not None else contextlib.nullcontext())
    count_tokens = (hasattr(bench, "score_tokens") and bool(card.discrete)
                    and bool(card.codebook_size) and hasattr(model, "token_ids"))
    included = sorted(store.load_state()[1])
    last_checkpoint = time.monotonic()
    try:
        for inputs, items in loader:
            t0 = time.perf_counter()
            batch_ids = [it["sample_id"] for it in items]
            with torch.inference_mode(), autocast:
                if inputs is None:
                    out, token_ids = _generate(model, items, card), None
                elif count_tokens:  # the same computation as reconstruct, keeping the tokens
                    codes = model.encode(inputs.to(dev, non_blocking=True))
                    out, token_ids = model.decode(codes), model.token_ids(codes)
                else:
                    seeds = [sample_seed(seed, sid) for sid in batch_ids]
                    out, token_ids = _reconstruct(model, inputs.to(dev), card, seeds), None
            out = check_outputs(out, inputs, batch_ids, card.id).cpu()
            scored = bench.score(items, out)
            batch_state = dict(scored.state or {})
            if token_ids is not None:
                batch_state.update(bench.score_tokens(token_ids, card.codebook_size))
            first = items[0]["sample_index"]
            store.write_part(first, batch_ids, _records_frame(scored.records, items),
                             time.perf_counter() - t0, stateful=bool(batch_state),
                             peak_memory_mb=_peak_memory_mb(dev))
            if batch_state:  # merged only after its part is committed (see RunStore)
                state = bench.merge_states([s for s in (state, batch_state) if s is not None])
                included.append(first)
                if time.monotonic() - last_checkpoint > CHECKPOINT_SECONDS:
                    store.save_state(state, included)
                    last_checkpoint = time.monotonic()
            n_done += len(items)
            if on_batch:
                on_batch(len(items), n_done)
        if state is not None:
            store.save_state(state, included)
        return state
    except Exception as exc:
        if state is not None:
            store.save_state(state, included)
        kept = len(store.completed_ids())
        raise RunError(
            f"{exc}\n{kept} of {len(ids)} samples are done and kept in {store.root}; fix the "
            "problem and rerun the same command to resume."
        ) from exc


def _generate(model: Any, items: list[dict[str, Any]], card: ModelCard) -> Any:
    if not isinstance(model, Generator):
        raise TypeError(f"this benchmark generates images from conditions, and model {card.id!r} "
                        "is not a generator (it has no generate())")
    return model.generate([it["condition"] for it in items])


def sample_seed(run_seed: int, sample_id: str) -> int:
    """The seed of one sample's randomness: from the run seed and the sample id alone, so batch
    size, workers, shards and resumes never change it."""
    import hashlib

    digest = hashlib.sha256(f"{run_seed}\0{sample_id}".encode()).digest()
    return int.from_bytes(digest[:8], "little") & (2**63 - 1)


def _reconstruct(model: Any, x: torch.Tensor, card: ModelCard, seeds: list[int]) -> Any:
    if not isinstance(model, Tokenizer):
        raise TypeError(f"this benchmark reconstructs images, and model {card.id!r} is not a "
                        "tokenizer (it has no reconstruct())")
    if getattr(model, "per_sample_seeds", False):  # stochastic: one seed per sample
        return model.reconstruct(x, seeds=seeds)
    return model.reconstruct(x)


def _records_frame(records: list[dict[str, Any]], items: list[dict[str, Any]]) -> pd.DataFrame:
    index_of = {it["sample_id"]: it["sample_index"] for it in items}
    df = pd.DataFrame(records)
    if len(df) == 0:
        return df
    if "sample_id" not in df:
        raise ValueError("benchmark.score returned records without 'sample_id'")
    df.insert(0, "sample_index", df["sample_id"].map(index_of).astype("int64"))
    df.insert(1, "record_index", np.arange(len(df), dtype=np.int64))
    return df


def _cpu_count() -> int:
    import os

    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
