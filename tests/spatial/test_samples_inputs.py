"""Samples folders through the command line, as users run them: content-addressed runs, GenEval's
own file names, malformed label rows, bad image files and the exit codes README promises.

The colour double stands in for every detector (no weights); the real-image test at the end runs
the user's command on the shared VISOR images with YOLOX-Nano.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from typer.testing import CliRunner

from evalkit.benchmarks.spatial import detectors, prompts
from evalkit.cli import app
from tests.spatial import doubles
from tests.support import REPO, SHARED_OFFLINE, needs_store

cli = CliRunner()


@pytest.fixture
def colour_detector(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every detector name builds the colour double; nothing needs weights."""
    doubles.register()
    monkeypatch.setattr(detectors, "check_available", lambda name, bench: None)
    monkeypatch.setattr(detectors, "build", lambda name, device="cpu": doubles.ColourDetector())


def evalkit(*args: str | Path):  # type: ignore[no-untyped-def]
    return cli.invoke(app, [str(a) for a in args], catch_exceptions=True)


def run_id(result) -> str:  # type: ignore[no-untyped-def]
    assert result.exit_code == 0, result.output
    return re.findall(r"^run ([0-9a-f]{16}):", result.output, re.M)[-1]


def values(out: Path, rid: str) -> dict[str, float]:
    import pandas as pd

    (folder,) = out.glob(f"*/*/{rid}")
    rows = pd.read_parquet(folder / "results.parquet")
    return dict(zip(rows["metric"], rows["value"]))


def dataset_sha256(out: Path, rid: str) -> str:
    """The one dataset sha256 of a run's rows."""
    import pandas as pd

    (folder,) = out.glob(f"*/*/{rid}")
    (sha,) = set(pd.read_parquet(folder / "results.parquet")["dataset_sha256"])
    return sha


def save_png(array: np.ndarray, path: Path) -> None:
    """Uncompressed PNG: its size depends on the image's dimensions only."""
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(array).save(path, format="PNG", compress_level=0)


def overwrite_keeping_stat(path: Path, array: np.ndarray) -> None:
    """New pixels under the same name, size and mtime (what `cp` + `touch -r` leaves)."""
    before = path.stat()
    save_png(array, path)
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))
    after = path.stat()
    assert (after.st_size, after.st_mtime_ns) == (before.st_size, before.st_mtime_ns)


def visor_folder(root: Path, uids: list[int], correct: bool = True) -> Path:
    sr2d = prompts.sr2d()
    for u in uids:
        for k in range(4):
            save_png(doubles.paint(sr2d[u].relation, correct and k == 0), root / f"{u}_{k}.png")
    return root


VISOR = ["run", "visor", "--model", "samples:painter", "-O", "allow_missing=true"]


# --- samples are content, not paths ------------------------------------------------------------


def test_visor_rerun_after_images_change_is_a_new_run(colour_detector: None, tmp_path) -> None:
    """Images overwritten in place (same names, sizes and mtimes) must not reuse old records."""
    folder = visor_folder(tmp_path / "imgs", [0, 2, 4])
    out = tmp_path / "out"
    cmd = [*VISOR, "-O", f"samples={folder}", "--out", out, "--no-leaderboard"]
    first = run_id(evalkit(*cmd))
    assert run_id(evalkit(*cmd)) == first  # unchanged folder: the same run, resumed
    assert values(out, first)["visor_cond"] == 25  # image 0 of each prompt right
    sr2d = prompts.sr2d()
    for u in (0, 2, 4):
        for k in range(4):
            overwrite_keeping_stat(folder / f"{u}_{k}.png", doubles.paint(sr2d[u].relation, True))
    second = run_id(evalkit(*cmd))
    assert second != first
    assert values(out, second)["visor_cond"] == 100  # every image is right now
    assert dataset_sha256(out, second) != dataset_sha256(out, first)  # the rows say so too


