"""DetailMaster's prompt records and the images to judge: pins from the cards, checked on read.

The mini file is fetched from the official repository at a fixed commit and checked against its
sha256. The full set's Hub revision cannot be established here: reading it needs
``allow_unpinned=true``, and the sha256 of the file actually read goes into every row.
Images come from a generator or from a ``samples`` folder with the official ``image_info.json``
(``[{"image_id": "<dataset_target>_<image_id>", "output_image_name": file}]``, several entries
per key pooled).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from evalkit.cards import load_card
from evalkit.types import WeightsFile


class DataError(ValueError):
    """Bad DetailMaster input: the message names the prompt or file."""


def dataset_file(name: str) -> WeightsFile:
    """Where the records of ``name`` come from (card ``[dataset]``)."""
    ds = load_card(name)["dataset"]
    source = ds["source"]
    return WeightsFile(
        filename=ds.get("filename") or Path(ds["store_path"]).name,
        sha256=ds.get("sha256") or None,
        store_path=ds["store_path"],
        hub_id=ds.get("hub_id"),
        revision=ds.get("revision") or None if ds.get("hub_id") else None,
        repo_type="dataset",
        url=source[4:] if source.startswith("url:") else None,
    )


def find_records(name: str, data: str | None, allow_unpinned: bool) -> Path:
    """The records file: ``data`` (checked against the pin, if any), else store / cache / Hub."""
    from evalkit.store import resolve, verify

    wf = dataset_file(name)
    if wf.sha256 is None and not allow_unpinned:
        raise DataError(
            f"{name}: the dataset {wf.describe()} has no pinned revision or sha256 that could be "
            "established here; pass -O allow_unpinned=true (or --allow-unpinned) to read it "
            "anyway: every row then records the sha256 of the file actually read"
        )
    if data is not None:
        path = Path(data).expanduser()
        if not path.is_file():
            raise DataError(f"{name}: data={data!r} is not a file")
        return verify(path, wf.sha256)
    return resolve(wf, f"{name} prompts")


def load_records(path: Path, name: str) -> list[dict[str, Any]]:
    records = json.loads(path.read_text(encoding="utf-8"))
    if not isinstance(records, list):
        raise DataError(f"{path}: expected a JSON list of prompt records")
    need = (
        "image_id",
        "dataset_target",
        "polished_prompt",
        "character_attributes",
        "character_locations",
        "scene_attributes",
    )
    for i, r in enumerate(records):
        missing = [k for k in need if k not in r]
        if name.endswith("-mini") and "mini_bench_target" not in r:
            missing.append("mini_bench_target")
        if missing:
            raise DataError(f"{path}: record {i} (image_id {r.get('image_id')!r}) lacks {missing}")
    return records


def key_of(record: dict[str, Any]) -> str:
    return f"{record['dataset_target']}_{record['image_id']}"


@dataclass(frozen=True)
class ImageSample:
    """One image to judge: the key of its prompt(s), its index among them, where it comes from."""

    key: str
    k: int
    prompt: str
    path: Path | None = None  # samples mode

    @property
    def id(self) -> str:
        return f"{self.key}#{self.k}"


def read_image_info(folder: Path, info: Path) -> dict[str, list[str]]:
    """key -> image file names, in file order (the official pooling)."""
    try:
        entries = json.loads(info.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise DataError(
            f"samples: {info} is missing; it maps each prompt key to its images: "
            '[{"image_id": "<dataset_target>_<image_id>", "output_image_name": '
            '"<file in the folder>"}, ...]'
        ) from None
    out: dict[str, list[str]] = {}
    for i, e in enumerate(entries):
        if not isinstance(e, dict) or "image_id" not in e or "output_image_name" not in e:
            raise DataError(f"{info}: entry {i} lacks image_id / output_image_name: {e!r}")
        out.setdefault(str(e["image_id"]), []).append(str(e["output_image_name"]))
    return out


def image_samples(
    records: list[dict[str, Any]],
    samples: str | None,
    image_info: str | None,
    images_per_prompt: int,
    allow_missing: bool,
) -> tuple[list[ImageSample], list[str]]:
    """Every image to judge, and the keys dropped for lack of an image (allow_missing only).

    Generator mode follows the official generation script: one image per prompt record (times
    ``images_per_prompt``), so a key shared by m records gets m images and each of its records
    is judged on all m (the mini set: 800 images, 1,162 record-image judgements)."""
    keys: dict[str, str] = {}
    for r in records:
        keys.setdefault(key_of(r), r["polished_prompt"])
    if samples is None:
        per_key: dict[str, list[ImageSample]] = {}  # a key's images adjacent (--limit units)
        for r in records:
            made = per_key.setdefault(key_of(r), [])
            for _ in range(images_per_prompt):
                made.append(ImageSample(key_of(r), len(made), r["polished_prompt"]))
        return [s for made in per_key.values() for s in made], []
    folder = Path(samples).expanduser()
    info = Path(image_info).expanduser() if image_info else folder / "image_info.json"
    listed = read_image_info(folder, info)
    out, dropped, absent_files = [], [], []
    for key, prompt in keys.items():
        files = [f for f in listed.get(key, []) if (folder / f).is_file()]
        absent_files += [f for f in listed.get(key, []) if not (folder / f).is_file()]
        if not files:
            dropped.append(key)
        out += [ImageSample(key, k, prompt, folder / f) for k, f in enumerate(files)]
    if (dropped or absent_files) and not allow_missing:
        lines = []
        if dropped:
            lines.append(
                f"{len(dropped)} of {len(keys)} prompts have no image in {folder}, "
                f"e.g. {dropped[:5]}"
            )
        if absent_files:
            lines.append(
                f"{len(absent_files)} files listed in {info} do not exist, e.g. {absent_files[:5]}"
            )
        raise DataError(
            "; ".join(lines) + ". Pass -O allow_missing=true to drop them (rows are "
            "then comparable=false; the official code drops them silently)"
        )
    return out, dropped
