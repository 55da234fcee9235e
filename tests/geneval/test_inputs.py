"""GenEval inputs as users give them: content-addressed samples folders, prompt files checked
line by line, bad image files, and float32 scores judged as the official code judges them."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from typer.testing import CliRunner

from evalkit.benchmarks.geneval import judges
from evalkit.benchmarks.geneval.rules import evaluate
from evalkit.cli import app
from tests.geneval.doubles import BLOBS, BlobDetector, paint
from tests.geneval.test_benchmark import PROMPTS as BENCHMARK_PROMPTS
from tests.support import REPO

FIXTURE = REPO / "tests" / "fixtures" / "geneval_float32_official.json"
cli = CliRunner()
PROMPTS = [  # dog right of a teddy bear (right on even images); a dog
    BENCHMARK_PROMPTS[0],
    {"tag": "single_object", "include": [{"class": "dog", "count": 1}], "prompt": "a dog"},
]


def evalkit(*args: str | Path):  # type: ignore[no-untyped-def]
    return cli.invoke(app, [str(a) for a in args], catch_exceptions=True)


def write_prompts(path: Path, prompts: list) -> Path:
    path.write_text("".join((p if isinstance(p, str) else json.dumps(p)) + "\n" for p in prompts))
    return path


def lay_out(root: Path, prompts: list[dict]) -> Path:
    for p, meta in enumerate(prompts):
        (root / f"{p:05d}" / "samples").mkdir(parents=True)
        (root / f"{p:05d}" / "metadata.jsonl").write_text(json.dumps(meta))
        for k in range(4):
            Image.fromarray(paint(p, k)).save(
                root / f"{p:05d}/samples/{k:05d}.png", compress_level=0
            )
    return root


def geneval(samples: Path, prompts: Path, out: Path, *extra: str):  # type: ignore[no-untyped-def]
    return evalkit(
        *["run", "geneval", "--model", "samples:painter", "-O", f"samples={samples}"],
        *["-O", f"prompts={prompts}", "-O", "detector=yolox-nano", "-O", "colour=pixels"],
        *["--out", out, "--no-leaderboard", "--workers", "0", *extra],
    )


def run_id(result) -> str:  # type: ignore[no-untyped-def]
    assert result.exit_code == 0, result.output
    return re.findall(r"^run ([0-9a-f]{16}):", result.output, re.M)[-1]


def test_rerun_after_images_change_is_a_new_run(blobs: BlobDetector, tmp_path: Path) -> None:
    prompts = write_prompts(tmp_path / "p.jsonl", PROMPTS)
    folder = lay_out(tmp_path / "s", PROMPTS)
    before_change = geneval(folder, prompts, tmp_path / "out", "--json")
    first = run_id_from_json(before_change)
    again = geneval(folder, prompts, tmp_path / "out")  # the same command: the same run, resumed
    assert run_id(again) == first and "shard" not in again.output, again.output
    image = folder / "00000/samples/00001.png"  # dog left of the bear: wrong
    before = image.stat()
    Image.fromarray(paint(0, 0)).save(image, compress_level=0)  # now right, same size
    os.utime(image, ns=(before.st_atime_ns, before.st_mtime_ns))
    assert image.stat().st_size == before.st_size
    result = geneval(folder, prompts, tmp_path / "out", "--json")
    second = run_id_from_json(result)
    assert second != first
    rows = {r["metric"]: r["value"] for r in json.loads(result.stdout)}
    assert rows["position"] == 0.75  # 3 of 4 right now (was 2 of 4)
    shas = [{r["dataset_sha256"] for r in json.loads(x.stdout)} for x in (before_change, result)]
    assert len(shas[0]) == len(shas[1]) == 1 and shas[0] != shas[1]  # the rows say so too


def run_id_from_json(result) -> str:  # type: ignore[no-untyped-def]
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)[0]["run_id"]


BAD_PROMPTS = [
    ("not json", ":2: not JSON"),
    ({"tag": "single_object", "prompt": "x"}, ":2: 'include' must be a non-empty list"),
    ({"tag": "hue", "include": [{"class": "dog", "count": 1}]}, ":2: tag 'hue' is none of"),
    ({"tag": "counting", "include": [{"class": "dog", "count": "two"}]}, "whole 'count' >= 1"),
    ({"tag": "single_object", "include": [{"count": 1}]}, ":2: include[0] needs a 'class'"),
    (
        {"tag": "colors", "include": [{"class": "dog", "count": 1, "color": "teal"}]},
        ":2: include[0]: colour 'teal' is none of",
    ),
    (
        {
            "tag": "position",
            "include": [
                {"class": "dog", "count": 1},
                {"class": "bench", "count": 1, "position": ["beside", 0]},
            ],
        },
        ":2: include[1]: position ['beside', 0] must be",
    ),
    (
        {"tag": "single_object", "include": [{"class": "unicorn", "count": 1}]},
        ":2: class 'unicorn' is not in the vocabulary of GenEval's detector",
    ),
]


@pytest.mark.parametrize(("line", "needle"), BAD_PROMPTS)
def test_malformed_prompt_file_names_file_and_line(blobs, tmp_path: Path, line, needle) -> None:
    prompts = write_prompts(tmp_path / "p.jsonl", [PROMPTS[1], line])
    result = geneval(tmp_path / "s", prompts, tmp_path / "out")
    assert result.exit_code == 2, result.output
    assert f"{prompts}" in result.stderr and needle in result.stderr, result.stderr
    assert not (tmp_path / "out").exists()


def test_missing_prompt_file_and_folder_are_bad_input(blobs, tmp_path: Path) -> None:
    result = geneval(tmp_path / "s", tmp_path / "none.jsonl", tmp_path / "out")
    assert result.exit_code == 2 and f"{tmp_path / 'none.jsonl'} does not exist" in result.stderr
    prompts = write_prompts(tmp_path / "p.jsonl", PROMPTS)
    result = geneval(tmp_path / "nowhere", prompts, tmp_path / "out")
    assert result.exit_code == 2
    assert f"samples folder {tmp_path / 'nowhere'} does not exist" in result.stderr


@pytest.mark.parametrize("kind", ["corrupt", "zero-byte", "text"])
def test_bad_image_file_is_bad_input(blobs, tmp_path: Path, kind: str) -> None:
    prompts = write_prompts(tmp_path / "p.jsonl", PROMPTS)
    folder = lay_out(tmp_path / "s", PROMPTS)
    bad = folder / "00001/samples/00002.png"
    data = {"corrupt": bad.read_bytes()[:80], "zero-byte": b"", "text": b"hello\n"}[kind]
    bad.write_bytes(data)
    result = geneval(folder, prompts, tmp_path / "out", "--batch-size", "4")
    assert result.exit_code == 2, result.output
    errors = [ln for ln in result.stderr.splitlines() if ln.startswith("error")]
    assert len(errors) == 1 and str(bad) in errors[0] and "4 of 8 samples are done" in errors[0]


def test_images_of_different_sizes_share_a_batch(blobs, tmp_path: Path) -> None:
    prompts = write_prompts(tmp_path / "p.jsonl", PROMPTS)
    folder = lay_out(tmp_path / "s", PROMPTS)
    big = np.kron(paint(1, 0), np.ones((2, 2, 1), np.uint8))
    Image.fromarray(big).save(folder / "00001/samples/00000.png")
    result = geneval(folder, prompts, tmp_path / "out", "--json")
    rows = {r["metric"]: r["value"] for r in json.loads(result.stdout)}
    assert result.exit_code == 0 and rows["single_object"] == 1.0 and blobs.batches == [8]


# --- float32 scores against the official code ------------------------------------------------


def _normalised(reason: str) -> str:
    """The official reason lists relations in set order; ours in a fixed one."""
    return re.sub(
        r"found (.*?) target",
        lambda m: "found " + " and ".join(sorted(m.group(1).split(" and "))) + " target",
        reason,
    )


def test_float32_boundaries_match_the_official_code() -> None:
    """The official evaluate_image, run under numpy 1.23 on float32 detections (fixture)."""
    doc = json.loads(FIXTURE.read_text())
    assert doc["versions"]["numpy"].startswith("1.23")
    for case in doc["cases"]:
        dets = {k: np.asarray(v, np.float32) for k, v in case["detections"].items()}
        v = evaluate(case["metadata"], dets, None, None, **case["options"])
        kept = {name: [dets[name][i].tolist() for i in idx] for name, idx in v.kept.items()}
        where = (case["kind"], case["detections"], case["options"])
        assert v.correct == case["correct"], where
        assert _normalised(v.reason) == _normalised(case["reason"]), where
        assert kept == json.loads(case["details"]), where
    kinds = {case["kind"] for case in doc["cases"]}
    assert kinds == {"threshold", "counting", "position", "overlap"}


def test_score_of_exactly_float32_threshold_is_not_found_through_the_cli(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """The detector's float32 score float32(0.3) is not above 0.3 (official: a float32 array
    compared with a Python float); a float64 cast made it 0.30000001 and found the dog."""

    class Float32Blobs(BlobDetector):
        def detect(self, images):  # type: ignore[no-untyped-def]
            found = super().detect(images)
            for dets in found:
                for name, arr in dets.items():
                    arr = arr.astype(np.float32)
                    arr[:, 4] = np.float32(0.3) if name == "dog" else np.float32(0.95)
                    dets[name] = arr
            return found

    det = Float32Blobs()
    monkeypatch.setattr(judges, "check", lambda d, c: None)
    monkeypatch.setattr(judges, "make_detector", lambda name, device: det)
    prompts = write_prompts(tmp_path / "p.jsonl", PROMPTS[1:])
    folder = lay_out(tmp_path / "s", PROMPTS[1:])
    assert (
        (np.asarray(Image.open(folder / "00000/samples/00000.png")) == BLOBS["dog"]).all(-1).any()
    )
    result = geneval(folder, prompts, tmp_path / "out", "--json")
    assert result.exit_code == 0, result.output
    rows = {r["metric"]: r["value"] for r in json.loads(result.stdout)}
    assert rows["single_object"] == 0.0
