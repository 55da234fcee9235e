"""VISOR's SR2D prompts as GenEval position metadata (for tests on real generated images).

``unique_id`` -> prompt follows VISOR's create_spatial_phrases.py (see the README of
shared/offline/images/visor): 10 prompts per unordered pair of its 80 names (4 relations x 2
orders, then 2 "and" prompts), pairs in itertools.combinations order, then 80 single objects.
"""

from __future__ import annotations

import itertools
import json
import shutil
from pathlib import Path

from evalkit.judges.yolox import COCO80

# VISOR's SHAPES are COCO's names in COCO order, with three short spellings
VISOR_NAMES = tuple(
    {"computer mouse": "mouse", "tv remote": "remote", "computer keyboard": "keyboard"}.get(n, n)
    for n in COCO80
)
TO_GENEVAL = {v: g for v, g in zip(VISOR_NAMES, COCO80)}
RELATIONS = ("to the left of", "to the right of", "above", "below")
GENEVAL_RELATION = {
    "to the left of": "left of",
    "to the right of": "right of",
    "above": "above",
    "below": "below",
}
PAIRS = list(itertools.combinations(VISOR_NAMES, 2))


def visor_prompt(unique_id: int) -> tuple[str, str, str]:
    """(obj_1, relation, obj_2) of an SR2D two-object spatial prompt, VISOR's names."""
    pair, r = divmod(unique_id, 10)
    if pair >= len(PAIRS) or r >= 8:
        raise ValueError(f"unique_id {unique_id} is not a two-object spatial prompt")
    s1, s2 = PAIRS[pair]
    rel = RELATIONS[r // 2]
    return (s2, rel, s1) if r % 2 else (s1, rel, s2)


def _a(name: str) -> str:
    return f"an {name}" if name[0] in "aeiou" else f"a {name}"


def geneval_metadata(unique_id: int) -> dict:
    """GenEval's position form: include [target, object with position [relation, 0]]."""
    obj1, rel, obj2 = visor_prompt(unique_id)
    a, b, r = TO_GENEVAL[obj1], TO_GENEVAL[obj2], GENEVAL_RELATION[rel]
    return {
        "tag": "position",
        "include": [{"class": b, "count": 1}, {"class": a, "count": 1, "position": [r, 0]}],
        "prompt": f"a photo of {_a(a)} {r} {_a(b)}",
    }


def lay_out(images_dir: Path, root: Path) -> tuple[Path, list[int]]:
    """Copy ``<uid>_<k>.png`` into GenEval's layout under ``root``; returns the prompt file."""
    uids = sorted({int(p.name.split("_")[0]) for p in images_dir.glob("*_*.png")})
    root.mkdir(parents=True, exist_ok=True)
    prompts = root.parent / f"{root.name}-prompts.jsonl"
    lines = []
    for p, uid in enumerate(uids):
        meta = geneval_metadata(uid)
        lines.append(json.dumps(meta))
        folder = root / f"{p:05d}"
        (folder / "samples").mkdir(parents=True, exist_ok=True)
        (folder / "metadata.jsonl").write_text(json.dumps(meta))
        for k in range(4):
            shutil.copyfile(images_dir / f"{uid}_{k}.png", folder / "samples" / f"{k:05d}.png")
    prompts.write_text("\n".join(lines) + "\n")
    return prompts, uids
