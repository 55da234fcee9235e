"""GenEval's folder layout: ``<root>/<00000>/metadata.jsonl`` + ``samples/<00000>.png``.

Unlike the official evaluator (which skips non-PNG files and missing folders without a word),
every prompt and image is accounted for: PNG, JPEG and WebP are read; a missing folder or image,
a folder whose metadata is not its prompt's, or an unreadable image is an error naming it.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

SUFFIXES = (".png", ".jpg", ".jpeg", ".webp")
_NAME = re.compile(r"^(\d+)\.(png|jpe?g|webp)$", re.IGNORECASE)


class LayoutError(ValueError):
    """A samples folder does not hold what GenEval's layout promises; the message names it."""


def load_prompts(path: str | Path | None = None) -> list[dict[str, Any]]:
    """The prompt metadata (one JSON object a line): the official 553, or ``path``."""
    if path is None:
        from evalkit.cards import card_file

        path = card_file("geneval", "evaluation_metadata.jsonl")
    path = Path(path).expanduser()
    if not path.is_file():
        raise FileNotFoundError(f"geneval: prompt file {path} not found")
    prompts = []
    for n, line in enumerate(path.read_text().splitlines(), 1):
        if not line.strip():
            continue
        try:
            meta = json.loads(line)
        except json.JSONDecodeError as exc:
            raise LayoutError(f"{path}:{n}: not JSON ({exc})") from None
        if not isinstance(meta, dict) or "tag" not in meta or "include" not in meta:
            raise LayoutError(f"{path}:{n}: a prompt needs 'tag' and 'include'")
        prompts.append(meta)
    if not prompts:
        raise LayoutError(f"{path}: no prompts")
    return prompts


def prompt_dir(p: int) -> str:
    return f"{p:05d}"


def image_rel(p: int, k: int) -> str:
    return f"{p:05d}/samples/{k:05d}.png"


@dataclass
class SampleSet:
    """The images found for each prompt, and what is missing."""

    images: list[tuple[int, int, Path]]  # (prompt index, image index, file)
    missing: list[str] = field(default_factory=list)  # relative paths of missing folders/images
    manifest: str = ""  # sha256 over (relative path, size, mtime_ns) of every image

    def ids(self) -> list[str]:
        return [f"{p:05d}/{k:05d}" for p, k, _ in self.images]


def scan(
    root: str | Path, prompts: Sequence[dict[str, Any]], images_per_prompt: int, allow_missing: bool
) -> SampleSet:
    """Every image of every prompt under ``root``; errors name what is wrong.

    Images ``00000 .. images_per_prompt-1`` must exist for each prompt (unless ``allow_missing``);
    further numbered images are scored too, as the official evaluator does.
    """
    root = Path(root).expanduser()
    if not root.is_dir():
        raise LayoutError(f"geneval: samples folder {root} does not exist")
    if not any(p.is_dir() and p.name.isdigit() for p in root.iterdir()):
        raise LayoutError(
            f"geneval: samples folder {root} is empty: expected <00000>/samples/"
            "<00000>.png and <00000>/metadata.jsonl per prompt"
        )
    images: list[tuple[int, int, Path]] = []
    missing: list[str] = []
    digest = hashlib.sha256()
    for p, meta in enumerate(prompts):
        folder = root / prompt_dir(p)
        if not folder.is_dir():
            missing.append(f"{prompt_dir(p)}/")
            continue
        _check_metadata(folder, meta)
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
        for k in sorted(found):
            st = found[k].stat()
            digest.update(
                f"{found[k].relative_to(root)}\0{st.st_size}\0{st.st_mtime_ns}\n".encode()
            )
            images.append((p, k, found[k]))
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
    return SampleSet(images, missing, digest.hexdigest())


def _check_metadata(folder: Path, meta: dict[str, Any]) -> None:
    path = folder / "metadata.jsonl"
    if not path.is_file():
        raise LayoutError(f"geneval: {path} is missing (each prompt folder holds its metadata)")
    try:
        found = json.loads(path.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise LayoutError(f"geneval: {path} is not one JSON object ({exc})") from None
    if found != meta:
        raise LayoutError(
            f"geneval: {path} differs from prompt {int(folder.name)} of the prompt "
            f"file: found {found.get('prompt')!r} ({found.get('tag')}), expected "
            f"{meta.get('prompt')!r} ({meta.get('tag')})"
        )


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
