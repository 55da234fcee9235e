"""Errors a user meets: one line naming the problem, exit 2 (bad input) or 1 (run time), no
traceback, nothing already computed lost. Called through the CLI, as users call it."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from evalkit.benchmarks.images import embedded_photos
from evalkit.cli import app
from tests.core import doubles
from tests.support import REPO

runner = CliRunner()


@pytest.fixture(autouse=True)
def _doubles() -> None:
    doubles.register()


def _invoke(args: list[str]):  # type: ignore[no-untyped-def]
    return runner.invoke(app, args, catch_exceptions=True)


def _one_error_line(result, code: int, needle: str) -> str:  # type: ignore[no-untyped-def]
    """The command exited with ``code`` and printed exactly one line, naming ``needle``."""
    assert not isinstance(result.exception, Exception) or isinstance(
        result.exception, SystemExit
    ), f"uncaught {result.exception!r}"
    assert result.exit_code == code, (result.exit_code, result.output)
    lines = [ln for ln in result.stderr.splitlines() if ln.strip() and not _is_progress(ln)]
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.output
    assert lines[0].startswith("error: "), lines[0]
    assert needle in lines[0], lines[0]
    return lines[0]


def _is_progress(line: str) -> bool:
    """The progress bar's last frame ("recon x model ━━━ 2/4 ..."), which stays on screen."""
    return " x " in line and "━" in line


def _no_cuda_device() -> str:
    import torch

    return f"cuda:{torch.cuda.device_count()}" if torch.cuda.is_available() else "cuda"


BAD_RUNS = [
    (["-O", "nonsense=1"], "unknown option 'nonsense' for benchmark recon"),
    (["-O", "limit=abc"], "option limit='abc': expected an integer"),
    (["--limit", "0"], "limit=0: must be an integer >= 1"),
    (["--limit", "-2"], "limit=-2: must be an integer >= 1"),
    (["-O", "limit=0"], "limit=0: must be an integer >= 1"),
    (["--batch-size", "0"], "batch size must be an integer >= 1"),
    (["--resolution", "-5"], "resolution=-5: must be an integer >= 1"),
    (["--resolution", "0"], "resolution=0: must be an integer >= 1"),
    (["--device", "banana"], "unknown device 'banana'"),
    (["--device", _no_cuda_device()], "asked for, but"),
]


@pytest.mark.parametrize(("extra", "needle"), BAD_RUNS, ids=[" ".join(a) for a, _ in BAD_RUNS])
def test_bad_run_options_are_one_line_exit_2(tmp_path: Path, extra: list[str], needle: str) -> None:
    out = tmp_path / "out"
    result = _invoke(
        [
            "run",
            "recon",
            "-m",
            "jpeg-q50",
            "--out",
            str(out),
            "--leaderboard-dir",
            str(tmp_path / "lb"),
            *extra,
        ]
    )
    _one_error_line(result, 2, needle)
    assert not out.exists() and not (tmp_path / "lb").exists()  # refused before any work


def test_models_show_unknown_id() -> None:
    line = _one_error_line(_invoke(["models", "show", "nosuch"]), 2, "unknown model 'nosuch'")
    assert "evalkit list models" in line


def test_api_rejects_unknown_and_mistyped_options() -> None:
    import evalkit
    from evalkit.options import OptionError

    with pytest.raises(OptionError, match="unknown option 'resolutoin'"):
        evalkit.run("recon", "identity", options={"resolutoin": 128})
    with pytest.raises(OptionError, match="expected an integer"):
        evalkit.run("recon", "identity", options={"limit": 2.5})


def _factory(
    name: str,
    *,
    flag: bool = False,
    ratio: float = 1.0,
    limit: int | None = None,
    label: str | None = None,
    extra: dict | None = None,
) -> None:
    """A benchmark factory's shape: typed keyword options."""


