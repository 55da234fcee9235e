"""The run settings every benchmark shares, applied one way for all: ``--limit`` and ``--seed``.

No benchmark parses either. ``--limit N`` keeps the first N units of the benchmark's sample
order (``Benchmark.sample_units``: one image, or one prompt with all its images) and tells the
benchmark through ``use_limit``; ``--seed`` reaches it through ``use_run_seed`` before anything
is read. ``-O seed=`` is refused: one seed path, so ``--seed 1`` and ``--seed 2`` never make the
same images under two run ids.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from evalkit import catalog
from evalkit.benchmarks.base import Benchmark
from evalkit.options import OptionError, common_option
from evalkit.store import MissingAssetError, resolve_all
from evalkit.types import ModelCard

SEED_IS_A_RUN_SETTING = (
    "seed is a run setting, not a benchmark option: use --seed N (evalkit.run(..., seed=N)); "
    "every benchmark draws its seeds from it"
)


def take_run_options(options: Mapping[str, Any]) -> tuple[dict[str, Any], int | None]:
    """(benchmark options, limit): ``limit`` (``--limit`` or ``-O limit``) is the runner's."""
    rest = dict(options)
    if "seed" in rest:
        raise OptionError(SEED_IS_A_RUN_SETTING)
    return rest, common_option("limit", rest.pop("limit", None))


def prepare(
    benchmark: str, options: dict[str, Any], card: ModelCard, seed: int, limit: int | None
) -> tuple[Benchmark, list[str]]:
    """The benchmark built, seeded, checked and limited, and the ids of the samples to run."""
    try:
        bench: Benchmark = catalog.benchmarks.build(benchmark, **options)
        bench.use_run_seed(seed)
        bench.check()
    except MissingAssetError as data_missing:
        raise MissingAssetError(_with_missing_weights(str(data_missing), card)) from None
    return bench, limited_ids(bench, limit)


def limited_ids(bench: Benchmark, limit: int | None) -> list[str]:
    """The sample ids of the first ``limit`` units (all without a limit)."""
    ids = list(bench.sample_ids())
    if len(set(ids)) != len(ids):
        raise ValueError(f"benchmark {bench.spec.name} has duplicate sample ids")
    if limit is None:
        return ids
    units = list(bench.sample_units())
    if len(units) != len(ids):
        raise ValueError(
            f"benchmark {bench.spec.name}: sample_units() gives {len(units)} units for "
            f"{len(ids)} samples"
        )
    cut, seen = len(ids), set()
    for i, unit in enumerate(units):
        if unit in seen and unit != units[i - 1]:
            raise ValueError(f"benchmark {bench.spec.name}: the samples of unit {unit!r} are apart")
        if unit not in seen and len(seen) == limit:
            cut = i
            break
        seen.add(unit)
    if cut < len(ids):
        bench.use_limit(cut)
        if list(bench.sample_ids())[:cut] != ids[:cut]:
            raise ValueError(f"benchmark {bench.spec.name}: use_limit changed the sample order")
    return ids[:cut]


def _with_missing_weights(message: str, card: ModelCard) -> str:
    """When data is missing, also say which model weights are (one message for both)."""
    try:
        resolve_all(card.weights, f"{card.id} weights")
    except MissingAssetError as weights_missing:
        message += f"\n\nThe model's weights are missing too:\n{weights_missing}"
    return message