@pytest.mark.parametrize("bench", ["t2i-compbench-spatial", "geneval-position", "spatial-compare"])
def test_every_spatial_samples_run_is_content_addressed(
    colour_detector: None, tmp_path: Path, bench: str
) -> None:
    folder = tmp_path / "imgs"
    if bench == "t2i-compbench-spatial":
        p, _, _, loc = prompts.t2i_prompts()[0]
        image, files = doubles.paint(loc, True), [f"samples/{p}_000000.png"]
    elif bench == "geneval-position":
        first = prompts.geneval_position_prompts()[0]
        rel = first["include"][1]["position"][0]
        image, files = doubles.paint(rel, True), [f"{first['index']:05d}/samples/00000.png"]
        files += [f"{first['index']:05d}/samples/{k:05d}.png" for k in (1, 2, 3)]
    else:
        image, files = doubles.paint("above", True), ["a.png"]
        (tmp_path / "labels.csv").write_text("file,obj1,relation,obj2\na.png,cat,above,dog\n")
    for f in files:
        save_png(image, folder / f)
    labels = ["-O", f"labels={tmp_path / 'labels.csv'}"] if bench == "spatial-compare" else []
    cmd = ["run", bench, "--model", "samples:painter", "-O", f"samples={folder}", *labels]
    cmd += ["-O", "allow_missing=true", "--out", tmp_path / "out", "--no-leaderboard"]
    first = run_id(evalkit(*cmd))
    overwrite_keeping_stat(folder / files[0], np.flipud(image).copy())  # other pixels
    second = run_id(evalkit(*cmd))
    assert second != first
    if bench == "spatial-compare":  # the labels file is content too
        (tmp_path / "labels.csv").write_text("file,obj1,relation,obj2\na.png,cat,below,dog\n")
        assert run_id(evalkit(*cmd)) not in (first, second)


# --- GenEval's own file names -----------------------------------------------------------------


def geneval_output(root: Path, digits: int, n_prompts: int = 3) -> list[dict]:
    """A folder as GenEval's generation script writes it: <index:05>/metadata.jsonl,
    <index:05>/samples/<k:05>.png (or ``digits`` wide) and a grid.png beside them."""
    rows = prompts.geneval_position_prompts()[:n_prompts]
    for r in rows:
        folder = root / f"{r['index']:05d}"
        meta = {k: v for k, v in r.items() if k != "index"}
        rel = r["include"][1]["position"][0]
        for k in range(4):
            save_png(doubles.paint(rel, k % 2 == 0), folder / "samples" / f"{k:0{digits}d}.png")
        (folder / "metadata.jsonl").write_text(json.dumps(meta))
        save_png(np.zeros((8, 8, 3), np.uint8), folder / "grid.png")
    return list(rows)


@pytest.mark.parametrize("digits", [5, 4])
def test_geneval_position_reads_geneval_output_folders(
    colour_detector: None, tmp_path: Path, digits: int
) -> None:
    geneval_output(tmp_path / "gen", digits)
    out = tmp_path / "out"
    result = evalkit(
        *["run", "geneval-position", "--model", "samples:sd", "-O", f"samples={tmp_path / 'gen'}"],
        *["-O", "allow_missing=true", "--out", out, "--no-leaderboard"],
    )
    rid = run_id(result)
    assert values(out, rid)["position"] == 0.5  # images 0 and 2 right, 1 and 3 mirrored


def test_geneval_position_names_both_spellings_of_one_image(colour_detector, tmp_path) -> None:
    rows = geneval_output(tmp_path / "gen", 5)
    legacy = tmp_path / "gen" / f"{rows[0]['index']:05d}" / "samples" / "0002.png"
    shutil.copy(legacy.with_name("00002.png"), legacy)
    result = evalkit(
        *["run", "geneval-position", "--model", "samples:sd", "-O", f"samples={tmp_path / 'gen'}"],
        *["-O", "allow_missing=true", "--out", tmp_path / "out"],
    )
    assert result.exit_code == 2 and "00002.png" in result.stderr and "0002.png" in result.stderr


def test_geneval_position_metadata_of_another_prompt(colour_detector, tmp_path) -> None:
    rows = geneval_output(tmp_path / "gen", 5)
    meta = tmp_path / "gen" / f"{rows[0]['index']:05d}" / "metadata.jsonl"
    meta.write_text(json.dumps({k: v for k, v in rows[1].items() if k != "index"}))
    result = evalkit(
        *["run", "geneval-position", "--model", "samples:sd", "-O", f"samples={tmp_path / 'gen'}"],
        *["-O", "allow_missing=true", "--out", tmp_path / "out"],
    )
    assert result.exit_code == 2 and str(meta) in result.stderr


# --- malformed label rows ---------------------------------------------------------------------

BAD_LABELS = [
    ("a.png,cat,above,dog\nb.png,person,to the left of\n", ":3: no value for ['obj2']"),
    ("a.png,cat,above,dog\nb.png,cat,beside,dog\n", ":3: relation 'beside' is none of"),
    ("a.png,cat,above,dog\nb.png,cat,above,dog,extra\n", ":3: 5 fields, the header has 4"),
    ("a.png,cat,above,dog\nc.png,cat,above,dog\n", ":3: no image"),
    ("a.png,cat,above,unicorn\n", ":2: class 'unicorn' is not in the vocabulary"),
    ("a.png,cat,above,dog\nb.png, ,above,dog\n", ":3: no value for ['obj1']"),
]