def test_option_values_are_typed_by_the_factory_signature() -> None:
    from evalkit.options import OptionError, check_options

    got = check_options(
        "x",
        _factory,
        {"flag": "true", "ratio": "0.5", "limit": "3", "label": "007", "extra": '{"a": 1}'},
    )
    assert got == {"flag": True, "ratio": 0.5, "limit": 3, "label": "007", "extra": {"a": 1}}
    assert check_options("x", _factory, {"limit": "none"}) == {"limit": None}
    for bad, needle in (
        ({"flag": "maybe"}, "true or false"),
        ({"ratio": "abc"}, "a number"),
        ({"limit": "1.5"}, "an integer"),
        ({"lmit": "2"}, "unknown option"),
    ):
        with pytest.raises(OptionError, match=needle):
            check_options("x", _factory, bad)


@pytest.mark.parametrize("command", ["show", "render"])
def test_corrupt_leaderboard_names_the_file(tmp_path: Path, command: str) -> None:
    board = tmp_path / "recon.parquet"
    board.write_text("this is not parquet\n")
    result = _invoke(["leaderboard", command, "recon", "--leaderboard-dir", str(tmp_path)])
    _one_error_line(result, 2, f"cannot read the leaderboard {board}")


def test_text_file_named_npz_is_refused(tmp_path: Path) -> None:
    pytest.importorskip("torch_fidelity")
    fake = tmp_path / "samples.npz"
    fake.write_text("not numpy\n")
    _one_error_line(_invoke(["fid", str(fake), str(fake)]), 2, f"{fake}: not an .npz file")


def _photo_folder(tmp_path: Path, n: int = 4) -> Path:
    folder = tmp_path / "imgs"
    folder.mkdir()
    photos = embedded_photos()
    for sample_id, path in list(zip(photos.ids, photos.paths))[:n]:
        (folder / sample_id).write_bytes(path.read_bytes())
    return folder


def test_corrupt_image_in_a_dataloader_worker_is_one_line(tmp_path: Path) -> None:
    folder = _photo_folder(tmp_path)
    victim = sorted(folder.iterdir())[2]
    victim.write_bytes(b"not an image at all")
    out = tmp_path / "out"
    result = _invoke(
        [
            "run",
            "recon",
            "-m",
            "jpeg-q50",
            "-O",
            f"data={folder}",
            "--workers",
            "2",
            "--batch-size",
            "1",
            "--out",
            str(out),
            "--no-leaderboard",
        ]
    )
    line = _one_error_line(result, 2, victim.name)  # a file that is not an image: bad input
    assert "DataLoader worker" not in line and "2 of 4 samples are done" in line
    kept = pd.concat(pd.read_parquet(p) for p in out.glob("recon/*/*/parts/*.parquet"))
    assert sorted(kept["sample_id"]) == sorted(p.name for p in folder.iterdir())[:2]


def test_leaderboard_write_failure_keeps_the_run(tmp_path: Path, monkeypatch) -> None:
    """The leaderboard becomes unwritable during the run: rows stay in the run folder."""
    import evalkit.leaderboard

    def refuse(path, rows):  # type: ignore[no-untyped-def]
        raise PermissionError(13, "Permission denied", str(path))

    monkeypatch.setattr(evalkit.leaderboard, "append", refuse)
    out = tmp_path / "out"
    result = _invoke(
        [
            "run",
            "recon",
            "-m",
            "jpeg-q50",
            "--limit",
            "2",
            "--workers",
            "0",
            "--out",
            str(out),
            "--leaderboard-dir",
            str(tmp_path / "lb"),
            "--publish",  # a --limit run reaches a leaderboard only when published
            "--json",
        ]
    )
    line = _one_error_line(result, 1, "cannot write the leaderboard")
    assert "rerun the same command" in line
    (results,) = out.glob("recon/jpeg-q50/*/results.parquet")
    assert str(results.parent) in line
    assert set(pd.read_parquet(results)["metric"]) >= {"psnr", "ssim"}


# --- subprocesses: read-only folders (as an unprivileged user) and Ctrl-C ----------------------


def _env(cache: Path) -> dict[str, str]:
    return {
        **os.environ,
        "PYTHONPATH": str(REPO),
        "EVALKIT_CACHE_DIR": str(cache),
        "EVALKIT_TRACEBACK": "",
    }


