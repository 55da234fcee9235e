"""Runner behaviour: resume after SIGKILL, no duplicate rows, clear errors on bad input."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

import evalkit
from evalkit.benchmarks.images import embedded_photos
from evalkit.leaderboard import read
from evalkit.runner import RunError
from tests.core import doubles
from tests.support import REPO

VALUE_COLUMNS = ["run_id", "subset", "bin", "metric", "value", "n"]


@pytest.fixture(autouse=True)
def _doubles() -> None:
    doubles.register()


def test_rerun_adds_no_duplicate_rows(tmp_path):
    kw = dict(out_dir=tmp_path / "out", leaderboard_dir=tmp_path / "lb", workers=0)
    first = evalkit.run("recon", "jpeg-q50", **kw)
    second = evalkit.run("recon", "jpeg-q50", **kw)
    assert second.resumed_samples == len(embedded_photos().ids)  # nothing recomputed
    board = read(tmp_path / "lb" / "recon.parquet")
    assert len(board) == len(first.rows) and {"psnr", "ssim", "bpp"} <= set(board["metric"])
    pd.testing.assert_frame_equal(first.rows[VALUE_COLUMNS], board[VALUE_COLUMNS])


def _kill_after_parts(out: Path, lb: Path, parts: int) -> None:
    script = (
        "import evalkit; from tests.core import doubles; doubles.register(); "
        f"evalkit.run('recon', 'test-slow', batch_size=2, workers=0, out_dir={str(out)!r}, "
        f"leaderboard_dir={str(lb)!r})"
    )
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    proc = subprocess.Popen([sys.executable, "-c", script], cwd=REPO, env=env)
    try:
        deadline = time.time() + 120
        while time.time() < deadline:
            if len(list(out.glob("recon/test-slow/*/parts/part-*.json"))) >= parts:
                break
            if proc.poll() is not None:
                pytest.fail(f"the run ended before it could be killed (rc {proc.returncode})")
            time.sleep(0.05)
        else:
            pytest.fail("no part written in time")
        proc.send_signal(signal.SIGKILL)
    finally:
        proc.wait()


def test_sigkill_midway_then_rerun_equals_uninterrupted(tmp_path):
    out, lb = tmp_path / "out", tmp_path / "lb"
    _kill_after_parts(out, lb, parts=2)
    done = len(list(out.glob("recon/test-slow/*/parts/part-*.json")))
    assert 2 <= done < 6, "the kill should land midway"
    assert not (lb / "recon.parquet").exists()
    resumed = evalkit.run(
        "recon", "test-slow", batch_size=2, workers=0, out_dir=out, leaderboard_dir=lb
    )
    assert resumed.resumed_samples == 2 * done
    clean = evalkit.run("recon", "test-slow", batch_size=3, workers=0, out_dir=tmp_path / "clean")
    pd.testing.assert_frame_equal(resumed.rows[VALUE_COLUMNS], clean.rows[VALUE_COLUMNS])
    pd.testing.assert_frame_equal(
        resumed.samples.drop(columns="record_index"), clean.samples.drop(columns="record_index")
    )
    assert len(read(lb / "recon.parquet")) == len(resumed.rows)


def _photo_folder(tmp_path: Path, n: int = 4) -> Path:
    folder = tmp_path / "imgs"
    folder.mkdir()
    photos = embedded_photos()
    for sample_id, path in list(zip(photos.ids, photos.paths))[:n]:
        (folder / sample_id).write_bytes(path.read_bytes())
    return folder


def test_corrupt_image_names_sample_and_keeps_done_work(tmp_path):
    folder = _photo_folder(tmp_path)
    victim = sorted(folder.iterdir())[2]
    victim.write_bytes(b"not an image at all")
    with pytest.raises(RunError) as err:
        evalkit.run(
            "recon",
            "jpeg-q50",
            options={"data": str(folder)},
            batch_size=1,
            workers=0,
            out_dir=tmp_path / "out",
        )
    message = str(err.value)
    assert victim.name in message and "2 of 4 samples are done" in message
    kept = pd.concat(pd.read_parquet(p) for p in tmp_path.glob("out/recon/*/*/parts/*.parquet"))
    assert sorted(kept["sample_id"]) == sorted(p.name for p in folder.iterdir())[:2]


def test_failure_midway_then_rerun_resumes(tmp_path, monkeypatch):
    """A model that fails once (think: a transient CUDA error) loses no finished work."""
    monkeypatch.setenv("EVALKIT_TEST_FLAKY_MARKER", str(tmp_path / "failed-once"))
    folder = _photo_folder(tmp_path)
    kw = dict(options={"data": str(folder)}, batch_size=1, workers=0, out_dir=tmp_path / "out")
    with pytest.raises(RunError, match="2 of 4 samples are done"):
        evalkit.run("recon", "test-flaky", **kw)
    result = evalkit.run("recon", "test-flaky", **kw)
    assert result.resumed_samples == 2 and len(result.samples) == 4
    clean = evalkit.run(
        "recon", "identity", options={"data": str(folder)}, workers=0, out_dir=tmp_path / "clean"
    )
    assert list(result.samples["sample_id"]) == list(clean.samples["sample_id"])


@pytest.mark.parametrize(
    ("model", "needle"),
    [
        ("test-nan", "NaN/Inf for samples"),
        ("test-shape", "returned shape"),
        ("test-range255", "expected images in [0, 1]"),
    ],
)
def test_bad_model_output_names_model_and_samples(tmp_path, model, needle):
    folder = _photo_folder(tmp_path)
    with pytest.raises(RunError) as err:
        evalkit.run(
            "recon",
            model,
            options={"data": str(folder)},
            batch_size=2,
            workers=0,
            out_dir=tmp_path / "out",
        )
    message = str(err.value)
    assert needle in message and model in message
    first_sample = sorted(p.name for p in folder.iterdir())[1]
    assert first_sample in message


def test_unknown_ids_suggest_close_matches():
    from evalkit.registry import UnknownEntryError

    with pytest.raises(UnknownEntryError, match="Did you mean 'recon'"):
        evalkit.run("recn", "identity")
    with pytest.raises(UnknownEntryError, match="taef2"):
        evalkit.run("recon", "taef3")


def test_unknown_benchmark_option_is_rejected():
    from evalkit.options import OptionError

    with pytest.raises(OptionError, match="unknown option 'resolutoin'"):
        evalkit.run("recon", "identity", options={"resolutoin": 128})


def test_streaming_state_survives_failure_and_lost_checkpoint(tmp_path, monkeypatch):
    """State is checkpointed with the parts it covers; parts it lacks are redone, never doubled."""
    doubles.register_benchmarks()
    monkeypatch.setenv("EVALKIT_TEST_FLAKY_MARKER", str(tmp_path / "failed-once"))
    folder = _photo_folder(tmp_path)
    kw = dict(options={"data": str(folder)}, batch_size=1, workers=0)
    clean = evalkit.run("test-sum", "identity", out_dir=tmp_path / "clean", **kw)
    with pytest.raises(RunError, match="2 of 4 samples are done"):
        evalkit.run("test-sum", "test-flaky", out_dir=tmp_path / "out", **kw)
    resumed = evalkit.run("test-sum", "test-flaky", out_dir=tmp_path / "out", **kw)
    assert resumed.resumed_samples == 2
    key = ["metric", "value", "n"]
    pd.testing.assert_frame_equal(resumed.rows[key], clean.rows[key])
    # A checkpoint lost (killed before it was written): every stateful part is redone.
    (resumed.run_dir / "state.npz").unlink()
    redone = evalkit.run("test-sum", "test-flaky", out_dir=tmp_path / "out", **kw)
    assert redone.resumed_samples == 0
    pd.testing.assert_frame_equal(redone.rows[key], clean.rows[key])


def test_generation_is_batch_independent_and_checks_model_kind(tmp_path):
    doubles.register_generation()
    one = evalkit.run("test-gen", "test-generator", batch_size=1, workers=0, out_dir=tmp_path / "a")
    four = evalkit.run(
        "test-gen", "test-generator", batch_size=4, workers=0, out_dir=tmp_path / "b"
    )
    assert list(one.samples["brightness"]) == list(four.samples["brightness"])
    assert one.rows["task"].iloc[0] == "generation" and one.rows["n"].iloc[0] == 6
    assert one.rows["reported_value"].iloc[0] == 0.5  # the benchmark's published value rides along
    with pytest.raises(RunError, match="is not a generator"):
        evalkit.run("test-gen", "identity", workers=0, out_dir=tmp_path / "c")
    with pytest.raises(RunError, match="is not a tokenizer"):
        evalkit.run("recon", "test-generator", workers=0, out_dir=tmp_path / "d")


def test_random_init_models_never_reach_a_leaderboard(tmp_path):
    with pytest.raises(ValueError, match="no-leaderboard"):
        evalkit.run(
            "recon",
            "taef2",
            model_options={"random_init": True},
            leaderboard_dir=tmp_path / "lb",
            out_dir=tmp_path / "out",
        )
    assert not (tmp_path / "lb").exists()


def test_missing_data_and_weights_in_one_message(empty_store):
    """`evalkit run tokbench --model titok-l32` on a bare machine: one error naming both."""
    from evalkit.store import MissingAssetError

    with pytest.raises(MissingAssetError) as err:
        evalkit.run("tokbench", "titok-l32")
    message = str(err.value)
    assert "Junfeng5/TokBench" in message and "tokbench-mini" in message
    assert "yucornetto/tokenizer_titok_l32_imagenet" in message
    assert str(empty_store / "weights" / "titok-l32") in message


def test_generated_images_are_kept_and_records_say_what_made_them(tmp_path):
    import numpy as np
    import torch
    from PIL import Image

    from evalkit.types import Condition

    doubles.register_generation()
    result = evalkit.run(
        "test-gen", "test-generator", batch_size=4, workers=0, out_dir=tmp_path, seed=0
    )
    saved = sorted(p.name for p in (result.run_dir / "images").glob("*.png"))
    assert saved == [f"s{i}.png" for i in range(6)]
    again = doubles.SeededNoise("x").generate([Condition(seed=100, class_id=0)])
    png = np.asarray(Image.open(result.run_dir / "images" / "s0.png"))
    expected = again[0].mul(255).round().clamp(0, 255).to(torch.uint8).permute(1, 2, 0).numpy()
    assert np.array_equal(png, expected)
    assert result.samples.set_index("sample_id").loc["s3", "gen_seed"] == 103
