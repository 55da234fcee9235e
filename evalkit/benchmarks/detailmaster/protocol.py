"""DetailMaster's per-image decisions, as the official evaluation code makes them.

Read from modelscope/data-juicer, branch DetailMaster (``evaluation_pipeline/eval_process.py`` and
``eval_mini_benchmark/eval_process_mini.py`` at aa4064d4a); written anew, never copied.

One prompt record judged on one image is a generator (:func:`judge_record`): it yields lists of
:class:`Request` (detector, VLM or ITM questions that do not depend on each other) and receives
the answers, so a driver can batch the questions of many images into one call and answer repeats
from a journal. It returns :class:`Unit` s: every counted item (a character's presence, one
attribute, one location, one scene statement) with its success flag. Counts are micro sums of
units, so the order in which images are judged never changes a number.

``protocol="official"`` reproduces the official decisions, bugs included (see the card's
quirks); ``protocol="fixed"`` maps the VLM's boxes from its resized input frame to pixels before
comparing them with the detector's, runs the BLIP tie-break, normalises y by the height and reads
yes/no strictly.
"""

from __future__ import annotations

import ast
import math
import re
from collections.abc import Generator, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from PIL import Image, ImageDraw

Protocol = Literal["official", "fixed"]
PROTOCOLS = ("official", "fixed")
CLASSES = ("animal", "object", "person")
SCENES = ("background", "light", "style", "spatial")
IOU_THRESHOLD = 0.7  # strictly greater keeps the character (eval_process.py)
BOX_WIDTH = 5  # red outline width of the location / spatial images

# --- the exact question texts of the official code ------------------------------------------


def bbox_question(name: str) -> str:
    return (
        f'Please only provide the bounding box coordinate (as a list) of the region "{name}" '
        "describes. Do not include any JSON formatting or additional text in the response."
    )


def attribute_question(name: str, attribute: str) -> str:
    return (
        f'Please analyze the main character in this image, specifically the "{name}". Please '
        f'determine whether "{attribute}" is one of its characteristics or is associated with '
        "it. Please only respond with 'yes' or 'no'."
    )


def location_question(name: str, norm_box: list[float], position: str) -> str:
    return (
        f'Analyze whether the character "{name}" (marked with a red bounding box at '
        f"coordinates {norm_box}) is located in {position.lower()}. Please only respond with "
        "'yes' or 'no'."
    )


def scene_question(attribute: str, content: str) -> str:
    return (
        f"Analyze whether the {attribute} condition in this image match the following "
        f"description: \"{content}\". Please only respond with 'yes' or 'no'."
    )


def spatial_question(names: Sequence[str], statement: str) -> str:
    listed = ", ".join(f'"{n}"' for n in names)
    return (
        f"The provided image contains only characters: {listed} (highlighted with red bounding "
        "boxes). Analyze whether the spatial condition in this image match the following "
        f"description: \"{statement}\". Please only respond with 'yes' or 'no'."
    )


# --- parsing model output (never eval) --------------------------------------------------------


def parse_box(text: str) -> list[int | float] | None:
    """The box a VLM answer holds, or None where the official ``eval`` route fails.

    The official code strips "json" and "```", ``eval`` s the rest and indexes the result's
    first four items in ``iou_cal``: it works for a flat list or tuple of at least 4 numbers.
    Here only literals are accepted (a list/tuple of int/float constants, signs allowed; bools
    read as ints as Python would); anything else, including arithmetic that ``eval`` would
    compute, is None. Items beyond the fourth are kept: they make later crops fail, as officially.
    """
    source = text.replace("json", "").replace("```", "").lstrip(" \t")  # eval strips these too
    try:
        node = ast.parse(source, mode="eval").body
    except (SyntaxError, ValueError):
        return None
    if not isinstance(node, (ast.List, ast.Tuple)) or len(node.elts) < 4:
        return None
    values: list[int | float] = []
    for elt in node.elts:
        sign = 1
        while isinstance(elt, ast.UnaryOp) and isinstance(elt.op, (ast.USub, ast.UAdd)):
            sign = -sign if isinstance(elt.op, ast.USub) else sign
            elt = elt.operand
        if not isinstance(elt, ast.Constant) or type(elt.value) not in (int, float, bool):
            return None
        v = int(elt.value) if isinstance(elt.value, bool) else elt.value
        values.append(-v if sign < 0 else v)
    return values


