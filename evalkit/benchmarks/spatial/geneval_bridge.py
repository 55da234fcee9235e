"""GenEval's position rule, through ``evalkit.benchmarks.geneval.score_detections``.

The GenEval benchmark owns the official per-image rule; this module only builds position
metadata for a (obj1, relation, obj2) triple and records the boxes and relations behind a
verdict.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

THRESHOLD = 0.3
MAX_OBJECTS = 16
POSITION_THRESHOLD = 0.1


def score_detections(
    metadata: Mapping[str, Any], detections: Mapping[str, Any], **thresholds: Any
) -> tuple[bool, str]:
    """GenEval's official per-image verdict (``evalkit.benchmarks.geneval``)."""
    from evalkit.benchmarks.geneval import score_detections as official

    return official(metadata, detections, **thresholds)


def source() -> str:
    """Which implementation :func:`score_detections` uses (recorded in the rows' judge notes)."""
    return "evalkit.benchmarks.geneval"


def position_metadata(obj1: str, relation: str, obj2: str, prompt: str = "") -> dict[str, Any]:
    """GenEval metadata for "obj1 <relation> obj2" (relation in GenEval's words)."""
    if relation not in ("left of", "right of", "above", "below"):
        raise ValueError(
            f"GenEval relation {relation!r} is not one of left of / right of / above / below"
        )
    return {
        "tag": "position",
        "prompt": prompt or f"a photo of a {obj1} {relation} a {obj2}",
        "include": [
            {"class": obj2, "count": 1},
            {"class": obj1, "count": 1, "position": [relation, 0]},
        ],
    }


@dataclass
class GenevalVerdict:
    correct: bool
    reason: str
    box1: list[float] | None  # obj1's (the positioned object's) most confident box
    box2: list[float] | None
    relation_found: str

    def record(self) -> dict[str, Any]:
        import json

        def fmt(b: list[float] | None) -> str:
            return "[]" if b is None else json.dumps([round(float(v), 3) for v in b])

        return {
            "geneval_correct": int(self.correct),
            "geneval_reason": self.reason,
            "geneval_box1": fmt(self.box1),
            "geneval_box2": fmt(self.box2),
            "geneval_relation_found": self.relation_found,
        }


def position_verdict(
    metadata: Mapping[str, Any], detections: Mapping[str, Any], threshold: float = THRESHOLD
) -> GenevalVerdict:
    """Verdict for a position prompt plus the two boxes it compared and their relations."""
    correct, reason = score_detections(metadata, detections)
    include = metadata["include"]
    target = next(c for c in include if "position" in c)
    anchor = include[target["position"][1]]
    box1 = _top_box(detections, target["class"], threshold)
    box2 = _top_box(detections, anchor["class"], threshold)
    found = ""
    if box1 is not None and box2 is not None:
        found = " and ".join(sorted(relative_position(box1, box2)))
    return GenevalVerdict(bool(correct), str(reason), box1, box2, found)


def _top_box(detections: Mapping[str, Any], name: str, threshold: float) -> list[float] | None:
    arr = detections.get(name)
    if arr is None or len(arr) == 0:
        return None
    from evalkit.benchmarks.geneval.rules import native

    arr = np.asarray(arr)
    order = np.argsort(arr[:, 4])[::-1]
    with np.errstate(invalid="ignore"):
        order = order[arr[order, 4] > native(threshold, arr)]  # in the detector's dtype
    return None if len(order) == 0 else arr[order[0]].astype(np.float64).tolist()


def relative_position(
    box_a: Any, box_b: Any, position_threshold: float = POSITION_THRESHOLD
) -> set[str]:
    """Relations of A to B by GenEval's rule (``evalkit.benchmarks.geneval``)."""
    from evalkit.benchmarks.geneval import relative_position as geneval_relative_position

    return geneval_relative_position(np.asarray(box_a), np.asarray(box_b), position_threshold)
