"""The three spatial rules as pure functions over detections (no detector, no I/O).

``detections`` maps a class name to a float array (n, 5) of ``[x1, y1, x2, y2, score]`` in the
image's own pixels (y grows downward), as :mod:`evalkit.judges.detection` defines. Each rule
applies its own official score threshold. Written from the official code, each one checked in
``tests/spatial`` against a re-statement of that code on thousands of random box sets:

- VISOR (microsoft/VISOR, notebook ``process_detection`` and ``visor.py``);
- T2I-CompBench 2D-spatial (Karine-Huang/T2I-CompBench ``UniDet_eval/2D_spatial_eval.py``);
- GenEval position (djghosh13/geneval ``evaluation/evaluate_images.py``): see ``geneval_bridge``.

Edge cases, all tested: no detections (recall 0, score 0); boxes outside the image (kept as the
official code keeps them: nothing clips); zero-area boxes (centroids still defined; T2I-CompBench's
IoU divides by zero when both boxes are degenerate: an error under the official protocol, IoU 0
under ``protocol="fixed"``); NaN scores (dropped: ``nan > threshold`` is False in the official
code); NaN/Inf coordinates on a box that passes the threshold: a ValueError.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from evalkit.benchmarks.spatial.prompts import VISOR_RELATIONS

VISOR_THRESHOLD = 0.1
T2I_THRESHOLD = 0.5
T2I_RESIZE = (479, 480)  # torchvision Resize(size=479, max_size=480) before UniDet
T2I_IOU_THRESHOLD = 0.1
T2I_DISTANCE = 150.0
# Locality words in the official search order: the first one found in the prompt wins.
T2I_LOCALITIES = (
    "on side of",
    "next to",
    "near",
    "on the left of",
    "on the right of",
    "on the bottom of",
    "on the top of",
    "on top of",
)
T2I_PERSON = ("girl", "boy", "man", "woman")
PROTOCOLS = ("official", "fixed")

# VISOR relation -> the same relation in each other rule's words.
TO_GENEVAL = {
    "to the left of": "left of",
    "to the right of": "right of",
    "above": "above",
    "below": "below",
}
TO_T2I = {
    "to the left of": "on the left of",
    "to the right of": "on the right of",
    "above": "on the top of",
    "below": "on the bottom of",
}


def kept_boxes(
    detections: Mapping[str, Any], name: str, threshold: float, where: str = ""
) -> np.ndarray:
    """Boxes of ``name`` with score > threshold (strict, as every official rule), raw order,
    as float64.

    The score is compared in the detector's own dtype: each official rule compares a float32
    torch/numpy score with a Python float in float32, so a score of exactly float32(0.1) is not
    above VISOR's 0.1 (nor float32(0.5) above T2I-CompBench's 0.5).
    """
    from evalkit.benchmarks.geneval.rules import native

    arr = detections.get(name)
    if arr is None:
        return np.zeros((0, 5), dtype=np.float64)
    arr = np.asarray(arr)
    if arr.ndim != 2 or arr.shape[1] != 5:
        if arr.size == 0:
            return np.zeros((0, 5), dtype=np.float64)
        raise ValueError(
            f"{where}detections for {name!r} have shape {arr.shape}; "
            "expected (n, 5) [x1, y1, x2, y2, score]"
        )
    with np.errstate(invalid="ignore"):
        keep = arr[:, 4] > native(threshold, arr)  # NaN scores are False, as officially
    out = arr[keep].astype(np.float64)
    if not np.isfinite(out[:, :4]).all():
        raise ValueError(f"{where}a {name!r} box above the score threshold has NaN/Inf coordinates")
    return out


# ----------------------------------------------------------------------------------- VISOR


@dataclass
class VisorVerdict:
    """One image under VISOR: recall (objects found), sra, and what decided it."""

    recall: int
    sra: int
    boxes1: np.ndarray
    boxes2: np.ndarray
    pair: tuple[int, int] | None = None  # the first (obj1, obj2) box pair that satisfied it
    relation_found: str = ""  # relations of that pair's centroids (or of the best pair)

    def record(self) -> dict[str, Any]:
        return {
            "recall": self.recall,
            "sra": self.sra,
            "both": int(self.recall == 2),
            "visor_correct": int(self.recall == 2 and self.sra == 1),
            "visor_boxes1": _json_boxes(self.boxes1),
            "visor_boxes2": _json_boxes(self.boxes2),
            "visor_pair": "" if self.pair is None else f"{self.pair[0]},{self.pair[1]}",
            "visor_relation_found": self.relation_found,
        }


def visor_verdict(
    obj1: str,
    obj2: str,
    relation: str,
    detections: Mapping[str, Any],
    threshold: float = VISOR_THRESHOLD,
    where: str = "",
) -> VisorVerdict:
    """VISOR's per-image rule with the boxes it used (see :func:`visor_image`)."""
    if relation not in VISOR_RELATIONS and relation != "and":
        raise ValueError(
            f"{where}VISOR relation {relation!r} is not one of {VISOR_RELATIONS} (or 'and')"
        )
    b1 = kept_boxes(detections, obj1, threshold, where)
    b2 = kept_boxes(detections, obj2, threshold, where)
    recall = int(len(b1) > 0) + int(len(b2) > 0)
    if obj1 == obj2:  # one label: the official code counts it once for both objects
        recall = 2 if len(b1) else 0
    verdict = VisorVerdict(recall, 0, b1, b2)
    if len(b1) == 0 or len(b2) == 0 or relation == "and":
        return verdict
    c1 = np.stack([(b1[:, 0] + b1[:, 2]) / 2, (b1[:, 1] + b1[:, 3]) / 2], 1)
    c2 = np.stack([(b2[:, 0] + b2[:, 2]) / 2, (b2[:, 1] + b2[:, 3]) / 2], 1)
    dx = c1[:, None, 0] - c2[None, :, 0]
    dy = c1[:, None, 1] - c2[None, :, 1]
    ok = {"to the left of": dx < 0, "to the right of": dx > 0, "above": dy < 0, "below": dy > 0}[
        relation
    ]
    hits = np.argwhere(ok)  # row-major = the official itertools.product order
    if len(hits):
        i, j = (int(v) for v in hits[0])
        verdict.sra, verdict.pair = 1, (i, j)
    else:
        i, j = 0, 0
    verdict.relation_found = _visor_relations(float(dx[i, j]), float(dy[i, j]))
    return verdict