def says_yes(answer: str, protocol: Protocol) -> bool:
    """official: 'yes' anywhere in the lower-cased answer ("eyes" counts); fixed: first word."""
    if protocol == "official":
        return "yes" in answer.lower()
    match = re.match(r"\W*([a-z]+)", answer.lower())
    return bool(match) and match.group(1) == "yes"


def iou_cal(a: Sequence[float], b: Sequence[float]) -> tuple[float, float, float]:
    """(IoU, area a, area b) with the official arithmetic; zero overlap gives (0, 0, 0).

    Raises (TypeError, IndexError, ZeroDivisionError) where the official one does; the caller
    maps that to "absent".
    """
    min_x2, max_x1 = min(a[2], b[2]), max(a[0], b[0])
    min_y2, max_y1 = min(a[3], b[3]), max(a[1], b[1])
    if min_x2 - max_x1 < 0 or min_y2 - max_y1 < 0:
        return 0, 0, 0
    area_a = (a[2] - a[0]) * (a[3] - a[1])
    area_b = (b[2] - b[0]) * (b[3] - b[1])
    inter = (min_x2 - max_x1) * (min_y2 - max_y1)
    return inter / (area_a + area_b - inter), area_a, area_b


def frame_to_pixels(box: list[int | float], size: tuple[int, int]) -> list[int | float]:
    """A Qwen2.5-VL box, answered in the frame the model saw (the image resized to multiples of
    28 px: 512 -> 504, 1024 -> 1036), in the image's own pixels. Items beyond the fourth are
    kept as they are (they make crops fail, as officially)."""
    from evalkit.judges.vlm import frame_size

    width, height = size
    frame_w, frame_h = frame_size(width, height)
    scale = (width / frame_w, height / frame_h)
    return [v * scale[i % 2] if i < 4 else v for i, v in enumerate(box)]


def detector_box(raw: Sequence[float]) -> list[int]:
    """YOLOE's top box as the official code keeps it: int() for x1, y1 and ceil() for x2, y2."""
    return [int(raw[0]), int(raw[1]), math.ceil(raw[2]), math.ceil(raw[3])]


# --- requests, units, the per-record generator ------------------------------------------------


@dataclass(frozen=True)
class Request:
    """One judge question. ``view`` names the image sent (with ``image``, the image itself)."""

    kind: Literal["detect", "ask", "match"]
    view: str
    text: str
    image: Any = field(default=None, compare=False, hash=False, repr=False)

    @property
    def key(self) -> str:
        return f"{self.kind}|{self.view}|{self.text}"


@dataclass
class Unit:
    """One counted item: ``dimension`` is object_presence, character_attributes,
    character_locations or scene_<background|light|style|spatial>."""

    dimension: str
    success: int
    cls: str | None = None
    detected: bool | None = None  # attributes: the character was found and its crop made
    character: str | None = None
    item: str | None = None  # the attribute / position / statement judged
    question: str | None = None  # the VLM question that decided it (None: decided without one)


Answers = list[Any]
RecordJob = Generator[list[Request], Answers, list[Unit]]


def _box_view(box: Sequence[Any]) -> str:
    return "[" + ",".join(repr(v) for v in box) + "]"


def characters(record: dict[str, Any]) -> list[str]:
    """Names to ground, in the official order: every attribute entry (repeats kept), then the
    location entries not listed yet."""
    names = [c["main_character"] for c in record["character_attributes"]]
    for c in record["character_locations"]:
        if c["main_character"] not in names:
            names.append(c["main_character"])
    return names


