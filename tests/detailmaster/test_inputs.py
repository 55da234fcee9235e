"""DetailMaster's inputs through the command line: a samples folder is content (images and
image_info.json), malformed records and image_info entries name the file and line (exit 2)."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pytest
from PIL import Image
from typer.testing import CliRunner

from evalkit.cli import app
from tests.detailmaster.test_runner import _synthetic_records

cli = CliRunner()


def evalkit(*args: str | Path):  # type: ignore[no-untyped-def]
    return cli.invoke(app, [str(a) for a in args], catch_exceptions=True)


def folder_for(tmp_path: Path, records: list[dict]) -> Path:
    folder = tmp_path / "samples"
    folder.mkdir()
    info = []
    for i, r in enumerate(records):
        name = f"img_{i}.png"
        Image.new("RGB", (48, 40), (20 * i % 255, 90, 30)).save(folder / name, compress_level=0)
        info.append(
            {"image_id": f"{r['dataset_target']}_{r['image_id']}", "output_image_name": name}
        )
    (folder / "image_info.json").write_text(json.dumps(info, indent=1))
    return folder


def detailmaster(records: Path, folder: Path, out: Path, *extra: str):  # type: ignore[no-untyped-def]
    return evalkit(
        *["run", "detailmaster", "--model", "samples:test", "-O", "judge=scripted"],
        *["-O", f"data={records}", "-O", "allow_unpinned=true", "-O", f"samples={folder}"],
        *["--out", out, "--no-leaderboard", "--workers", "0", *extra],
    )


@pytest.fixture
def records(tmp_path: Path) -> Path:
    path = tmp_path / "records.json"
    path.write_text(json.dumps(_synthetic_records(3), indent=1))
    return path


def starts(path: Path) -> list[int]:
    """The line each element of a JSON list written with ``indent=1`` starts on."""
    return [i + 1 for i, ln in enumerate(path.read_text().split("\n")) if ln == " {"]


def run_id(result) -> str:  # type: ignore[no-untyped-def]
    assert result.exit_code == 0, result.output
    return re.findall(r"^run ([0-9a-f]{16}):", result.output, re.M)[-1]


def test_rerun_after_an_image_changes_is_a_new_run(tmp_path: Path, records: Path) -> None:
    folder = folder_for(tmp_path, json.loads(records.read_text()))
    out = tmp_path / "out"
    first = run_id(detailmaster(records, folder, out))
    assert run_id(detailmaster(records, folder, out)) == first
    image = folder / "img_1.png"
    before = image.stat()
    Image.new("RGB", (48, 40), (200, 10, 10)).save(image, compress_level=0)
    os.utime(image, ns=(before.st_atime_ns, before.st_mtime_ns))
    assert image.stat().st_size == before.st_size
    second = run_id(detailmaster(records, folder, out))
    assert second != first
    info = folder / "image_info.json"  # which image answers which prompt is content too
    entries = json.loads(info.read_text())
    entries[0]["output_image_name"], entries[2]["output_image_name"] = "img_2.png", "img_0.png"
    info.write_text(json.dumps(entries, indent=1))
    assert run_id(detailmaster(records, folder, out)) not in (first, second)


def _break(records: list[dict], which: str) -> tuple[list[dict], str]:
    r = records[1]
    if which == "missing":
        del r["polished_prompt"]
        return records, "lacks ['polished_prompt']"
    if which == "scene":
        r["scene_attributes"][2]["content"] = "dog left of man"
        return records, "scene_attributes[2] needs scene_attribute"
    if which == "cls":
        r["character_attributes"][0]["cls"] = "dinosaur"
        return records, "character_attributes[0] needs main_character and cls"
    r["character_locations"] = {"main_character": "cup"}
    return records, "character_locations must be a list of JSON objects"


@pytest.mark.parametrize("which", ["missing", "scene", "cls", "locations"])
def test_malformed_record_names_file_and_line(tmp_path: Path, records: Path, which: str) -> None:
    folder = folder_for(tmp_path, json.loads(records.read_text()))
    broken, needle = _break(json.loads(records.read_text()), which)
    records.write_text(json.dumps(broken, indent=1))
    line = starts(records)[1]  # the second record's first line
    result = detailmaster(records, folder, tmp_path / "out")
    assert result.exit_code == 2, result.output
    assert f"{records}:{line}: record (image_id '1.jpg') {needle}" in result.stderr, result.stderr
    assert not (tmp_path / "out").exists()


def test_records_that_are_not_json_name_the_line(tmp_path: Path, records: Path) -> None:
    folder = folder_for(tmp_path, json.loads(records.read_text()))
    records.write_text(records.read_text().replace('"docci"', "docci", 1))
    line = 1 + next(i for i, ln in enumerate(records.read_text().split("\n")) if ": docci" in ln)
    result = detailmaster(records, folder, tmp_path / "out")
    assert result.exit_code == 2 and f"{records}:{line}: not JSON" in result.stderr, result.stderr


def test_malformed_image_info_entry_names_file_and_line(tmp_path: Path, records: Path) -> None:
    folder = folder_for(tmp_path, json.loads(records.read_text()))
    info = folder / "image_info.json"
    entries = json.loads(info.read_text())
    del entries[2]["output_image_name"]
    info.write_text(json.dumps(entries, indent=1))
    line = starts(info)[2]
    result = detailmaster(records, folder, tmp_path / "out")
    assert result.exit_code == 2, result.output
    assert f"{info}:{line}: entry lacks image_id / output_image_name" in result.stderr


def test_missing_folder_image_info_and_bad_image(tmp_path: Path, records: Path) -> None:
    result = detailmaster(records, tmp_path / "nowhere", tmp_path / "out")
    assert result.exit_code == 2 and f"{tmp_path / 'nowhere'} does not exist" in result.stderr
    folder = folder_for(tmp_path, json.loads(records.read_text()))
    (folder / "image_info.json").rename(folder / "info.json")
    result = detailmaster(records, folder, tmp_path / "out")
    assert result.exit_code == 2 and f"{folder / 'image_info.json'} is missing" in result.stderr
    (folder / "info.json").rename(folder / "image_info.json")
    (folder / "img_2.png").write_bytes(b"")
    result = detailmaster(records, folder, tmp_path / "out", "--batch-size", "1")
    assert result.exit_code == 2, result.output
    errors = [ln for ln in result.stderr.splitlines() if ln.startswith("error")]
    assert len(errors) == 1 and str(folder / "img_2.png") in errors[0]
    assert "2 of 3 samples are done" in errors[0]
