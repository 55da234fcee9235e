"""GenEval's per-image rules, independent of any model (numpy only).

Written from djghosh13/geneval ``evaluation/evaluate_images.py`` (commit af4902f): which detections
are kept (strict ``>`` score threshold in the detector's float32, as numpy compares a float32
array with a Python float; 0.9 for counting prompts; highest score first, ties as
numpy's default argsort reversed; at most ``max_objects`` per class; optional greedy overlap
filter with the +1-pixel IoU), then the include clauses in order (the top ``count`` objects of a
class; their colours; their position against every object of the target group matched before),
then the exclude clauses. The verdict and its reason text follow the official code; only the
order of relations in a reason is fixed (the official one iterates a set of strings, whose order
changes with ``PYTHONHASHSEED``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

COLORS = ("red", "orange", "yellow", "green", "blue", "purple", "pink", "brown", "black", "white")
TAGS = ("single_object", "two_object", "counting", "colors", "position", "color_attr")
RELATIONS = ("left of", "right of", "above", "below")  # the official names, in a fixed order
DEFAULTS: dict[str, float] = {
    "threshold": 0.3,
    "counting_threshold": 0.9,
    "max_objects": 16,
    "max_overlap": 1.0,
    "position_threshold": 0.1,
}

#: ``colours(class_name, boxes (k, 5), masks (k, H, W) or None) -> one colour name per object``
ColourFn = Callable[[str, np.ndarray, "np.ndarray | None"], Sequence[str]]


@dataclass
class Verdict:
    """One image's verdict with what the official output drops: kept objects, colours, relations."""

    correct: bool
    reason: str
    kept: dict[str, list[int]]  # class -> indices into the raw detections, in checking order
    colours: dict[str, list[str]] = field(default_factory=dict)  # class -> colour per checked obj
    relations: list[dict[str, Any]] = field(default_factory=list)  # each pair that was checked

    def details(self, detections: Mapping[str, np.ndarray]) -> dict[str, Any]:
        """A JSON-able record: every kept detection (box, score), colours and relations."""
        kept = {
            name: [[round(float(v), 3) for v in detections[name][i]] for i in idx]
            for name, idx in self.kept.items()
        }
        return {"kept": kept, "colours": self.colours, "relations": self.relations}


def _iou(a: np.ndarray, b: np.ndarray) -> float:
    """The official IoU: inclusive pixel boxes (+1 on each side), 0 when the union is empty.

    Differences in the boxes' dtype, the rest in float64: the official numpy (1.23) turns a
    float32 scalar plus a Python int into a float64."""

    def area(x1: Any, y1: Any, x2: Any, y2: Any) -> float:
        return max(float(x2 - x1) + 1, 0) * max(float(y2 - y1) + 1, 0)

    inter = area(max(a[0], b[0]), max(a[1], b[1]), min(a[2], b[2]), min(a[3], b[3]))
    union = area(*a[:4]) + area(*b[:4]) - inter
    return inter / union if union else 0


def keep_indices(
    boxes: np.ndarray, threshold: float, max_objects: int, max_overlap: float
) -> list[int]:
    """Indices of the kept detections of one class, highest score first."""
    scores = boxes[:, 4]
    order = np.argsort(scores)[::-1]  # as the official code (ties: numpy's order, reversed)
    order = order[scores[order] > native(threshold, scores)][: int(max_objects)].tolist()
    if max_overlap == 1:
        return order
    kept: list[int] = []
    while order:
        best = order.pop(0)
        kept.append(best)
        order = [j for j in order if _iou(boxes[best], boxes[j]) < max_overlap]
    return kept


def native(value: float, like: np.ndarray) -> np.generic:
    """``value`` in the dtype of the detector's array ``like``, as the official code compares: a
    Python float against a float32 array is a float32 (numpy's scalar rule), so a score of exactly
    float32(0.3) is not above a threshold of 0.3. float64 arrays compare in float64."""
    dtype = like.dtype if np.issubdtype(like.dtype, np.floating) else np.dtype(np.float64)
    return dtype.type(value)


def relative_position(box_a: np.ndarray, box_b: np.ndarray, position_threshold: float) -> set[str]:
    """Relations of A to B: centre offset shrunk by ``threshold`` x summed extents, cone 0.5.

    The official arithmetic, step by step, in the boxes' dtype (float32 from the detector)."""
    boxes = np.array([np.asarray(box_a)[:4], np.asarray(box_b)[:4]]).reshape(2, 2, 2)
    if not np.issubdtype(boxes.dtype, np.floating):
        boxes = boxes.astype(np.float64)
    center_a, center_b = boxes.mean(axis=-2)
    dim_a, dim_b = np.abs(np.diff(boxes, axis=-2))[..., 0, :]
    offset = center_a - center_b
    threshold = native(position_threshold, boxes)
    shrunk = np.maximum(np.abs(offset) - threshold * (dim_a + dim_b), 0) * np.sign(offset)
    if np.all(np.abs(shrunk) < native(1e-3, boxes)):
        return set()
    dx, dy = shrunk / np.linalg.norm(offset)
    found = set()
    if dx < -0.5:
        found.add("left of")
    if dx > 0.5:
        found.add("right of")
    if dy < -0.5:
        found.add("above")
    if dy > 0.5:
        found.add("below")
    return found


def _ordered(relations: set[str]) -> list[str]:
    return [r for r in RELATIONS if r in relations]


def _validated(detections: Mapping[str, Any]) -> dict[str, np.ndarray]:
    """(n, 5) arrays in the detector's own float dtype (thresholds compare in it)."""
    out = {}
    for name, arr in detections.items():
        a = np.asarray(arr)
        if not np.issubdtype(a.dtype, np.floating):
            a = a.astype(np.float64)
        if a.size == 0:
            a = a.reshape(0, 5)
        if a.ndim != 2 or a.shape[1] != 5:
            raise ValueError(f"detections for {name!r} have shape {a.shape}; expected (n, 5)")
        if not np.isfinite(a).all():
            raise ValueError(f"detections for {name!r} contain NaN/Inf")
        out[name] = a
    return out


