"""Per-image text-image scores (CLIPScore, PickScore, HPSv2.1, VQAScore, ImageReward, ...).

One module per score under ``evalkit/scores/`` and ONE line per score id in :data:`SCORES` below:
``register(ScoreInfo(...))``. Listing ids, direction, units and library imports nothing heavy;
:func:`build` imports the score's module and calls its ``build(score_id, device=..., **options)``,
which returns a :class:`Scorer`. Several ids may share one module (and one loaded network): the
module's ``build`` receives the id it was asked for.

A scorer's contract:

- ``score(images, prompts) -> list[float]``: one value per (PIL RGB image, prompt) pair, in the
  units its :class:`ScoreInfo` states; no batching across calls, no file I/O.
- ``judge``: a :class:`JudgeIdentity` naming the network and the weights that produced the values
  (written beside every value and mean).

Weights come through the store/hub layer (:mod:`evalkit.store`, :mod:`evalkit.judges.hubdir`):
offline store first, then the Hub, verified on first use and locked.
"""

from __future__ import annotations

import importlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol


@dataclass(frozen=True)
class ScoreInfo:
    """What a score is, readable without loading it: the facts ``evalkit list metrics`` shows."""

    id: str
    module: str  # "evalkit.scores.clipscore": has build(score_id, device=..., **options)
    higher_is_better: bool
    units: str  # e.g. "100 x cosine, [0, 100]"
    library: str  # what computes it: "transformers", "open_clip_torch"
    summary: str  # one line: the definition and the reference implementation
    version: str = "1"


@dataclass(frozen=True)
class JudgeIdentity:
    """Which network and which weights produced a score (row provenance)."""

    name: str  # e.g. "openai/clip-vit-large-patch14"
    weights: str  # hub id@revision, or a sha256, or "random(seed=N)" in tests
    library: str = ""


class Scorer(Protocol):
    """A loaded score: see the module docstring for the contract."""

    info: ScoreInfo
    judge: JudgeIdentity

    def score(self, images: Sequence[Any], prompts: Sequence[str]) -> list[float]: ...


SCORES: dict[str, ScoreInfo] = {}


def register(info: ScoreInfo) -> ScoreInfo:
    """Add a score id (one line per score below; third parties may call it too)."""
    if info.id in SCORES:
        raise ValueError(f"score {info.id!r} is already registered")
    SCORES[info.id] = info
    return info


def info(score_id: str) -> ScoreInfo:
    """The ScoreInfo of ``score_id``, or a KeyError listing the known ids."""
    if score_id not in SCORES:
        import difflib

        close = difflib.get_close_matches(score_id, list(SCORES), n=3, cutoff=0.5)
        hint = f" Did you mean {', '.join(repr(c) for c in close)}?" if close else ""
        raise KeyError(f"unknown score {score_id!r}.{hint} Known: {', '.join(sorted(SCORES))}")
    return SCORES[score_id]


def build(score_id: str, device: str = "cpu", **options: Any) -> Scorer:
    """Load the scorer for ``score_id`` (imports its module only now)."""
    module = importlib.import_module(info(score_id).module)
    return module.build(score_id, device=device, **options)


def parse_ids(text: str) -> list[str]:
    """``"clipscore,pickscore"`` -> ids, each checked; duplicates dropped, order kept."""
    ids = list(dict.fromkeys(s.strip() for s in text.split(",") if s.strip()))
    for score_id in ids:
        info(score_id)
    return ids


def metric_entries() -> list[tuple[str, str, str]]:
    """``catalog.metrics`` rows for every score: (id, factory, summary); ``evalkit list
    metrics`` shows them (with direction, units, library) without importing a network."""
    out = [(s.id, "evalkit.scores:metric", s.summary) for s in SCORES.values()]
    return out


def metric(score_id: str, **options: Any) -> Any:
    """The score as a registry :class:`~evalkit.metrics.base.Metric`: its compute is the mean
    of per-image values (a benchmark's per-model mean)."""
    from evalkit.metrics.base import Metric

    if options:
        raise ValueError(f"metric {score_id!r} takes no options, got {sorted(options)}")
    s = info(score_id)
    return Metric(
        id=s.id,
        compute=_mean,
        higher_is_better=s.higher_is_better,
        version=s.version,
        units=s.units,
        library=s.library,
        kind="sample",
        description=s.summary,
    )


def _mean(values: Sequence[float]) -> float:
    values = [float(v) for v in values]
    return sum(values) / len(values) if values else float("nan")


# --- one entry per score ----------------------------------------------------------------------
_CLIP = "evalkit.scores.clipscore"
register(
    ScoreInfo(
        "clipscore",
        _CLIP,
        higher_is_better=True,
        units="0-100",
        library="transformers",
        summary="CLIPScore (torchmetrics): 100 x max(cos, 0), CLIP ViT-L/14",
    )
)
register(
    ScoreInfo(
        "clip_s",
        _CLIP,
        higher_is_better=True,
        units="0-2.5",
        library="transformers",
        summary="CLIP-S (Hessel et al.): 2.5 x max(cos, 0), ViT-B/32, 'A photo depicts'",
    )
)
register(
    ScoreInfo(
        "pickscore",
        "evalkit.scores.pickscore",
        higher_is_better=True,
        units="logit",
        library="transformers",
        summary="PickScore v1: logit_scale x cos (about 100 x cos), CLIP-H",
    )
)
register(
    ScoreInfo(
        "hpsv2",
        "evalkit.scores.hpsv2",
        higher_is_better=True,
        units="cosine",
        library="open_clip_torch",
        summary="HPSv2.1: cosine, open_clip ViT-H-14 + HPS v2.1 weights",
    )
)
register(
    ScoreInfo(
        "imagereward",
        "evalkit.scores.imagereward",
        higher_is_better=True,
        units="reward",
        library="transformers",
        summary="ImageReward (THUDM, image-reward 1.5): BLIP reward, standardised (~N(0, 1))",
    )
)
register(
    ScoreInfo(
        "vqascore",
        "evalkit.scores.vqascore_flant5",
        higher_is_better=True,
        units="P(Yes)",
        library="transformers",
        summary="VQAScore, CLIP-FlanT5-XXL as t2v-metrics 3.0: exp(mean log P('Yes </s>'))",
    )
)
register(
    ScoreInfo(
        "vqascore_qwen",
        "evalkit.scores.vqascore",
        higher_is_better=True,
        units="P(Yes)",
        library="transformers",
        summary="VQAScore, Qwen2.5-VL-7B-Instruct variant as t2v-metrics 3.0 (not CLIP-FlanT5)",
    )
)
