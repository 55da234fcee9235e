"""An independent re-statement of the official DetailMaster decisions, for parity tests only.

Written from modelscope/data-juicer@DetailMaster ``evaluation_pipeline/eval_process.py``,
``eval_mini_benchmark/eval_process_mini.py``, ``cal_eval.py`` and ``cal_eval_mini.py`` by
following their loops one by one (dicts keyed by character, repeats asked again, the last copy
winning), with none of evalkit's code. It ``eval`` s the box answers as the official code does:
acceptable here because every answer comes from the tests' own scripted tables, never a model.

``fixed=True`` states the intended behaviour instead: the BLIP tie-break runs, y is normalised
by the height, yes/no is read from the first word.
"""

from __future__ import annotations

import math
from typing import Any

from PIL import ImageDraw

CLASSES = ("animal", "object", "person")


def _iou(b1: Any, b2: Any) -> tuple[float, float, float]:
    if min(b1[2], b2[2]) - max(b1[0], b2[0]) < 0 or min(b1[3], b2[3]) - max(b1[1], b2[1]) < 0:
        return 0, 0, 0
    a1 = (b1[2] - b1[0]) * (b1[3] - b1[1])
    a2 = (b2[2] - b2[0]) * (b2[3] - b2[1])
    inter = (min(b1[2], b2[2]) - max(b1[0], b2[0])) * (min(b1[3], b2[3]) - max(b1[1], b2[1]))
    return inter / (a1 + a2 - inter), a1, a2


def _yes(text: str, fixed: bool) -> bool:
    if not fixed:
        return "yes" in text.lower()
    t = text.lower().lstrip(" \t\n\r.,;:!?'\"()[]-*")
    return t[:3] == "yes" and not t[3:4].isalpha()


def _ground(piece: dict, img: Any, judge: Any, fixed: bool) -> dict:
    names = []
    for c in piece["character_attributes"]:
        names.append(c["main_character"])
    for c in piece["character_locations"]:
        if c["main_character"] not in names:
            names.append(c["main_character"])
    rgb = img.convert("RGB")
    boxes: dict = {}
    for name in names:
        raw = judge.detect(rgb, name)
        if raw is None:
            boxes[name] = None
            continue
        yb = [int(raw[0]), int(raw[1]), math.ceil(raw[2]), math.ceil(raw[3])]
        text = judge.ask(
            rgb,
            "Please only provide the bounding box coordinate (as a list) of the "
            f'region "{name}" describes. Do not include any JSON formatting or '
            "additional text in the response.",
        )
        try:
            lb = eval(text.replace("json", "").replace("```", ""))  # noqa: S307 - scripted text
            iou, a1, a2 = _iou(yb, lb)
        except Exception:
            boxes[name] = None
            continue
        if iou > 0.7:
            boxes[name] = yb if a1 > a2 else lb
        elif not fixed:
            boxes[name] = None  # the official BLIP branch dies on name["main_character"]
        else:
            try:
                c1, c2 = img.crop(yb), img.crop(lb)
            except Exception:
                boxes[name] = None
                continue
            s1 = judge.match(c1, name) if min(c1.size) > 0 else -math.inf
            s2 = judge.match(c2, name) if min(c2.size) > 0 else -math.inf
            if s1 == -math.inf and s2 == -math.inf:
                boxes[name] = None
            else:
                boxes[name] = yb if s1 > s2 else lb
    return boxes


def _attributes(
    piece: dict, img: Any, boxes: dict, judge: Any, fixed: bool, target: Any, tot: dict
) -> None:
    attr, cls = {}, {}
    for c in piece["character_attributes"]:
        if target is not None and c["cls"] != target:
            continue
        attr[c["main_character"]] = c["characteristics_list"]
        cls[c["main_character"]] = c["cls"]
    success = {}
    for name in boxes:
        if name not in attr:
            continue
        success[name] = 0
        if boxes[name] is None:
            continue
        try:
            crop = img.crop(boxes[name])
        except Exception:
            continue
        tot["detect"][cls[name]] = tot["detect"].get(cls[name], 0) + len(attr[name])
        for a in attr[name]:
            q = (
                f'Please analyze the main character in this image, specifically the "{name}". '
                f'Please determine whether "{a}" is one of its characteristics or is associated '
                "with it. Please only respond with 'yes' or 'no'."
            )
            if _yes(judge.ask(crop, q), fixed):
                success[name] += 1
    for name in attr:
        tot["attr_all"][cls[name]] = tot["attr_all"].get(cls[name], 0) + len(attr[name])
    for name in success:
        tot["attr_ok"][cls[name]] = tot["attr_ok"].get(cls[name], 0) + success[name]