@pytest.mark.parametrize(("rows", "needle"), BAD_LABELS)
def test_malformed_labels_csv_rows_name_file_and_line(
    colour_detector: None, tmp_path: Path, rows: str, needle: str
) -> None:
    folder = tmp_path / "imgs"
    for name in ("a.png", "b.png"):
        save_png(doubles.paint("above", True), folder / name)
    (folder / "labels.csv").write_text("file,obj1,relation,obj2\n" + rows)
    result = evalkit(
        *["run", "spatial-compare", "--model", "samples:x", "-O", f"samples={folder}"],
        *["-O", "detector=yolox-nano", "--out", tmp_path / "out"],
    )
    assert result.exit_code == 2, result.output
    assert f"{folder / 'labels.csv'}{needle}" in result.stderr, result.stderr
    assert not (tmp_path / "out").exists()  # stopped before any run folder was made


def test_labels_header_without_a_column(colour_detector: None, tmp_path: Path) -> None:
    folder = tmp_path / "imgs"
    save_png(doubles.paint("above", True), folder / "a.png")
    (folder / "labels.csv").write_text("file,obj1,relation\na.png,cat,above\n")
    result = evalkit("run", "spatial-compare", "--model", "samples:x", "-O", f"samples={folder}")
    assert result.exit_code == 2 and "labels.csv:1: the header" in result.stderr


def test_open_vocabulary_detector_takes_any_class(colour_detector: None, tmp_path: Path) -> None:
    folder = tmp_path / "imgs"
    save_png(doubles.paint("above", True), folder / "a.png")
    (folder / "labels.csv").write_text("file,obj1,relation,obj2\na.png,cat,above,unicorn\n")
    result = evalkit(
        *["run", "spatial-compare", "--model", "samples:x", "-O", f"samples={folder}"],
        *["-O", "detector=owlvit", "--out", tmp_path / "out", "--no-leaderboard"],
    )
    assert result.exit_code == 0, result.output


# --- bad files and exit codes -----------------------------------------------------------------

BAD_FILES = {
    "corrupt": lambda p: p.write_bytes(p.read_bytes()[:60]),
    "zero-byte": lambda p: p.write_bytes(b""),
    "text named .png": lambda p: p.write_text("not an image\n"),
}


@pytest.mark.parametrize("kind", sorted(BAD_FILES))
def test_bad_image_file_is_bad_input(colour_detector: None, tmp_path: Path, kind: str) -> None:
    folder = visor_folder(tmp_path / "imgs", [0, 2])
    bad = folder / "2_1.png"
    BAD_FILES[kind](bad)
    out = tmp_path / "out"
    cmd = [*VISOR, "-O", f"samples={folder}", "--out", out, "--no-leaderboard", "--batch-size", "4"]
    result = evalkit(*cmd)
    assert result.exit_code == 2, result.output
    lines = [ln for ln in result.stderr.splitlines() if ln.startswith("error")]
    assert len(lines) == 1 and str(bad) in lines[0] and "4 of 8 samples are done" in lines[0]


def test_missing_samples_folder_is_bad_input(colour_detector: None, tmp_path: Path) -> None:
    for bench in ("visor", "t2i-compbench-spatial", "geneval-position", "spatial-compare"):
        result = evalkit(
            *["run", bench, "--model", "samples:x", "-O", f"samples={tmp_path / 'nowhere'}"],
            *["--out", tmp_path / "out"],
        )
        assert result.exit_code == 2, (bench, result.output)
        assert f"samples folder {tmp_path / 'nowhere'} does not exist" in result.stderr
    assert not (tmp_path / "out").exists()


def test_missing_labels_file_is_bad_input(colour_detector: None, tmp_path: Path) -> None:
    folder = visor_folder(tmp_path / "imgs", [0])
    result = evalkit(
        *["run", "spatial-compare", "--model", "samples:x", "-O", f"samples={folder}"],
        *["-O", f"labels={tmp_path / 'labels.csv'}"],
    )
    assert result.exit_code == 2 and f"{tmp_path / 'labels.csv'} does not exist" in result.stderr