def _ground(
    image: Image.Image, rgb: Image.Image, names: list[str], protocol: Protocol
) -> Generator[list[Request], Answers, dict[str, Any]]:
    """name -> box or None. Repeated names are asked once (the answers are deterministic)."""
    unique = list(dict.fromkeys(names))
    raw = yield [Request("detect", "rgb", n, rgb) for n in unique]
    det = {n: (detector_box(r) if r is not None else None) for n, r in zip(unique, raw)}
    found = [n for n in unique if det[n] is not None]
    texts = yield [Request("ask", "rgb", bbox_question(n), rgb) for n in found]
    boxes: dict[str, Any] = {n: None for n in unique}
    tie: list[tuple[str, list[int], list[int | float], Image.Image, Image.Image]] = []
    for n, text in zip(found, texts):
        llm = parse_box(text)
        if llm is None:
            continue
        if protocol == "fixed":  # official: the raw frame coordinates (a documented quirk)
            llm = frame_to_pixels(llm, rgb.size)
        try:
            iou, area_det, area_llm = iou_cal(det[n], llm)
        except (TypeError, IndexError, ZeroDivisionError, ValueError):
            continue
        if iou > IOU_THRESHOLD:
            boxes[n] = det[n] if area_det > area_llm else llm
        elif protocol == "fixed":  # the BLIP tie-break the official code never reaches
            try:
                crops = image.crop(det[n]), image.crop(llm)
            except (ValueError, TypeError):
                continue
            tie.append((n, det[n], llm, *crops))
    if tie:
        reqs = []
        for n, d, llm, c_det, c_llm in tie:
            reqs.append(Request("match", "crop" + _box_view(d), n, c_det))
            reqs.append(Request("match", "crop" + _box_view(llm), n, c_llm))
        scores = yield reqs
        for i, (n, d, llm, c_det, c_llm) in enumerate(tie):
            s_det = scores[2 * i] if min(c_det.size) > 0 else -math.inf
            s_llm = scores[2 * i + 1] if min(c_llm.size) > 0 else -math.inf
            if max(s_det, s_llm) > -math.inf:
                boxes[n] = d if s_det > s_llm else llm
    return boxes


def _boxed(image: Image.Image, boxes: Sequence[Any]) -> tuple[Image.Image, list[int]]:
    """A copy with red outlines; the indices of the boxes that could be drawn."""
    out = image.copy()
    draw = ImageDraw.Draw(out)
    drawn = []
    for i, box in enumerate(boxes):
        try:
            draw.rectangle(box, outline="red", width=BOX_WIDTH)
        except (ValueError, TypeError):
            continue
        drawn.append(i)
    return out, drawn


