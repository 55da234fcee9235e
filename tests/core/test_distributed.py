"""torchrun (gloo, 2 CPU processes) and --shard jobs as separate processes equal one process.

Each test launches real processes (torchrun's launcher, or `python -m ... --shard K/N`), so the
module is marked slow: on 2 shared CPU cores each launch costs 20-45 s of imports and rendezvous.
Shards are cut on batch boundaries (see evalkit.distributed), so every batch holds the same
samples as in one process and CPU kernels see the same batch composition.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import evalkit
from evalkit.runstore import RunStore
from tests.core import doubles
from tests.support import REPO

pytestmark = pytest.mark.slow
TIMING = ["wall_time_s", "peak_memory_mb", "timestamp"]


@pytest.fixture(autouse=True)
def _doubles(request: pytest.FixtureRequest) -> None:
    if "slow" not in (request.config.getoption("markexpr") or "") and not os.environ.get(
        "EVALKIT_SLOW"
    ):
        pytest.skip(
            "launches torchrun and job processes (minutes on 2 shared CPU cores): run "
            "with `-m slow` or EVALKIT_SLOW=1; tests/core/test_shards.py covers the "
            "same shard/merge logic in-process"
        )
    doubles.register()
    doubles.register_benchmarks()


def _env(**extra: str) -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(REPO), "OMP_NUM_THREADS": "1", **extra}


def _torchrun(args: list[str], **env: str) -> subprocess.Popen:
    cmd = [
        sys.executable,
        "-m",
        "torch.distributed.run",
        "--standalone",
        "--nproc-per-node",
        "2",
        "-m",
        "tests.core.dist_entry",
        "run",
        *args,
        "--workers",
        "0",
        "--no-leaderboard",
    ]
    return subprocess.Popen(
        cmd, cwd=REPO, env=_env(**env), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )


def _finish(proc: subprocess.Popen, ok: bool = True) -> str:
    out, _ = proc.communicate(timeout=600)
    if ok:
        assert proc.returncode == 0, out[-4000:]
    return out


def _rows(df: pd.DataFrame) -> pd.DataFrame:
    return df.drop(columns=TIMING).reset_index(drop=True)


def _check_equal(dist_dir: Path, one) -> None:  # type: ignore[no-untyped-def]
    assert dist_dir.name == one.run_id  # the run identity ignores rank and world size
    rows = pd.read_parquet(dist_dir / "results.parquet")
    samples = pd.read_parquet(dist_dir / "samples.parquet")
    pd.testing.assert_frame_equal(samples, one.samples)
    pd.testing.assert_frame_equal(_rows(rows), _rows(one.rows), check_exact=False, rtol=1e-9)
    done = [
        [
            sid
            for part in RunStore(dist_dir).parts(dist_dir / "shards" / f"{k}-of-2")
            for sid in part.sample_ids
        ]
        for k in range(2)
    ]
    assert all(done), "both ranks did part of the work"
    assert sorted(done[0] + done[1]) == sorted(set(samples["sample_id"]))  # each sample once


def test_torchrun_recon_equals_one_process(tmp_path: Path) -> None:
    args = ["recon", "--model", "jpeg-q50", "--limit", "7", "--batch-size", "2"]
    _finish(_torchrun([*args, "--out", str(tmp_path / "dist")]))
    one = evalkit.run(
        "recon", "jpeg-q50", options={"limit": 7}, batch_size=2, workers=0, out_dir=tmp_path / "one"
    )
    _check_equal(tmp_path / "dist" / one.run_dir.relative_to(tmp_path / "one"), one)


def test_torchrun_tokbench_mini_equals_one_process(tmp_path: Path) -> None:
    args = ["tokbench-mini", "--model", "jpeg-q50", "-O", "limit=5", "--batch-size", "2"]
    _finish(_torchrun([*args, "--out", str(tmp_path / "dist")]))
    one = evalkit.run(
        "tokbench-mini",
        "jpeg-q50",
        options={"limit": 5},
        batch_size=2,
        workers=0,
        out_dir=tmp_path / "one",
    )
    _check_equal(tmp_path / "dist" / one.run_dir.relative_to(tmp_path / "one"), one)


def test_torchrun_fid_equals_one_process(tmp_path: Path) -> None:
    """FID statistics within 1e-10; the rfid row within 1e-6 (see below), other rows equal."""
    import torch

    from tests.fid.conftest import real_images, write_folder

    data = write_folder(real_images(10, 280, seed=3), tmp_path / "val")
    options = {"data": str(data), "weights": "fid-helper"}
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # as torchrun's workers (OMP_NUM_THREADS=1): the same CPU kernels
    try:
        one = evalkit.run(
            "imagenet-rfid",
            "jpeg-q10",
            options=options,
            batch_size=4,
            workers=0,
            out_dir=tmp_path / "one",
        )
    finally:
        torch.set_num_threads(threads)
    # a cache of its own (with the converted Inception weights): the reference statistics of
    # the originals are computed again, by both ranks, instead of read from the first run's cache
    cache = tmp_path / "cache2"
    shutil.copytree(
        Path(os.environ["EVALKIT_CACHE_DIR"]) / "fid" / "inception", cache / "fid" / "inception"
    )
    args = [
        "imagenet-rfid",
        "--model",
        "jpeg-q10",
        "-O",
        f"data={data}",
        "-O",
        "weights=fid-helper",
        "--batch-size",
        "4",
        "--out",
        str(tmp_path / "dist"),
    ]
    _finish(_torchrun(args, EVALKIT_CACHE_DIR=str(cache)))
    dist_dir = tmp_path / "dist" / one.run_dir.relative_to(tmp_path / "one")
    ref, _ = RunStore(one.run_dir).load_state()
    shards = [RunStore(dist_dir).load_state(dist_dir / "shards" / f"{k}-of-2")[0] for k in range(2)]
    assert ref is not None and shards[0] is not None and shards[1] is not None
    assert {"fake_n", "real_n"} <= set(ref) and set(ref) == set(shards[0]) == set(shards[1])
    for key in sorted(ref):
        merged = shards[0][key] + shards[1][key]
        rel = float(np.abs(merged - ref[key]).max() / max(np.abs(ref[key]).max(), 1e-300))
        assert rel <= 1e-10, f"{key}: relative difference {rel:.3g}"
    # With n=10 the 2048-d covariances have rank <= 9, and the matrix square root of a
    # rank-deficient product turns last-bit differences of the sums (summed in another order
    # across ranks) into ~sqrt(eps) relative differences of FID (seen: 6.5e-8): compare at 1e-6.
    rows = pd.read_parquet(dist_dir / "results.parquet")
    fid_rows = (rows["metric"] == "rfid").to_numpy()
    assert fid_rows.sum() == 1
    assert np.isclose(
        rows["value"][fid_rows].iloc[0], one.rows["value"][fid_rows].iloc[0], rtol=1e-6, atol=0
    )
    rows.loc[fid_rows, "value"] = one.rows.loc[fid_rows, "value"].to_numpy()
    rows.to_parquet(dist_dir / "results.parquet", index=False)
    _check_equal(dist_dir, one)


def _rank_pid(launcher: int, rank: int) -> int | None:
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            ppid = int((proc / "stat").read_text().rsplit(")", 1)[1].split()[1])
            environ = (proc / "environ").read_bytes().split(b"\0")
        except (OSError, IndexError, ValueError):
            continue
        if ppid == launcher and f"RANK={rank}".encode() in environ:
            return int(proc.name)
    return None


def test_torchrun_sigkill_one_rank_then_rerun(tmp_path: Path) -> None:
    """Stateful benchmark, state checkpointed after every batch; rank 1 is SIGKILLed midway."""
    out = tmp_path / "dist"
    args = ["test-sum", "--model", "test-slow", "--batch-size", "1", "--out", str(out)]
    proc = _torchrun(args, EVALKIT_CHECKPOINT_SECONDS="0")
    deadline = time.time() + 300
    while time.time() < deadline:
        if list(out.glob("*/test-slow/*/shards/1-of-2/parts/part-*.json")):
            break
        assert proc.poll() is None, proc.communicate()[0][-4000:]
        time.sleep(0.05)
    pid = _rank_pid(proc.pid, 1)
    assert pid is not None, "rank 1 not found"
    os.kill(pid, signal.SIGKILL)
    _finish(proc, ok=False)
    assert proc.returncode != 0
    run_dir = next(out.glob("*/test-slow/*"))
    assert not (run_dir / "results.parquet").exists()
    left = len(list((run_dir / "shards" / "1-of-2" / "parts").glob("part-*.json")))
    assert left < 6, "the kill should land before rank 1 finished"
    _finish(_torchrun(args))
    one = evalkit.run("test-sum", "test-slow", batch_size=1, workers=0, out_dir=tmp_path / "one")
    _check_equal(run_dir, one)
    ids = [
        sid
        for folder, _ in RunStore(run_dir).shard_folders()
        for part in RunStore(run_dir).parts(folder)
        for sid in part.sample_ids
    ]
    assert sorted(ids) == sorted(one.samples["sample_id"])  # no sample done twice


def test_shard_processes_then_merge_equal_one_process(tmp_path: Path) -> None:
    """Three --shard jobs at once (separate processes), then `evalkit merge`; a rerun of 1/3
    adds nothing; with 1/3 gone, merge names it."""
    out, lb = tmp_path / "out", tmp_path / "lb"
    base = [
        sys.executable,
        "-m",
        "tests.core.dist_entry",
        "run",
        "test-sum",
        "--model",
        "jpeg-q50",
        "--limit",
        "7",
        "--batch-size",
        "2",
        "--workers",
        "0",
        "--out",
        str(out),
        "--leaderboard-dir",
        str(lb),
    ]
    jobs = [
        subprocess.Popen(
            [*base, "--shard", f"{k}/3"],
            cwd=REPO,
            env=_env(),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        for k in range(3)
    ]
    for job in jobs:
        _finish(job)
    assert not lb.exists()
    run_dir = next(out.glob("*/jpeg-q50/*"))
    parts = sorted(run_dir.rglob("part-*.json"))
    _finish(
        subprocess.Popen(
            [*base, "--shard", "1/3"],
            cwd=REPO,
            env=_env(),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
    )
    assert sorted(run_dir.rglob("part-*.json")) == parts
    merged = subprocess.run(
        [
            sys.executable,
            "-m",
            "tests.core.dist_entry",
            "merge",
            str(run_dir),
            "--leaderboard-dir",
            str(lb),
        ],
        cwd=REPO,
        env=_env(),
        capture_output=True,
        text=True,
    )
    assert merged.returncode == 0, merged.stderr[-4000:]
    one = evalkit.run(
        "test-sum",
        "jpeg-q50",
        options={"limit": 7},
        batch_size=2,
        workers=0,
        out_dir=tmp_path / "one",
    )
    pd.testing.assert_frame_equal(pd.read_parquet(run_dir / "samples.parquet"), one.samples)
    pd.testing.assert_frame_equal(
        _rows(pd.read_parquet(run_dir / "results.parquet")), _rows(one.rows)
    )
    assert len(pd.read_parquet(next(lb.glob("*.parquet")))) == len(one.rows)
    shutil.rmtree(run_dir / "shards" / "1-of-3")
    missing = subprocess.run(
        [sys.executable, "-m", "tests.core.dist_entry", "merge", str(run_dir), "--no-leaderboard"],
        cwd=REPO,
        env=_env(),
        capture_output=True,
        text=True,
    )
    assert missing.returncode == 1 and "shard 1/3 is missing" in missing.stderr