def test_images_of_different_sizes_share_a_batch(colour_detector: None, tmp_path: Path) -> None:
    """Each image is judged at its own size (as the official evaluators do): no stacking."""
    folder = visor_folder(tmp_path / "imgs", [0, 2])
    sr2d = prompts.sr2d()
    big = np.kron(doubles.paint(sr2d[2].relation, True), np.ones((2, 2, 1), np.uint8))
    save_png(big, folder / "2_0.png")
    out = tmp_path / "out"
    result = evalkit(*VISOR, "-O", f"samples={folder}", "--out", out, "--no-leaderboard")
    rid = run_id(result)
    import pandas as pd

    (run_dir,) = out.glob(f"*/*/{rid}")
    s = pd.read_parquet(run_dir / "samples.parquet").set_index("sample_id")
    assert s.loc["2_0", "width"] == 128 and s.loc["0_0", "width"] == 64
    assert s.loc["2_0", "visor_correct"] == 1


def test_samples_model_without_samples_folder_is_one_line(colour_detector, tmp_path) -> None:
    for bench in ("visor", "geneval", "detailmaster-mini", "imagenet-gfid"):
        result = evalkit("run", bench, "--model", "samples:x", "--out", tmp_path / "out")
        assert result.exit_code == 2, (bench, result.output)
        lines = [ln for ln in result.stderr.splitlines() if ln.strip()]
        assert lines == [
            "error: --model samples:x scores images made elsewhere: give their folder (or "
            f".npz) with -O samples=DIR (benchmark {bench})"
        ]
    assert not (tmp_path / "out").exists()


def test_second_run_while_the_first_holds_the_lock_says_nothing_of_shards(
    colour_detector: None, tmp_path: Path
) -> None:
    from filelock import FileLock

    folder = visor_folder(tmp_path / "imgs", [0])
    out = tmp_path / "out"
    cmd = [*VISOR, "-O", f"samples={folder}", "--out", out, "--no-leaderboard"]
    rid = run_id(evalkit(*cmd))
    (run_dir,) = out.glob(f"*/*/{rid}")
    with FileLock(str(run_dir / ".lock")):  # the same command, still running elsewhere
        result = evalkit(*cmd)
    assert result.exit_code == 1 and "already being run by another process" in result.stderr
    assert "shard" not in result.output


# --- the user's command on real images -------------------------------------------------------

VISOR_IMAGES = SHARED_OFFLINE / "images" / "visor"


@needs_store
@pytest.mark.slow
@pytest.mark.weights
def test_visor_real_images_replaced_by_another_generator(tmp_path: Path) -> None:
    """`evalkit run visor --model samples:cogview2 -O samples=DIR -O detector=yolox-nano
    -O allow_missing=true` on 5 prompts of CogView2, then DALLE-mini's images over the files
    (names, sizes and mtimes kept): a new run with DALLE-mini's numbers."""
    pytest.importorskip("onnxruntime")
    if not VISOR_IMAGES.is_dir():
        pytest.skip(f"{VISOR_IMAGES} absent")
    names = sorted(p.name for p in (VISOR_IMAGES / "cogview2").glob("*.png"))[:20]
    pixels = {
        gen: {n: np.asarray(Image.open(VISOR_IMAGES / gen / n).convert("RGB")) for n in names}
        for gen in ("cogview2", "dallemini")
    }
    folder = tmp_path / "five"
    for n in names:
        save_png(pixels["cogview2"][n], folder / n)
    cmd = [sys.executable, "-m", "evalkit", "run", "visor", "--model", "samples:cogview2"]
    cmd += ["-O", f"samples={folder}", "-O", "detector=yolox-nano", "-O", "allow_missing=true"]
    cmd += ["--out", str(tmp_path / "out"), "--no-leaderboard", "--json"]
    env = {**os.environ, "PYTHONPATH": str(REPO)}

    def run() -> tuple[str, float]:
        done = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=tmp_path)
        assert done.returncode == 0, done.stderr
        rows = json.loads(done.stdout)
        oa = next(r for r in rows if r["metric"] == "oa")
        return oa["run_id"], oa["value"]

    first, oa_cogview2 = run()
    for n in names:
        overwrite_keeping_stat(folder / n, pixels["dallemini"][n])
    second, oa_dallemini = run()
    assert second != first
    reference = tmp_path / "dallemini"
    for n in names:
        save_png(pixels["dallemini"][n], reference / n)
    cmd[cmd.index(f"samples={folder}")] = f"samples={reference}"
    _, oa_fresh = run()
    assert oa_dallemini == oa_fresh != oa_cogview2  # the new images' numbers, not the old ones
