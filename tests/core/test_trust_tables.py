"""Published tables say what they are (issue 8): `complete`/`comparable` flags, tables that publish
complete runs only and never mix configurations, appends only when asked, file modes kept.

Before the fix: a `--limit 3` run of jpeg-q50 replaced the published recon cell (33.42 instead of
31.47), tokbench-mini was headed "TokBench 256", numbers had mixed formats (0.767 / 0.9065 / 1),
and a leaderboard written by `evalkit run` became mode 600.
"""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

import evalkit
from evalkit.benchmarks.base import DatasetManifest
from evalkit.cli import app
from evalkit.leaderboard import append, read, render
from tests.support import REPO

runner = CliRunner()


# --- flags ---------------------------------------------------------------------------------------
def flags_of(benchmark: str, limit: int | None = None, **options):  # type: ignore[no-untyped-def]
    """The flags evalkit.flags derives for a run of ``benchmark`` (built as the runner does)."""
    from dataclasses import replace

    from evalkit import catalog
    from evalkit.flags import derive
    from evalkit.runsetup import prepare

    bench, ids = prepare(benchmark, options, catalog.models.card("identity"), 0, limit)
    return derive(benchmark, replace(bench.facts(ids), limit=limit))


def test_recon_flags():
    full = flags_of("recon")
    assert full.complete and full.comparable and full.reasons == ""
    limited = flags_of("recon", limit=3)
    assert not limited.complete and not limited.comparable
    assert "--limit 3" in limited.reasons and "3 of 12 images" in limited.reasons


def test_tokbench_mini_is_complete_but_not_comparable():
    full = flags_of("tokbench-mini")
    assert full.complete and not full.comparable
    assert "not TokBench's data" in full.reasons and "ocr judge rapidocr" in full.reasons
    assert not flags_of("tokbench-mini", limit=3).complete
    assert not flags_of("tokbench-mini", ocr_judge="easyocr").complete  # a stand-in judge
    assert not flags_of("tokbench-mini", recon_format="as-original").complete


def test_rows_carry_both_flags(tmp_path):
    rows = evalkit.run("recon", "jpeg-q50", options={"limit": 2}, out_dir=tmp_path, workers=0).rows
    assert {"complete", "comparable"} <= set(rows.columns)
    assert not rows["complete"].any() and not rows["comparable"].any()


def test_data_folder_counts_only_when_it_matches_the_manifest(tmp_path):
    import skimage.data

    from evalkit.cards import load_card

    src = Path(skimage.data.__file__).parent
    for name in load_card("recon")["dataset"]["licenses"]:
        shutil.copy(src / name, tmp_path / name)
    same = flags_of("recon", data=str(tmp_path))
    assert same.complete, same.reasons
    (tmp_path / "coins.png").unlink()
    other = flags_of("recon", data=str(tmp_path))
    assert not other.complete and "hash" in other.reasons


def test_manifest_check_by_count_and_names():
    from evalkit.benchmarks.expected import ExpectedData, mismatch

    names = [f"ILSVRC2012_val_{i:08d}.JPEG" for i in range(1, 50_001)]
    want = ExpectedData("ImageNet val", n=50_000, file_names=frozenset(names))
    m = DatasetManifest("val", "folder:/x")
    nested = [f"n{i % 1000:08d}/{n}" for i, n in enumerate(names)]  # class folders are fine
    assert mismatch(m, nested, want) is None
    assert "49,999" in mismatch(m, names[:-1], want)
    renamed = names[:-1] + ["cat.jpg"]
    assert "cat.jpg" in mismatch(m, renamed, want)
    assert mismatch(m, names, ExpectedData("x")) is not None  # nothing to check: not complete


def test_imagenet_folder_of_other_images_is_not_complete(tmp_path):
    from PIL import Image

    for i in (1, 2):
        Image.new("RGB", (8, 8)).save(tmp_path / f"ILSVRC2012_val_{i:08d}.JPEG")
    flags = flags_of("imagenet-rfid", data=str(tmp_path), weights="fid-helper")
    assert not flags.complete and "50,000" in flags.reasons


# --- tables --------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def boards(tmp_path_factory):
    """A full jpeg-q50 run, then a --limit 3 run of it published anyway (--publish)."""
    tmp = tmp_path_factory.mktemp("tables")
    full = evalkit.run(
        "recon", "jpeg-q50", out_dir=tmp / "out", leaderboard_dir=tmp / "lb", workers=0
    ).rows
    part = evalkit.run(
        "recon",
        "jpeg-q50",
        options={"limit": 3},
        out_dir=tmp / "out",
        leaderboard_dir=tmp / "lb",
        publish=True,
        workers=0,
    ).rows
    return tmp, full, part


def test_incomplete_runs_do_not_replace_published_cells(boards):
    tmp, full, part = boards
    board = read(tmp / "lb" / "recon.parquet")
    assert len(board) == len(full) + len(part)
    psnr = f"{full.loc[full.metric == 'psnr', 'value'].iloc[0]:.2f}"
    limited = f"{part.loc[part.metric == 'psnr', 'value'].iloc[0]:.2f}"
    assert psnr != limited
    md = render(board, "md", title="recon")
    assert f"| jpeg-q50 | 256 | fp32 | {psnr} |" in md and limited not in md
    everything = render(board, "md", title="recon", include_all=True)
    assert psnr in everything and f"{limited} n=3" in everything
    assert "(incomplete)" in everything and "[A]" in everything and "[B]" in everything