def judge_record(
    record: dict[str, Any], image: Image.Image, protocol: Protocol = "official", mini: bool = False
) -> RecordJob:
    """Judge one prompt record on one image (full benchmark, or the mini target only)."""
    if protocol not in PROTOCOLS:
        raise ValueError(f"protocol must be one of {PROTOCOLS}, not {protocol!r}")
    target = record.get("mini_bench_target") if mini else None
    rgb = image.convert("RGB")  # what lmdeploy's load_image sends; crops use the image as opened
    units: list[Unit] = []
    grounded = not mini or target in (*CLASSES, "location", "entity_relationship")
    boxes: dict[str, Any] = {}
    if grounded:
        boxes = yield from _ground(image, rgb, characters(record), protocol)
    if not mini:
        units += [
            Unit("object_presence", int(b is not None), character=n) for n, b in boxes.items()
        ]
    asks: list[Request] = []
    pending: list[Unit] = []  # units decided by asks[i], in order

    if not mini or target in CLASSES:
        attrs: dict[str, tuple[list[str], str]] = {}
        for c in record["character_attributes"]:
            if not mini or c["cls"] == target:
                attrs[c["main_character"]] = (c["characteristics_list"], c["cls"])
        for n, box in boxes.items():
            if n not in attrs:
                continue
            items, cls = attrs[n]
            crop = None
            if box is not None:
                try:
                    crop = image.crop(box)
                except (ValueError, TypeError):
                    crop = None
            for a in items:
                if crop is None:
                    units.append(Unit("character_attributes", 0, cls, False, n, a))
                    continue
                q = attribute_question(n, a)
                asks.append(Request("ask", "crop" + _box_view(box), q, crop))
                pending.append(Unit("character_attributes", 0, cls, True, n, a, q))

    if not mini or target == "location":
        positions = {c["main_character"]: c["position"] for c in record["character_locations"]}
        width, height = image.size
        for n, box in boxes.items():
            if n not in positions:
                continue
            unit = Unit("character_locations", 0, character=n, item=positions[n])
            boxed, drawn = _boxed(image, [box]) if box is not None else (None, [])
            if not drawn:  # absent, or a box PIL cannot draw: a failure without a question
                units.append(unit)
                continue
            y_size = height if protocol == "fixed" else width  # official: width on both axes
            norm = [round(box[i] / (width if i % 2 == 0 else y_size), 2) for i in range(4)]
            unit.question = location_question(n, norm, positions[n])
            asks.append(Request("ask", "box" + _box_view(box), unit.question, boxed))
            pending.append(unit)

    for entry in record["scene_attributes"]:
        kind = entry["scene_attribute"]
        if kind != "spatial" and (not mini or target == kind):
            q = scene_question(kind, entry["content"])
            asks.append(Request("ask", "rgb", q, rgb))
            pending.append(Unit(f"scene_{kind}", 0, item=entry["content"], question=q))
        elif kind == "spatial" and (not mini or target == "entity_relationship"):
            present = [(n, b) for n, b in boxes.items() if b is not None]
            boxed, drawn = _boxed(image, [b for _, b in present])
            names = [present[i][0] for i in drawn]
            view = "boxes[" + ",".join(_box_view(present[i][1]) for i in drawn) + "]"
            for statement in entry["content"]:
                if not names:  # nobody to point at: "no" without asking
                    units.append(Unit("scene_spatial", 0, item=statement))
                    continue
                q = spatial_question(names, statement)
                asks.append(Request("ask", view, q, boxed))
                pending.append(Unit("scene_spatial", 0, item=statement, question=q))

    if asks:
        answers = yield asks
        for unit, answer in zip(pending, answers):
            unit.success = int(says_yes(answer, protocol))
    return units + pending


# --- aggregation ------------------------------------------------------------------------------

OFFICIAL_KEYS = (
    "object_presence",
    "character_attributes_animal",
    "character_attributes_object",
    "character_attributes_person",
    "character_locations",
    "scene_attrbutes_background",
    "scene_attrbutes_light",
    "scene_attrbutes_style",
    "scene_attrbutes_spatial",
)
MINI_KEYS = (
    "character_attributes_animal",
    "character_attributes_object",
    "character_attributes_person",
    "character_attributes_animal_detect",
    "character_attributes_object_detect",
    "character_attributes_person_detect",
    "character_locations",
    "scene_attrbutes_background",
    "scene_attrbutes_light",
    "scene_attrbutes_style",
    "scene_attrbutes_spatial",
)


def counts(units: Sequence[Unit] | Sequence[dict[str, Any]]) -> dict[str, tuple[int, int]]:
    """Official key -> (successes, denominator), pooled over every unit given (micro sums).

    Includes the ``_detect`` keys (denominator: attributes of detected characters); keys with
    no unit have denominator 0.
    """
    out = {k: [0, 0] for k in (*OFFICIAL_KEYS, *MINI_KEYS)}
    for u in units:
        d = u if isinstance(u, dict) else u.__dict__
        dim = d["dimension"]
        if dim == "character_attributes":
            if d["cls"] not in CLASSES:
                continue
            key = f"character_attributes_{d['cls']}"
            out[key][0] += d["success"]
            out[key][1] += 1
            out[key + "_detect"][0] += d["success"]
            out[key + "_detect"][1] += int(bool(d["detected"]))
        else:
            key = dim.replace("scene_", "scene_attrbutes_")
            out[key][0] += d["success"]
            out[key][1] += 1
    return {k: (s, n) for k, (s, n) in out.items()}


def accuracies(count: dict[str, tuple[int, int]], mini: bool = False) -> dict[str, float]:
    """cal_eval.py's (mini: cal_eval_mini.py's) accuracies, unrounded; NaN for an empty one."""
    keys = MINI_KEYS if mini else OFFICIAL_KEYS
    return {k: (count[k][0] / count[k][1] if count[k][1] else math.nan) for k in keys}
