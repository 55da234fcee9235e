"""``-O overlays=true``: draw the boxes each rule used, the deciding pair and the verdicts."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

COLOURS = {"obj1": (230, 60, 40), "obj2": (40, 110, 230)}


def draw(image: np.ndarray, record: dict[str, Any], path: Path) -> None:
    """Save ``image`` with the record's boxes (obj1 red, obj2 blue) and verdict text."""
    from PIL import Image, ImageDraw

    from evalkit.cache import atomic_write

    im = Image.fromarray(image).convert("RGB")
    scale = max(1, 256 // max(im.size))  # small images are enlarged so the text is readable
    if scale > 1:
        im = im.resize((im.width * scale, im.height * scale), Image.NEAREST)
    pen = ImageDraw.Draw(im)
    pair = [int(v) for v in str(record.get("visor_pair", "")).split(",") if v != ""]
    for key, colour_key, idx in (("visor_boxes1", "obj1", 0), ("visor_boxes2", "obj2", 1)):
        for i, b in enumerate(json.loads(record.get(key, "[]") or "[]")):
            width = 3 if pair and pair[idx] == i else 1
            pen.rectangle([v * scale for v in b[:4]], outline=COLOURS[colour_key], width=width)
    for key, colour_key in (("geneval_box1", "obj1"), ("geneval_box2", "obj2")):
        b = json.loads(record.get(key, "[]") or "[]")
        if b:
            pen.rectangle([v * scale for v in b[:4]], outline=COLOURS[colour_key], width=1)
    lines = [f"{record.get('obj1')} | {record.get('relation')} | {record.get('obj2')}"]
    if "sra" in record:
        lines.append(
            f"VISOR recall {record['recall']} sra {record['sra']} "
            f"found: {record.get('visor_relation_found', '')}"
        )
    if "geneval_correct" in record:
        lines.append(
            f"GenEval {record['geneval_correct']} found: {record.get('geneval_relation_found', '')}"
        )
    if "t2i_score" in record:
        pos = float(record.get("t2i_position", 0))
        lines.append(f"T2I {record['t2i_score']:.3f} (pos {pos:.3f})")
    pen.multiline_text((2, 2), "\n".join(lines), fill=(255, 255, 0))
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write(path, lambda t: im.save(t, format="PNG"))