def test_cells_never_mix_judges_or_options(boards):
    _, full, _ = boards
    other = full.copy()
    other["run_id"], other["judges"] = "other-run", json.dumps({"easyocr": "x.pth:abc"})
    other["value"] = other["value"] + 1
    md = render(pd.concat([full, other]), "md")
    assert md.count("| jpeg-q50 [") == 2  # two labelled rows, not one mixed cell
    assert "Rows labelled [A], [B]" in md and "easyocr" in md


def test_tables_state_data_judges_n_units_order_and_deviations(boards):
    _, full, _ = boards
    md = render(full, "md", title="recon")
    for needle in (
        "Dataset: skimage-photos",
        "Judges: none",
        "n = 12 per value",
        "psnr: dB, 2 decimals",
        "ssim: 0-1, 4 decimals",
        "Rows sorted by",
        "Differences from the official protocol",
    ):
        assert needle in md, needle
    header = next(line for line in md.splitlines() if line.startswith("| model"))
    col = [c.strip() for c in header.split("|")].index("ssim")
    ssim_cells = [
        line.split("|")[col].strip() for line in md.splitlines() if line.startswith("| jpeg")
    ]
    assert all(len(c.split(".")[1]) == 4 for c in ssim_cells)  # one format per metric


def test_tokbench_mini_table_is_not_headed_as_official():
    from evalkit.tables.tokbench import render_table

    board = read(REPO / "leaderboards" / "tokbench-mini.parquet")
    md = render_table(board)
    assert "### TokBench 256" not in md and "### TokBench-mini 256" in md
    assert "NOT the official TokBench" in md
    for needle in (
        "rapidocr (the default OCR judge) reads the original exactly",
        "ONE identity",
        "Judges: dlib",
        "| n |",
        "rounded to 2 decimals",
        "Rows sorted by T-ACC Mean",
        "- judge: rapidocr instead of the official parseq",
        "- data: the embedded mini set",
    ):
        assert needle in md, needle
    first = [
        line.split("|")[1].strip()
        for line in md.split("### TokBench-mini 256")[1].splitlines()
        if line.startswith("| ") and not line.startswith(("| Method", "| n "))
    ]
    assert first[0] == "resize"  # sorted by T-ACC Mean, the ceiling first


# --- appends -------------------------------------------------------------------------------------
def test_incomplete_cli_run_appends_only_when_asked(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    base = ["run", "recon", "--model", "jpeg-q90", "--limit", "2", "--workers", "0"]
    assert runner.invoke(app, base).exit_code == 0
    assert not (tmp_path / "leaderboards" / "recon.parquet").exists()
    assert runner.invoke(app, [*base, "--publish"]).exit_code == 0
    assert read(tmp_path / "leaderboards" / "recon.parquet")["n"].eq(2).all()
    assert runner.invoke(app, [*base, "--leaderboard-dir", "mine"]).exit_code == 0
    assert not (tmp_path / "mine").exists()  # an explicit folder is no exception
    assert runner.invoke(app, [*base, "--leaderboard-dir", "mine", "--publish"]).exit_code == 0
    assert (tmp_path / "mine" / "recon.parquet").exists()


def test_append_keeps_the_file_mode_and_skips_unchanged_reruns(boards, tmp_path):
    _, full, _ = boards
    path = tmp_path / "recon.parquet"
    append(path, full)
    umask = os.umask(0)
    os.umask(umask)
    assert stat.S_IMODE(path.stat().st_mode) == 0o666 & ~umask
    os.chmod(path, 0o644)
    changed = full.copy()
    changed["value"] = changed["value"] + 1
    append(path, changed)
    assert stat.S_IMODE(path.stat().st_mode) == 0o644
    before = (path.read_bytes(), path.stat().st_mtime_ns)
    again = changed.copy()
    again["timestamp"], again["wall_time_s"] = "2030-01-01T00:00:00+00:00", 99.0
    append(path, again)  # same numbers, only when/where differ: a no-op
    assert (path.read_bytes(), path.stat().st_mtime_ns) == before


def test_readme_first_run_writes_no_tracked_file():
    import shlex

    text = (REPO / "README.md").read_text()
    line = next(x for x in text.splitlines() if "evalkit run tokbench-mini" in x)
    args = shlex.split(line.split("evalkit run", 1)[1])
    assert "--leaderboard-dir" in args, "the first run must not append to leaderboards/"
    target = args[args.index("--leaderboard-dir") + 1]
    for path in (f"{target}/tokbench-mini.parquet", "evalkit-results/x/results.parquet"):
        ignored = subprocess.run(["git", "-C", str(REPO), "check-ignore", "-q", path])
        assert ignored.returncode == 0, f"{path} is not ignored by git"