def _without_root_overrides() -> None:
    """preexec_fn: root ignores file modes; drop the capabilities that let it (CAP_DAC_OVERRIDE,
    CAP_DAC_READ_SEARCH) from the bounding set, so the command meets the folder's mode as any
    user would. A no-op for other users."""
    if os.geteuid() != 0:
        return
    import ctypes

    libc = ctypes.CDLL(None, use_errno=True)
    for cap in (1, 2):  # CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH
        if libc.prctl(24, cap, 0, 0, 0) != 0:  # PR_CAPBSET_DROP
            raise OSError(ctypes.get_errno(), "prctl(PR_CAPBSET_DROP) failed")


def _read_only_dir(root: Path) -> Path:
    ro = root / "read-only"
    ro.mkdir()
    os.chmod(ro, 0o555)
    probe = subprocess.run(
        [sys.executable, "-c", f"open({str(ro / 'x')!r}, 'w')"],
        capture_output=True,
        preexec_fn=_without_root_overrides,
    )
    if probe.returncode == 0:
        pytest.skip("cannot make a folder read-only for this user here")
    return ro


@pytest.mark.parametrize("which", ["--out", "--leaderboard-dir"])
def test_read_only_folder_is_one_line_exit_1(tmp_path: Path, which: str) -> None:
    root = tmp_path
    ro = _read_only_dir(root)
    folders = {"--out": root / "out", "--leaderboard-dir": root / "lb", which: ro / "sub"}
    cmd = [
        sys.executable,
        "-m",
        "evalkit.cli",
        "run",
        "recon",
        "-m",
        "jpeg-q50",
        "--limit",
        "2",
        "--workers",
        "0",
        "--out",
        str(folders["--out"]),
        "--leaderboard-dir",
        str(folders["--leaderboard-dir"]),
    ]
    proc = subprocess.run(
        cmd,
        cwd=REPO,
        env=_env(root / "cache"),
        capture_output=True,
        text=True,
        preexec_fn=_without_root_overrides,
        timeout=300,
    )
    lines = [ln for ln in proc.stderr.splitlines() if ln.strip() and not _is_progress(ln)]
    assert proc.returncode == 1, proc.stderr
    assert len(lines) == 1 and "Traceback" not in proc.stderr, proc.stderr
    assert lines[0].startswith("error: cannot write the ") and str(ro) in lines[0], lines[0]
    assert not list(root.glob("out/recon/*/*/parts/*")), "it refused before any work"


def test_ctrl_c_keeps_the_run_and_says_how_to_resume(tmp_path: Path) -> None:
    out = tmp_path / "out"
    script = (
        "import sys; from tests.core import doubles; doubles.register(); "
        "from evalkit.cli import app; app(sys.argv[1:])"
    )
    cmd = [
        sys.executable,
        "-c",
        script,
        "run",
        "recon",
        "-m",
        "test-slow",
        "--batch-size",
        "1",
        "--workers",
        "0",
        "--out",
        str(out),
        "--no-leaderboard",
    ]
    proc = subprocess.Popen(
        cmd,
        cwd=REPO,
        env=_env(tmp_path / "cache"),
        text=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.time() + 120
        while not list(out.glob("recon/test-slow/*/parts/part-*.json")):
            if proc.poll() is not None or time.time() > deadline:
                pytest.fail(f"no part written before the run ended: {proc.communicate()}")
            time.sleep(0.05)
        proc.send_signal(signal.SIGINT)
        _, stderr = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 130, stderr
    assert "Traceback" not in stderr and "Aborted" not in stderr, stderr
    line = stderr.strip().splitlines()[-1]
    assert line.startswith("interrupted: ") and "rerun the same command to resume" in line, stderr
    assert sum(ln.startswith("interrupted") for ln in stderr.splitlines()) == 1
    kept = len(list(out.glob("recon/test-slow/*/parts/part-*.json")))
    total = len(embedded_photos().ids)
    assert f"{kept} of {total} samples are done" in line and 1 <= kept < total
    # the rerun resumes from what was kept
    import evalkit

    resumed = evalkit.run("recon", "test-slow", batch_size=4, workers=0, out_dir=out)
    assert resumed.resumed_samples == kept and len(resumed.samples) == total
