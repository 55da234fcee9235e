"""DetailMaster's prompt records and the images to judge: pins from the cards, checked on read.

The mini file is fetched from the official repository at a fixed commit and checked against its
sha256. The full set's Hub revision cannot be established here: reading it needs
``allow_unpinned=true``, and the sha256 of the file actually read goes into every row.
Images come from a generator or from a ``samples`` folder with the official ``image_info.json``
(``[{"image_id": "<dataset_target>_<image_id>", "output_image_name": file}]``, several entries
per key pooled).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from evalkit.benchmarks.samplefiles import read_json_list
from evalkit.cards import load_card
from evalkit.types import InputFileError, WeightsFile


class DataError(InputFileError):
    """Bad DetailMaster input: the message names the prompt or the file and line (exit 2)."""


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
    """The prompt records, each checked for what the protocol reads; errors name file and line."""
    records = []
    for line, r in read_json_list(path, f"{name}: records"):
        check_record(r, f"{path}:{line}", name.endswith("-mini"))
        records.append(r)
    return records


_TEXT = "image_id", "dataset_target", "polished_prompt"
_LISTS = "character_attributes", "character_locations", "scene_attributes"
_SCENES = "background", "light", "style", "spatial"
_TARGETS = "animal", "object", "person", "location", "entity_relationship", *_SCENES[:3]


def check_record(r: Any, where: str, mini: bool) -> None:
    """One prompt record holds the fields and types the official evaluation reads."""

    def bad(why: str) -> DataError:
        what = f" (image_id {r.get('image_id')!r})" if isinstance(r, dict) else ""
        return DataError(f"{where}: record{what} {why}")

    if not isinstance(r, dict):
        raise bad(f"is a {type(r).__name__}, not a JSON object")
    missing = [k for k in (*_TEXT, *_LISTS) if k not in r]
    missing += ["mini_bench_target"] if mini and "mini_bench_target" not in r else []
    if missing:
        raise bad(f"lacks {missing}")
    for k in _TEXT:
        if not isinstance(r[k], (str, int)) or isinstance(r[k], bool) or r[k] == "":
            raise bad(f"{k} must be a non-empty string, not {r[k]!r}")
    for k in _LISTS:
        if not isinstance(r[k], list) or not all(isinstance(e, dict) for e in r[k]):
            raise bad(f"{k} must be a list of JSON objects")
    for i, c in enumerate(r["character_attributes"]):
        if not isinstance(c.get("main_character"), str) or c.get("cls") not in _TARGETS[:3]:
            raise bad(f"character_attributes[{i}] needs main_character and cls in {_TARGETS[:3]}")
        if not isinstance(c.get("characteristics_list"), list):
            raise bad(f"character_attributes[{i}] needs a characteristics_list (a list)")
    for i, c in enumerate(r["character_locations"]):
        if not isinstance(c.get("main_character"), str) or not isinstance(c.get("position"), str):
            raise bad(f"character_locations[{i}] needs main_character and position (strings)")
    for i, e in enumerate(r["scene_attributes"]):
        kind, content = e.get("scene_attribute"), e.get("content")
        if kind not in _SCENES or not isinstance(content, list if kind == "spatial" else str):
            raise bad(
                f"scene_attributes[{i}] needs scene_attribute in {_SCENES} and content "
                "(a list of statements for spatial, else a string)"
            )
    if mini and r["mini_bench_target"] not in _TARGETS:
        raise bad(f"mini_bench_target {r['mini_bench_target']!r} is none of {_TARGETS}")


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
    if not folder.is_dir():
        raise DataError(
            f"samples: folder {folder} {'is not a folder' if folder.exists() else 'does not exist'}"
        )
    if not info.is_file():
        raise DataError(
            f"samples: {info} is missing; it maps each prompt key to its images: "
            '[{"image_id": "<dataset_target>_<image_id>", "output_image_name": '
            '"<file in the folder>"}, ...]'
        )
    out: dict[str, list[str]] = {}
    for line, e in read_json_list(info, "samples: image_info"):
        if not isinstance(e, dict) or not all(
            isinstance(e.get(k), str) and e[k] for k in ("image_id", "output_image_name")
        ):
            raise DataError(f"{info}:{line}: entry lacks image_id / output_image_name: {e!r}")
        out.setdefault(e["image_id"], []).append(e["output_image_name"])
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
