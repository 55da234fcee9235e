"""Reading TokBench data in the official layout (the Hub dataset or the embedded mini set).

Layout (``huggingface-cli download Junfeng5/TokBench --repo-type dataset``, images unzipped)::

    <root>/annotations/text_<set>.json
        [{file_name, height, width, annotations: [{bbox, rec, ratio}]}]
    <root>/annotations/face_meta.json
        [{image_name, img_height, img_width, faces: [{kps, box, ratio, gt?}]}]
    <root>/images/text_data/<set>/<file_name>
    <root>/images/face_data/<image_name>  (or images/face_data/wflw/<image_name>)

``ratio`` is read from the annotations, never recomputed.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from evalkit.cards import load_card
from evalkit.filehash import file_sha256
from evalkit.store import PACKAGE_DATA, MissingAssetError, store_dirs
from evalkit.types import DatasetManifest

# Dataset pins: benchmarks/tokbench/card.toml and benchmarks/tokbench-mini/card.toml.
_OFFICIAL = load_card("tokbench")["dataset"]
HUB_ID: str = _OFFICIAL["hub_id"]
STORE_REL: str = _OFFICIAL["store_path"]
LICENSE: str = _OFFICIAL["license"]
OFFICIAL_TEXT_SETS: tuple[str, ...] = tuple(_OFFICIAL["text_sets"])
MINI_ROOT = PACKAGE_DATA / load_card("tokbench-mini")["dataset"]["package_path"]
OCR_BATCH: int = load_card("tokbench")["judges"]["ocr"]["official_batch_size"]
OCR_VOCAB: str = load_card("tokbench")["judges"]["ocr"]["official_vocab"]  # a key of docTR's VOCABS


@dataclass(frozen=True)
class Sample:
    """One image and its ground-truth instances (text words or faces)."""

    id: str  # "text/<set>/<file>" or "face/<file>"
    kind: str  # "text" | "face"
    set: str  # text set name, or "face"
    path: Path
    width: int
    height: int
    instances: tuple[dict[str, Any], ...] = field(default_factory=tuple)
    # text: per instance, the longest GT word of its batch in the official eval_text.py run
    # (see official_batch_lengths); PARSeq's decoding is bounded by it there
    batch_gt_lengths: tuple[int, ...] = field(default_factory=tuple)
    # text: per instance, whether the official eval_text.py skips its batch (a GT word of the
    # batch holds a character outside docTR's vocab; see official_skipped_batches)
    official_skip: tuple[bool, ...] = field(default_factory=tuple)


HUB_FILES: tuple[str, ...] = tuple(_OFFICIAL["hub_files"])
ARCHIVES: tuple[str, ...] = tuple(_OFFICIAL["archives"])


def how_to_get() -> str:
    from evalkit.assets import fetch_command, hub_download_command

    by_hand = hub_download_command(
        HUB_ID, list(HUB_FILES), _OFFICIAL["revision"] or None, "dataset", f"<store>/{STORE_REL}"
    )
    return (
        "To supply it:\n"
        f"  {fetch_command()}   (on a connected machine: fetches, verifies, unpacks)\n"
        f"  or by hand: {by_hand}\n"
        f"  then unzip <store>/{STORE_REL}/images.zip -d <store>/{STORE_REL}\n"
        "  and set $EVALKIT_STORE=<store> (or --store), or pass data=<dir> (--data <dir>)\n"
        "  or run the embedded offline subset instead: evalkit run tokbench-mini --model <model>"
    )


def _layout_root(path: Path) -> Path | None:
    for cand in (path, path / "TokBench"):
        if (cand / "annotations").is_dir():
            return cand
    return None


def find_official(data: str | Path | None = None) -> Path:
    """The root of the official data: ``data``, else the store, else the download cache's copy
    (fetched at first use: the card's ``hub_files`` at one verified commit, images unpacked)."""
    from evalkit import hubdata
    from evalkit.assets import GatedAssetError

    searched = [Path(data).expanduser()] if data is not None else []
    searched += [d / STORE_REL for d in store_dirs()] if data is None else []
    for cand in searched:
        root = _layout_root(cand)
        if root is not None:
            if data is None:  # a store copy: its listed files are checked against the lock
                hubdata.verify_store_copy(
                    "TokBench dataset", HUB_ID, _OFFICIAL["revision"], STORE_REL, HUB_FILES
                )
            return root
    where = "\n".join(f"  {p}" for p in searched) or "  (no store set: $EVALKIT_STORE is empty)"
    if data is None:
        try:
            what = f"TokBench dataset ({LICENSE})"
            folder = hubdata.dataset_folder(
                what, HUB_ID, _OFFICIAL["revision"], STORE_REL, HUB_FILES, ARCHIVES
            )
        except GatedAssetError:
            raise
        except MissingAssetError as exc:
            raise MissingAssetError(
                f"{exc}\nor pass a local copy with --data <dir> (data=<dir>), or run the embedded "
                "offline subset instead: evalkit run tokbench-mini --model <model>"
            ) from None
        root = _layout_root(folder)
        if root is not None:
            return root
        where += f"\n  {folder} (fetched, but without annotations/)"
    raise MissingAssetError(
        f"Missing the TokBench dataset ({HUB_ID}, {LICENSE}).\nLooked in:\n{where}\n{how_to_get()}"
    )


def _revision(root: Path) -> str | None:
    m = re.search(r"snapshots/([0-9a-f]{40})", root.as_posix())
    if m:
        return m.group(1)
    rev = root / ".revision"
    return rev.read_text().strip() if rev.is_file() else None


def _read_json(path: Path) -> Any:
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def _face_path(root: Path, name: str) -> Path:
    base = root / "images" / "face_data"
    flat, wflw = base / name, base / "wflw" / name  # the later official layout nests wflw/
    return wflw if not flat.is_file() and wflw.is_file() else flat


def official_batch_lengths(words: list[str], batch_size: int = OCR_BATCH) -> list[int]:
    """Per word, the length of the longest word in its batch of the official text run.

    eval_text.py reads each set file in order in batches of ``batch_size`` and passes the GT
    words to docTR's PARSeq, which then decodes at most that many characters (+ <eos>) for every
    crop of the batch: a reading can depend on its neighbours' GT (the PARSeq judge applies it).
    """
    out: list[int] = []
    for start in range(0, len(words), batch_size):
        batch = words[start : start + batch_size]
        out += [max(len(w) for w in batch)] * len(batch)
    return out


def ocr_vocab() -> str:
    """docTR's vocabulary that the official PARSeq encodes the GT words with (not a copy of it)."""
    try:
        from doctr.datasets import VOCABS
    except ImportError as exc:
        raise MissingAssetError(
            f"TokBench needs docTR's {OCR_VOCAB!r} vocabulary to reproduce which batches the "
            f"official script skips ({exc}).\nTo supply it: pip install 'evalkit[ocr]' "
            "(python-doctr)"
        ) from None
    return VOCABS[OCR_VOCAB]


def official_skipped_batches(
    words: list[str], vocab: str, batch_size: int = OCR_BATCH
) -> list[bool]:
    """Per word, whether the official text run drops its whole batch.

    eval_text.py passes each batch's GT words to docTR's PARSeq, whose target encoding raises
    ValueError on a character outside ``vocab``; the script catches it and skips the batch: none
    of its instances is scored or counted. Nothing else in that call raises ValueError (words
    longer than PARSeq's 32 positions are truncated, not refused).
    """
    out: list[bool] = []
    for start in range(0, len(words), batch_size):
        batch = words[start : start + batch_size]
        skipped = any(ch not in vocab for w in batch for ch in w)
        out += [skipped] * len(batch)
    return out


def load_samples(root: Path, text_sets: tuple[str, ...] | None, faces: bool = True) -> list[Sample]:
    """Every image with its instances, text sets in order then faces; missing files raise."""
    ann = root / "annotations"
    if text_sets is None:
        text_sets = tuple(sorted(p.stem[len("text_") :] for p in ann.glob("text_*.json")))
    missing = [
        f"annotations/text_{s}.json" for s in text_sets if not (ann / f"text_{s}.json").exists()
    ]
    if faces and not (ann / "face_meta.json").is_file():
        missing.append((ann / "face_meta.json").relative_to(root).as_posix())
    if missing:
        raise MissingAssetError(
            f"Incomplete TokBench data at {root}: missing {', '.join(missing)}\n{how_to_get()}"
        )
    samples: list[Sample] = []
    vocab = ocr_vocab() if text_sets else ""
    for s in text_sets:
        images = _read_json(ann / f"text_{s}.json")
        words = [str(w["rec"]) for img in images for w in img["annotations"]]
        lengths = iter(official_batch_lengths(words))
        skipped = iter(official_skipped_batches(words, vocab))
        for img in images:
            path = root / "images" / "text_data" / s / img["file_name"]
            samples.append(
                Sample(
                    id=f"text/{s}/{img['file_name']}",
                    kind="text",
                    set=s,
                    path=path,
                    width=int(img["width"]),
                    height=int(img["height"]),
                    instances=tuple(img["annotations"]),
                    batch_gt_lengths=tuple(next(lengths) for _ in img["annotations"]),
                    official_skip=tuple(next(skipped) for _ in img["annotations"]),
                )
            )
    if faces:
        for img in _read_json(ann / "face_meta.json"):
            samples.append(
                Sample(
                    id=f"face/{img['image_name']}",
                    kind="face",
                    set="face",
                    path=_face_path(root, img["image_name"]),
                    width=int(img["img_width"]),
                    height=int(img["img_height"]),
                    instances=tuple(img["faces"]),
                )
            )
    absent = [str(s.path) for s in samples if not s.path.is_file()]
    if absent:
        more = f" (and {len(absent) - 3} more)" if len(absent) > 3 else ""
        raise MissingAssetError(
            f"TokBench images missing under {root}: {', '.join(absent[:3])}{more}\n{how_to_get()}"
        )
    return samples


def _content_sha256(root: Path, samples: list[Sample]) -> str:
    h = hashlib.sha256()
    for p in sorted((root / "annotations").glob("*.json")):
        h.update(f"{p.name}\0{file_sha256(p)}\n".encode())
    for s in samples:
        h.update(f"{s.id}\0{file_sha256(s.path)}\n".encode())
    return h.hexdigest()


def manifest(
    name: str, source: str, root: Path, samples: list[Sample], license: str
) -> DatasetManifest:
    """sha256 over the annotation files and every (sample id, image sha256).

    Per-file hashes are cached across runs (evalkit.filehash), so a rerun over the 12,000
    official images costs a stat per file.
    """
    return DatasetManifest(
        name=name,
        source=source,
        revision=_revision(root),
        sha256=_content_sha256(root, samples),
        n=len(samples),
        license=license,
    )


def mini_root() -> Path:
    """The embedded mini set, or one clear error if this install lacks it."""
    if _layout_root(MINI_ROOT) is None:
        raise MissingAssetError(
            f"The embedded TokBench mini set is missing from this install ({MINI_ROOT}).\n"
            "To supply it: reinstall evalkit (the set ships inside the package)."
        )
    return MINI_ROOT


def mini_license(root: Path) -> str:
    m = root / "manifest.json"
    if m.is_file():
        data = _read_json(m)
        if isinstance(data, dict) and isinstance(data.get("license"), str):
            return data["license"]
    return "see evalkit/data/tokbench_mini/manifest.json"
