"""GenEval's folder layout: ``<root>/<00000>/metadata.jsonl`` + ``samples/<00000>.png``.

Unlike the official evaluator (which skips non-PNG files and missing folders without a word),
every prompt and image is accounted for: PNG, JPEG and WebP are read; a missing folder or image,
a folder whose metadata is not its prompt's, or an unreadable image is an error naming it. A
prompt file is checked line by line against what the official rules read (tag, include clauses
with a class GenEval's detector knows, count, colour, position; exclude clauses).
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from evalkit.benchmarks.geneval.rules import COLORS, RELATIONS, TAGS
from evalkit.benchmarks.samplefiles import (
    InputFileError,
    check_names,
    folder_manifest,
    read_jsonl,
    require_folder,
)

SUFFIXES = (".png", ".jpg", ".jpeg", ".webp")
_NAME = re.compile(r"^(\d+)\.(png|jpe?g|webp)$", re.IGNORECASE)


class LayoutError(InputFileError):
    """A samples folder or prompt file does not hold what GenEval's layout promises; the message
    names the file (bad input: the command line exits 2)."""


@lru_cache(maxsize=1)
def object_names() -> frozenset[str]:
    """The 80 classes GenEval's detector reports (``evaluation/object_names.txt``, a card file)."""
    from evalkit.cards import card_file, load_card

    files = load_card("geneval")["dataset"]["files"]
    text = card_file("geneval", next(f for f in files if f.startswith("object_names"))).read_text()
    return frozenset(line.strip() for line in text.splitlines() if line.strip())


def load_prompts(path: str | Path | None = None) -> list[dict[str, Any]]:
    """The prompt metadata (one JSON object a line): the official 553, or ``path``."""
    if path is None:
        from evalkit.cards import card_file

        path = card_file("geneval", "evaluation_metadata.jsonl")
    path = Path(path).expanduser()
    prompts = []
    for n, meta in read_jsonl(path, "geneval: prompt file"):
        check_prompt(meta, f"{path}:{n}")
        prompts.append(meta)
    if not prompts:
        raise LayoutError(f"geneval: prompt file {path}: no prompts")
    return prompts


def check_prompt(meta: Any, where: str) -> None:
    """One prompt's metadata holds what the official rules read, with names they can match."""

    def bad(why: str) -> LayoutError:
        return LayoutError(f"{where}: {why}")

    if not isinstance(meta, dict):
        raise bad(f"a prompt is a JSON object, not {type(meta).__name__}")
    if meta.get("tag") not in TAGS:
        raise bad(f"tag {meta.get('tag')!r} is none of {list(TAGS)}")
    if not isinstance(meta.get("prompt", ""), str):
        raise bad("'prompt' must be a string")
    include, exclude = meta.get("include"), meta.get("exclude", [])
    if not isinstance(include, list) or not include:
        raise bad("'include' must be a non-empty list of clauses")
    if not isinstance(exclude, list):
        raise bad("'exclude' must be a list of clauses")
    for kind, clauses in (("include", include), ("exclude", exclude)):
        for i, clause in enumerate(clauses):
            at = f"{kind}[{i}]"
            if not isinstance(clause, dict) or not isinstance(clause.get("class"), str):
                raise bad(f"{at} needs a 'class' name")
            count = clause.get("count")
            if isinstance(count, bool) or not isinstance(count, int) or count < 1:
                raise bad(f"{at} ({clause['class']!r}) needs a whole 'count' >= 1, not {count!r}")
            if "color" in clause and clause["color"] not in COLORS:
                raise bad(f"{at}: colour {clause['color']!r} is none of {list(COLORS)}")
            position = clause.get("position")
            if position is not None and not (
                kind == "include"
                and isinstance(position, list)
                and len(position) == 2
                and position[0] in RELATIONS
                and isinstance(position[1], int)
                and 0 <= position[1] < i
            ):
                raise bad(
                    f"{at}: position {position!r} must be [relation, index of an earlier "
                    f"include clause], relation one of {list(RELATIONS)}"
                )
    names = [(where, c["class"]) for c in include + exclude]
    check_names(names, object_names(), "GenEval's detector (evaluation/object_names.txt)")


def prompt_dir(p: int) -> str:
    return f"{p:05d}"


def image_rel(p: int, k: int) -> str:
    return f"{p:05d}/samples/{k:05d}.png"