def visor_image(
    obj1: str,
    obj2: str,
    relation: str,
    detections: Mapping[str, Any],
    threshold: float = VISOR_THRESHOLD,
) -> tuple[int, int]:
    """(recall, sra) of one image: recall = objects found (0-2) among boxes with score > 0.1;
    sra = 1 when ANY (obj1, obj2) box pair satisfies the relation by the sign of the centroid
    difference (strict, no margin; y grows downward)."""
    v = visor_verdict(obj1, obj2, relation, detections, threshold)
    return v.recall, v.sra


def _visor_relations(dx: float, dy: float) -> str:
    names = []
    if dx < 0:
        names.append("to the left of")
    if dx > 0:
        names.append("to the right of")
    if dy < 0:
        names.append("above")
    if dy > 0:
        names.append("below")
    return " and ".join(names)


def visor_summary(records: Any, visor_n: str = "script") -> dict[str, float]:
    """OA, VISOR_cond, VISOR_uncond, VISOR_1..4 in percent, as ``visor.py`` computes them.

    ``records``: a DataFrame (or mapping of columns) with ``unique_id``, ``recall``, ``sra``,
    ``relation``; one row per image. Rows whose relation is not one of the four (``and``,
    single-object prompts) are skipped, as visor.py L80 does. ``visor_n="script"`` (default)
    divides by every relation prompt scored; ``"notebook"`` (text2image_realtime_evaluate.ipynb)
    counts only prompts with both objects found in at least one image (without the notebook's
    1e-6 guard). With no image holding both objects the official script raises
    ZeroDivisionError; here VISOR_cond and VISOR_uncond are NaN.
    """
    if visor_n not in ("script", "notebook"):
        raise ValueError(f"visor_n must be 'script' or 'notebook', not {visor_n!r}")
    uid = [int(u) for u in _column(records, "unique_id")]
    recall = [int(r) for r in _column(records, "recall")]
    sra = [int(s) for s in _column(records, "sra")]
    rel = [str(r) for r in _column(records, "relation")]
    both_total = hit_total = count = 0
    per_prompt: dict[int, list[int]] = {}
    with_both: set[int] = set()
    for u, r, s, rr in zip(uid, recall, sra, rel, strict=True):
        if rr not in VISOR_RELATIONS:
            continue
        both = int(r == 2)
        both_total += both
        hit_total += both * s
        count += 1
        per_prompt.setdefault(u, []).append(both * s)
        if both:
            with_both.add(u)
    if count == 0:
        raise ValueError("visor_summary: no image of a relation prompt to score")
    oa = 100 * both_total / count
    cond = 100 * hit_total / both_total if both_total else float("nan")
    uncond = 0.01 * (cond * oa)
    prompts = per_prompt if visor_n == "script" else {u: per_prompt[u] for u in with_both}
    n_prompts = len(prompts)
    out = {"OA": oa, "VISOR_cond": cond, "VISOR_uncond": uncond}
    for n in (1, 2, 3, 4):
        hits = sum(1 for scores in prompts.values() if sum(scores) >= n)
        out[f"VISOR_{n}"] = 100 * hits / n_prompts if n_prompts else float("nan")
    return out