def _locations(piece: dict, img: Any, boxes: dict, judge: Any, fixed: bool, tot: dict) -> None:
    pos = {}
    for c in piece["character_locations"]:
        pos[c["main_character"]] = c["position"]
    ok = {}
    w, h = img.size
    for name in boxes:
        if name not in pos:
            continue
        ok[name] = 0
        if boxes[name] is None:
            continue
        drawn = img.copy()
        try:
            ImageDraw.Draw(drawn).rectangle(boxes[name], outline="red", width=5)
        except Exception:
            continue
        b = boxes[name]
        ys = h if fixed else w
        norm = [round(b[0] / w, 2), round(b[1] / ys, 2), round(b[2] / w, 2), round(b[3] / ys, 2)]
        q = (
            f'Analyze whether the character "{name}" (marked with a red bounding box at '
            f"coordinates {str(norm)}) is located in {pos[name].lower()}. Please only respond "
            "with 'yes' or 'no'."
        )
        if _yes(judge.ask(drawn, q), fixed):
            ok[name] = 1
    tot["loc_all"] += len(pos)
    tot["loc_ok"] += sum(ok.values())


def _scene(
    piece: dict, img: Any, boxes: dict, judge: Any, fixed: bool, target: Any, tot: dict
) -> None:
    for s in piece["scene_attributes"]:
        kind = s["scene_attribute"]
        if kind != "spatial":
            if target is not None and target != kind:
                continue
            q = (
                f"Analyze whether the {kind} condition in this image match the following "
                f"description: \"{s['content']}\". Please only respond with 'yes' or 'no'."
            )
            tot["scene_all"][kind] += 1
            if _yes(judge.ask(img.convert("RGB"), q), fixed):
                tot["scene_ok"][kind] += 1
            continue
        if target is not None and target != "entity_relationship":
            continue
        for statement in s["content"]:
            drawn = img.copy()
            draw = ImageDraw.Draw(drawn)
            listed = ""
            for name in boxes:
                if boxes[name] is None:
                    continue
                try:
                    draw.rectangle(boxes[name], outline="red", width=5)
                except Exception:
                    continue
                listed += (", " if listed else "") + f'"{name}"'
            if listed == "":
                answer = "no"
            else:
                answer = judge.ask(
                    drawn,
                    "The provided image contains only characters: "
                    + listed
                    + " (highlighted with red bounding boxes). Analyze whether the "
                    "spatial condition in this image match the following "
                    f'description: "{statement}". Please only respond with '
                    "'yes' or 'no'.",
                )
            tot["scene_all"]["spatial"] += 1
            if _yes(answer, fixed):
                tot["scene_ok"]["spatial"] += 1


def official_counts(
    records: list, images: dict, judge: Any, fixed: bool = False, mini: bool = False
) -> dict:
    """The totals eval_process(_mini).py would write (records without images are skipped)."""
    tot: dict = {
        "presence_all": 0,
        "presence_ok": 0,
        "attr_all": {},
        "attr_ok": {},
        "detect": {},
        "loc_all": 0,
        "loc_ok": 0,
        "scene_all": dict.fromkeys(("background", "light", "style", "spatial"), 0),
        "scene_ok": dict.fromkeys(("background", "light", "style", "spatial"), 0),
    }
    for piece in records:
        key = piece["dataset_target"] + "_" + piece["image_id"]
        if key not in images:
            continue
        target = piece["mini_bench_target"] if mini else None
        for img in images[key]:
            if not mini:
                boxes = _ground(piece, img, judge, fixed)
                _attributes(piece, img, boxes, judge, fixed, None, tot)
                _locations(piece, img, boxes, judge, fixed, tot)
                tot["presence_all"] += len(boxes)
                tot["presence_ok"] += sum(b is not None for b in boxes.values())
                _scene(piece, img, boxes, judge, fixed, None, tot)
            elif target in CLASSES:
                _attributes(
                    piece, img, _ground(piece, img, judge, fixed), judge, fixed, target, tot
                )
            elif target == "location":
                _locations(piece, img, _ground(piece, img, judge, fixed), judge, fixed, tot)
            elif target in ("background", "light", "style"):
                _scene(piece, img, {}, judge, fixed, target, tot)
            elif target == "entity_relationship":
                _scene(piece, img, _ground(piece, img, judge, fixed), judge, fixed, target, tot)
    return tot


def _div(a: int, b: int) -> float:
    return a / b if b else math.nan  # cal_eval raises ZeroDivisionError / KeyError here


def official_accuracies(tot: dict, mini: bool = False) -> dict:
    """cal_eval.py / cal_eval_mini.py without the rounding."""
    acc = {}
    if not mini:
        acc["object_presence"] = _div(tot["presence_ok"], tot["presence_all"])
    for c in CLASSES:
        acc[f"character_attributes_{c}"] = _div(tot["attr_ok"].get(c, 0), tot["attr_all"].get(c, 0))
    if mini:
        for c in CLASSES:
            acc[f"character_attributes_{c}_detect"] = _div(
                tot["attr_ok"].get(c, 0), tot["detect"].get(c, 0)
            )
    acc["character_locations"] = _div(tot["loc_ok"], tot["loc_all"])
    for s in ("background", "light", "style", "spatial"):
        acc[f"scene_attrbutes_{s}"] = _div(tot["scene_ok"][s], tot["scene_all"][s])
    return acc