@dataclass
class SampleSet:
    """The images found for each prompt, and what is missing."""

    images: list[tuple[int, int, Path]]  # (prompt index, image index, file)
    missing: list[str] = field(default_factory=list)  # relative paths of missing folders/images
    manifest: str = ""  # content: sha256 of every image and metadata file (samplefiles)

    def ids(self) -> list[str]:
        return [f"{p:05d}/{k:05d}" for p, k, _ in self.images]


def scan(
    root: str | Path, prompts: Sequence[dict[str, Any]], images_per_prompt: int, allow_missing: bool
) -> SampleSet:
    """Every image of every prompt under ``root``; errors name what is wrong.

    Images ``00000 .. images_per_prompt-1`` must exist for each prompt (unless ``allow_missing``);
    further numbered images are scored too, as the official evaluator does.
    """
    root = require_folder(root, "geneval")
    if not any(p.is_dir() and p.name.isdigit() for p in root.iterdir()):
        raise LayoutError(
            f"geneval: samples folder {root} is empty: expected <00000>/samples/"
            "<00000>.png and <00000>/metadata.jsonl per prompt"
        )
    images: list[tuple[int, int, Path]] = []
    missing: list[str] = []
    metadata: list[Path] = []
    for p, meta in enumerate(prompts):
        folder = root / prompt_dir(p)
        if not folder.is_dir():
            missing.append(f"{prompt_dir(p)}/")
            continue
        metadata.append(check_folder_metadata(folder, meta))
        found: dict[int, Path] = {}
        samples = folder / "samples"
        for f in sorted(samples.iterdir()) if samples.is_dir() else []:
            m = _NAME.match(f.name)
            if not m or not f.is_file():
                continue
            k = int(m.group(1))
            if k in found:
                raise LayoutError(f"geneval: {found[k]} and {f} are both image {k} of prompt {p}")
            found[k] = f
        missing += [
            f"{prompt_dir(p)}/samples/{k:05d}.png"
            for k in range(images_per_prompt)
            if k not in found
        ]
        images += [(p, k, found[k]) for k in sorted(found)]
    if missing and not allow_missing:
        shown = ", ".join(missing[:10]) + (
            f" and {len(missing) - 10} more" if len(missing) > 10 else ""
        )
        raise LayoutError(
            f"geneval: {len(missing)} missing in {root}: {shown} (score what exists "
            "with -O allow_missing=true; rows are then not comparable)"
        )
    if not images:
        raise LayoutError(
            f"geneval: no images in {root} (PNG, JPEG or WebP under <00000>/samples/)"
        )
    return SampleSet(images, missing, folder_manifest(root, [f for *_, f in images], metadata))


def check_folder_metadata(folder: Path, meta: dict[str, Any]) -> Path:
    """The prompt folder's ``metadata.jsonl``, which must hold prompt ``meta``."""
    path = folder / "metadata.jsonl"
    if not path.is_file():
        raise LayoutError(f"geneval: {path} is missing (each prompt folder holds its metadata)")
    try:
        found = json.loads(path.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise LayoutError(f"geneval: {path} is not one JSON object ({exc})") from None
    if not isinstance(found, dict):
        raise LayoutError(f"geneval: {path} is not one JSON object")
    if found != meta:
        raise LayoutError(
            f"geneval: {path} differs from prompt {int(folder.name)} of the prompt "
            f"file: found {found.get('prompt')!r} ({found.get('tag')}), expected "
            f"{meta.get('prompt')!r} ({meta.get('tag')})"
        )
    return path


def read_image(path: Path) -> np.ndarray:
    """uint8 HWC RGB, EXIF orientation applied; a corrupt or truncated file names itself."""
    from PIL import Image, ImageOps

    try:
        with Image.open(path) as im:
            im.load()  # decodes fully: a truncated file fails here
            return np.asarray(ImageOps.exif_transpose(im).convert("RGB"), np.uint8).copy()
    except Exception as exc:  # Pillow raises several types for bad files
        raise LayoutError(
            f"geneval: cannot read image {path}: {type(exc).__name__}: {exc}"
        ) from None


def write_metadata(run_dir: Path, prompts: Sequence[dict[str, Any]]) -> None:
    """``<p>/metadata.jsonl`` for each prompt, as the official generation script writes it."""
    from evalkit.cache import atomic_write

    for p, meta in enumerate(prompts):
        target = run_dir / prompt_dir(p) / "metadata.jsonl"
        if target.is_file():
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        atomic_write(target, lambda t, m=meta: Path(t).write_text(json.dumps(m)))