def _column(records: Any, name: str) -> Sequence[Any]:
    try:
        col = records[name]
    except (KeyError, IndexError, TypeError) as exc:
        raise ValueError(f"visor_summary: records need a {name!r} column") from exc
    return col.tolist() if hasattr(col, "tolist") else list(col)


# ----------------------------------------------------------------------------- T2I-CompBench


def t2i_frame(image_size: tuple[int, int]) -> tuple[int, int]:
    """(height, width) of the image after torchvision ``Resize(479, max_size=480)`` (UniDet's
    input, where the 150 px distance is measured)."""
    h, w = (int(v) for v in image_size)
    if h <= 0 or w <= 0:
        raise ValueError(f"image size must be positive, got {image_size}")
    size, max_size = T2I_RESIZE
    short, long = (w, h) if w <= h else (h, w)
    new_short, new_long = size, int(size * long / short)
    if new_long > max_size:
        new_short, new_long = int(max_size * new_short / new_long), max_size
    new_w, new_h = (new_short, new_long) if w <= h else (new_long, new_short)
    return new_h, new_w


def t2i_locality(prompt: str) -> str | None:
    """The first locality word found in the prompt, in the official search order."""
    return next((word for word in T2I_LOCALITIES if word in prompt), None)


def t2i_position(
    locality: str | None, box1: Sequence[float], box2: Sequence[float], protocol: str = "official"
) -> float:
    """``determine_position``: the soft position score of obj1's box against obj2's.

    Official quirks kept by default: 'on top of' has no branch (always 0); IoU divides by zero
    when both boxes are degenerate (here a ValueError). ``protocol="fixed"``: 'on top of' scores
    as 'on the top of' and a zero union gives IoU 0.
    """
    if protocol not in PROTOCOLS:
        raise ValueError(f"protocol must be one of {PROTOCOLS}, not {protocol!r}")
    x1a, y1a, x2a, y2a = (float(v) for v in box1[:4])
    x1b, y1b, x2b, y2b = (float(v) for v in box2[:4])
    c1 = ((x1a + x2a) / 2, (y1a + y2a) / 2)
    c2 = ((x1b + x2b) / 2, (y1b + y2b) / 2)
    dx = c2[0] - c1[0]
    dy = c2[1] - c1[1]
    x_overlap = max(0, min(x2a, x2b) - max(x1a, x1b))
    y_overlap = max(0, min(y2a, y2b) - max(y1a, y1b))
    inter = x_overlap * y_overlap
    union = (x2a - x1a) * (y2a - y1a) + (x2b - x1b) * (y2b - y1b) - inter
    if union == 0:
        if protocol == "official":
            raise ValueError(
                "T2I-CompBench IoU: both boxes have zero area (the official code "
                "raises ZeroDivisionError); -O protocol=fixed scores IoU 0"
            )
        iou = 0.0
    else:
        iou = inter / union
    if protocol == "fixed" and locality == "on top of":
        locality = "on the top of"
    t, d = T2I_IOU_THRESHOLD, T2I_DISTANCE
    if locality in ("next to", "on side of", "near"):
        if abs(dx) < d or abs(dy) < d:
            return 1
        return d / max(abs(dx), abs(dy))
    # (sign test, main-axis distance, cross-axis distance) per directional locality
    axis = {
        "on the right of": (dx < 0, dx, dy),
        "on the left of": (dx > 0, dx, dy),
        "on the bottom of": (dy < 0, dy, dx),
        "on the top of": (dy > 0, dy, dx),
    }
    if locality not in axis:
        return 0
    sign_ok, main, cross = axis[locality]
    if sign_ok and abs(main) > abs(cross):
        return 1 if iou < t else t / iou
    return 0


