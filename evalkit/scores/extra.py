"""``-O scores=clipscore,pickscore,...``: per-image scores beside a text-to-image benchmark's own.

A benchmark holds one :class:`ExtraScores`: it loads the scorers in ``setup``, adds one column per
score to each record (``score_<id>``, and ``judge_<id>`` naming the weights), and adds one
per-model mean per score to the summary (its judge and weights in the row). The benchmark's own
numbers are untouched: the card declares ``scores`` with ``changes = "output"``.
"""

from __future__ import annotations

import importlib
from collections.abc import Sequence
from typing import Any

from evalkit.scores import Scorer, info, parse_ids
from evalkit.types import MetricValue


def column(score_id: str) -> str:
    """The record column of a score's per-image value."""
    return f"score_{score_id}"


class ExtraScores:
    """The scores one run adds; empty (and free) when the option is not given."""

    def __init__(self, ids: Sequence[str] = ()) -> None:
        self.ids = list(ids)
        self.scorers: dict[str, Scorer] = {}

    @classmethod
    def from_option(cls, text: str | None) -> ExtraScores:
        return cls(parse_ids(text or ""))

    def option(self) -> str:
        """The option's value as the run's facts and spec record it."""
        return ",".join(self.ids)

    def missing(self) -> str:
        """'' when every score's weights can be had, else each score's message."""
        out = []
        for score_id in self.ids:
            module = importlib.import_module(info(score_id).module)
            check = getattr(module, "missing", None)
            message = check(score_id) if check is not None else ""
            if message:
                out.append(message)
        return "\n".join(out)

    def check(self) -> None:
        """Raise MissingAssetError naming every absent score weight (before any image)."""
        message = self.missing() if self.ids else ""
        if message:
            from evalkit.store import MissingAssetError

            raise MissingAssetError(message)

    def setup(self, device: str, **overrides: Any) -> None:
        """Load each scorer once; ``overrides``: score id -> build options (tests)."""
        from evalkit.scores import build

        for score_id in self.ids:
            if score_id not in self.scorers:
                self.scorers[score_id] = build(score_id, device, **overrides.get(score_id, {}))

    def add(self, records: list[dict[str, Any]], images: Sequence[Any], prompts: Sequence[str]):
        """Write each score of each (image, prompt) into its record (images: PIL or uint8 HWC)."""
        if not self.ids:
            return records
        from PIL import Image

        pil = [im if isinstance(im, Image.Image) else Image.fromarray(im) for im in images]
        for score_id in self.ids:
            scorer = self.scorers[score_id]
            values = scorer.score(pil, list(prompts))
            for record, value in zip(records, values):
                record[column(score_id)] = float(value)
                record[f"judge_{score_id}"] = scorer.judge.weights
        return records

    def summarize(self, records: Any, subset: str = "all") -> list[MetricValue]:
        """One per-model mean per score over ``records`` (a DataFrame)."""
        out = []
        for score_id in self.ids:
            col = column(score_id)
            if col not in getattr(records, "columns", ()):
                continue
            values = records[col].dropna()
            s = info(score_id)
            scorer = self.scorers.get(score_id)
            out.append(
                MetricValue(
                    score_id,
                    float(values.mean()) if len(values) else float("nan"),
                    int(len(values)),
                    s.higher_is_better,
                    subset=subset,
                    metric_version=s.version,
                    judge=scorer.judge.name if scorer else score_id,
                    judge_weights=scorer.judge.weights if scorer else None,
                )
            )
        return out