def evaluate(
    metadata: Mapping[str, Any],
    detections: Mapping[str, Any],
    masks: Mapping[str, np.ndarray] | None = None,
    colours: ColourFn | None = None,
    **thresholds: float,
) -> Verdict:
    """The official verdict for one image, with its details (see :func:`score_detections`)."""
    unknown = set(thresholds) - set(DEFAULTS)
    if unknown:
        raise TypeError(f"unknown threshold(s) {sorted(unknown)}; known: {sorted(DEFAULTS)}")
    thr = {**DEFAULTS, **thresholds}
    dets = _validated(detections)
    cutoff = thr["counting_threshold"] if metadata["tag"] == "counting" else thr["threshold"]
    kept: dict[str, list[int]] = {}
    for name, boxes in dets.items():
        idx = keep_indices(boxes, cutoff, int(thr["max_objects"]), thr["max_overlap"])
        if idx:
            kept[name] = idx
    verdict = Verdict(True, "", kept)
    reasons: list[str] = []
    groups: list[list[int] | None] = []  # per include clause: its objects, None when unmatched
    for clause in metadata.get("include", []):
        name, count = clause["class"], int(clause["count"])
        found = kept.get(name, [])[:count]
        matched = len(found) >= count
        if not matched:
            reasons.append(f"expected {name}>={count}, found {len(found)}")
        else:
            if "color" in clause:
                if colours is None:
                    raise ValueError(
                        f"prompt {metadata.get('prompt')!r} asks for a colour and "
                        "no colour judge was given"
                    )
                obj_masks = (
                    None if masks is None or name not in masks else np.asarray(masks[name])[found]
                )
                given = list(colours(name, dets[name][found], obj_masks))
                if len(given) != len(found):
                    raise ValueError(
                        f"colour judge gave {len(given)} colours for {len(found)} {name!r} objects"
                    )
                verdict.colours[name] = given
                want = clause["color"]
                if given.count(want) < count:
                    matched = False
                    reasons.append(
                        f"expected {want} {name}>={count}, found {given.count(want)} {want}; and "
                        + ", ".join(f"{given.count(c)} {c}" for c in COLORS if c in given)
                    )
            if "position" in clause and matched:
                relation, target = clause["position"]
                if groups[target] is None:
                    matched = False
                    reasons.append(f"no target for {name} to be {relation}")
                else:
                    target_name = metadata["include"][target]["class"]
                    matched = _check_position(
                        verdict,
                        reasons,
                        dets,
                        name,
                        found,
                        target_name,
                        groups[target],
                        relation,
                        thr["position_threshold"],
                    )
        groups.append(found if matched else None)
        verdict.correct &= matched
    for clause in metadata.get("exclude", []):
        name, count = clause["class"], int(clause["count"])
        if len(kept.get(name, [])) >= count:
            verdict.correct = False
            reasons.append(f"expected {name}<{count}, found {len(kept[name])}")
    verdict.reason = "\n".join(reasons)
    return verdict


def _check_position(
    verdict: Verdict,
    reasons: list[str],
    dets: dict[str, np.ndarray],
    name: str,
    found: list[int],
    target_name: str,
    target: list[int],
    relation: str,
    position_threshold: float,
) -> bool:
    """Every object must stand in ``relation`` to every target object; stops at the first miss."""
    for i in found:
        for j in target:
            rels = relative_position(dets[name][i], dets[target_name][j], position_threshold)
            verdict.relations.append(
                {
                    "object": [name, i],
                    "target": [target_name, j],
                    "found": _ordered(rels),
                    "expected": relation,
                }
            )
            if relation not in rels:
                reasons.append(
                    f"expected {name} {relation} target, found "
                    f"{' and '.join(_ordered(rels))} target"
                )
                return False
    return True


def score_detections(
    metadata: Mapping[str, Any],
    detections: Mapping[str, Any],
    masks: Mapping[str, np.ndarray] | None = None,
    colours: ColourFn | None = None,
    **thresholds: float,
) -> tuple[bool, str]:
    """GenEval's official verdict for one image: ``(correct, reason)``.

    ``metadata``: one line of the prompt file; ``detections``: class name -> (n, 5)
    ``[x1, y1, x2, y2, score]`` in the detector's raw output (any order, before thresholding);
    ``masks``: class name -> bool (n, H, W) aligned with it; ``colours(class, boxes (k, 5), masks
    (k, H, W) or None)`` names one colour per object (needed when the prompt asks for a colour);
    thresholds: ``threshold=0.3, counting_threshold=0.9, max_objects=16, max_overlap=1.0,
    position_threshold=0.1`` (the official names and defaults).
    """
    v = evaluate(metadata, detections, masks, colours, **thresholds)
    return v.correct, v.reason


def colour_requests(
    metadata: Mapping[str, Any], detections: Mapping[str, Any], **thresholds: float
) -> list[tuple[str, list[int]]]:
    """Which (class, kept indices) an image's verdict will ask the colour judge about.

    The requests depend on the detections alone (never on earlier answers), so a batch can name
    every crop first, classify them in one pass, then score with the answers.
    """
    v = evaluate(metadata, detections, None, lambda _n, b, _m: ["?"] * len(b), **thresholds)
    out = []
    for clause in metadata.get("include", []):
        found = v.kept.get(clause["class"], [])[: int(clause["count"])]
        if "color" in clause and len(found) >= int(clause["count"]):
            out.append((clause["class"], found))
    return out
