"""Benchmark specs and the small interface the runner drives.

A benchmark is a registered factory returning a :class:`Benchmark`; its frozen
:class:`BenchmarkSpec` says everything that changes its numbers (and is hashed into the run
key). The runner owns batching, devices, workers, resume and I/O; a benchmark only loads one
sample, scores a batch and summarises. The runner adds ``sample_id`` and ``sample_index`` to every
item that ``load`` returns before ``score`` sees it.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

# The spec types live in evalkit.types (the bottom layer); they are re-exported here because
# benchmarks and plug-ins import them from this module.
from evalkit.types import BatchScore, BenchmarkSpec, DatasetManifest, MetricValue, RunFacts

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd
    import torch

    from evalkit.types import ModelCard

__all__ = [
    "BatchScore",
    "Benchmark",
    "BenchmarkSpec",
    "DatasetManifest",
    "MetricValue",
    "RunFacts",
]


class Benchmark(ABC):
    """The runnable side of a benchmark. Subclasses implement the abstract methods."""

    spec: BenchmarkSpec
    run_seed: int = 0  # the run's --seed (use_run_seed): the one seed every benchmark draws from

    def check(self) -> None:  # noqa: B027 - optional hook
        """Raise :class:`evalkit.store.MissingAssetError` early when data or judges are absent."""

    def setup(self, device: torch.device) -> None:  # noqa: B027 - optional hook
        """Load judges / feature networks once, on ``device``, before the first batch."""

    @abstractmethod
    def sample_ids(self) -> Sequence[str]:
        """Stable, unique ids of every sample, in order."""

    @abstractmethod
    def load(self, index: int) -> dict[str, Any]:
        """Decode and prepare sample ``index`` (runs in a DataLoader worker).

        Must return a picklable dict with ``"input"``: float32 CHW tensor in [0, 1] at the model
        resolution; every input of a benchmark has the same shape. Other keys are for ``score``.
        """

    @abstractmethod
    def score(self, items: list[dict[str, Any]], outputs: torch.Tensor) -> BatchScore:
        """Score a batch: ``outputs`` are the model's reconstructions (float CPU, clamped [0, 1]).

        Each record must hold ``sample_id``; a benchmark may return several records per sample
        (e.g. one per text instance), each with a ``sample_id``.
        """

    @abstractmethod
    def facts(self, scored_ids: Sequence[str]) -> RunFacts:
        """What this run measures when it scores ``scored_ids`` (the runner's samples, after
        ``--limit``): unit, full count, gaps, subset, judges per role, options in effect.
        ``evalkit.flags`` derives ``complete`` and ``comparable`` from it and the card."""

    def sample_units(self) -> Sequence[str]:
        """The unit each sample belongs to, aligned with ``sample_ids`` (``--limit N`` keeps
        the first N units); one sample is one unit unless a benchmark groups them (a prompt
        and all its images). A unit's samples are adjacent in the sample order."""
        return self.sample_ids()

    def units_in(self, scored_ids: Sequence[str]) -> set[str]:
        """The units that ``scored_ids`` cover."""
        wanted = set(scored_ids)
        return {u for s, u in zip(self.sample_ids(), self.sample_units()) if s in wanted}

    def use_limit(self, n_samples: int) -> None:  # noqa: B027 - optional hook
        """``--limit``: the runner scores only the first ``n_samples`` samples. Benchmarks whose
        summary reads their whole sample list (FID's reference statistics) restrict it here."""

    @abstractmethod
    def summarize(
        self, records: pd.DataFrame, state: dict[str, np.ndarray] | None
    ) -> list[MetricValue]:
        """Aggregate all per-sample records (sorted by sample) and the merged state into values."""

    def merge_states(self, states: Sequence[dict[str, np.ndarray]]) -> dict[str, np.ndarray] | None:
        """Merge per-batch states; the default sums arrays key by key (exact for float64 sums)."""
        if not states:
            return None
        merged = {k: v.copy() for k, v in states[0].items()}
        for state in states[1:]:
            for k, v in state.items():
                merged[k] = merged[k] + v
        return merged

    def describe_judges(self) -> dict[str, str]:
        """Judge/feature models used, name -> weights id, recorded in every row."""
        return {}

    def reported_value(self, card: ModelCard, value: MetricValue) -> float | None:
        """A published number for this model and metric, if the paper gave one."""
        return None

    def image_path(self, item: Mapping[str, Any]) -> str | None:
        """Where the runner keeps a generated image, relative to the run folder (None: not kept).

        Generation benchmarks keep their images in the official layout so any tool can re-score
        them; the runner writes each one (PNG, atomically) before the batch's records.
        """
        return None

    def use_run_seed(self, seed: int) -> None:
        """The run's ``--seed``, given before ``check``: every seed a benchmark draws (generated
        images, seeded subsets) derives from ``self.run_seed``; there is no ``-O seed``."""
        self.run_seed = int(seed)

    def prepare_run_dir(self, run_dir: Path) -> None:  # noqa: B027 - optional hook
        """Write what a run folder needs beside the kept images (e.g. GenEval's metadata)."""