@dataclass
class T2IVerdict:
    """One image under T2I-CompBench 2D-spatial: the soft score and what decided it."""

    score: float
    locality: str | None
    obj1: str
    obj2: str
    box1: list[float] | None = None  # in the UniDet frame, with score
    box2: list[float] | None = None
    position: float | None = None
    raw: float = 0.0  # before the < 0.5 -> 0 cut
    extra: dict[str, Any] = field(default_factory=dict)

    def record(self) -> dict[str, Any]:
        return {
            "t2i_score": float(self.score),
            "t2i_raw": float(self.raw),
            "t2i_position": np.nan if self.position is None else float(self.position),
            "t2i_locality": self.locality or "",
            "t2i_obj1": self.obj1,
            "t2i_obj2": self.obj2,
            "t2i_pass": int(self.score >= 0.5),
            "t2i_box1": _json_boxes(self.box1),
            "t2i_box2": _json_boxes(self.box2),
        }


def t2i_objects(name: str) -> str:
    """girl/boy/man/woman -> person, as the official script maps spaCy's nouns."""
    return "person" if name in T2I_PERSON else name


def t2i_verdict(
    obj1: str,
    obj2: str,
    locality: str | None,
    detections: Mapping[str, Any],
    image_size: tuple[int, int],
    protocol: str = "official",
    threshold: float = T2I_THRESHOLD,
    where: str = "",
) -> T2IVerdict:
    """The official per-image score for known objects and locality (see t2i_compbench_image)."""
    obj1, obj2 = t2i_objects(obj1), t2i_objects(obj2)
    h, w = (int(v) for v in image_size)
    fh, fw = t2i_frame((h, w))
    sx, sy = fw / w, fh / h
    best = []
    for name in (obj1, obj2):
        boxes = kept_boxes(detections, name, threshold, where)
        if len(boxes) == 0:
            best.append(None)
            continue
        b = boxes[int(np.argmax(boxes[:, 4]))]  # the first (highest-score) box of that label
        best.append([b[0] * sx, b[1] * sy, b[2] * sx, b[3] * sy, float(b[4])])
    b1, b2 = best
    v = T2IVerdict(0.0, locality, obj1, obj2, b1, b2)
    if b1 is not None and b2 is not None:
        score = 0.25 * b1[4] + 0.25 * b2[4]
        v.position = t2i_position(locality, b1, b2, protocol)
        score += v.position / 2
    elif b1 is not None:
        score = 0.25 * b1[4]
    elif b2 is not None:
        score = 0.25 * b2[4]
    else:
        score = 0
    v.raw = score
    v.score = 0 if score < 0.5 else score
    return v


def t2i_compbench_image(
    prompt: str,
    detections: Mapping[str, Any],
    image_size: tuple[int, int],
    protocol: str = "official",
    objects: tuple[str, str] | None = None,
) -> float:
    """T2I-CompBench 2D-spatial score of one image in [0, 1].

    The objects are the card's (first and last spaCy NOUN, extracted once, girl/boy/man/woman
    -> person) for the 300 validation prompts; other prompts must pass ``objects``. Boxes are
    mapped from the image's own pixels (``image_size`` = (height, width)) into UniDet's input
    frame (shorter side 479, longer at most 480), where the 150 px distance is measured.
    """
    if objects is None:
        from evalkit.benchmarks.spatial.prompts import t2i_pairs

        pair = t2i_pairs().get(prompt)
        if pair is None:
            raise ValueError(
                f"prompt {prompt!r} is not one of T2I-CompBench's 300 spatial "
                "validation prompts: pass objects=(obj1, obj2)"
            )
        objects = pair
    v = t2i_verdict(objects[0], objects[1], t2i_locality(prompt), detections, image_size, protocol)
    return float(v.score)


def _json_boxes(boxes: Any) -> str:
    import json

    if boxes is None:
        return "[]"
    arr = np.asarray(boxes, dtype=np.float64).reshape(-1, 5) if len(boxes) else np.zeros((0, 5))
    return json.dumps([[round(float(v), 3) for v in row] for row in arr])
