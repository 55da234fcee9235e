"""--shard K/N jobs and `evalkit merge` (in-process, fast): exact, idempotent, errors by name."""

from __future__ import annotations

import shutil

import numpy as np
import pandas as pd
import pytest

import evalkit
from evalkit.distributed import Shard
from evalkit.runner import merge
from evalkit.runstore import BackgroundWriter, IncompleteRunError
from tests.core import doubles

TIMING = ["wall_time_s", "peak_memory_mb", "timestamp"]
KW = dict(options={"limit": 7}, batch_size=2, workers=0)


@pytest.fixture(autouse=True)
def _doubles() -> None:
    doubles.register()
    doubles.register_benchmarks()


@pytest.mark.parametrize(("n", "batch", "count"), [(7, 2, 3), (12, 5, 2), (3, 8, 4), (50, 8, 8)])
def test_shards_partition_samples_on_batch_boundaries(n: int, batch: int, count: int) -> None:
    ranges = [Shard(k, count).indices(n, batch) for k in range(count)]
    assert [i for r in ranges for i in r] == list(range(n))  # disjoint, contiguous, no padding
    assert all(r.start % batch == 0 for r in ranges if len(r))
    sizes = [len(r) for r in ranges]
    assert max(sizes) - min(sizes) <= batch  # balanced to within one batch


def test_shard_parse_errors_name_the_input() -> None:
    assert Shard.parse("1/3") == Shard(1, 3)
    for bad in ("3/3", "1-3", "-1/2"):
        with pytest.raises(ValueError, match="shard"):
            Shard.parse(bad)


def _rows(result) -> pd.DataFrame:  # type: ignore[no-untyped-def]
    return result.rows.drop(columns=TIMING).reset_index(drop=True)


def test_shards_then_merge_equal_one_process(tmp_path) -> None:
    """Stateful benchmark (summed pixel state): 0/3 and 2/3, merge names 1/3, then 1/3 twice."""
    one = evalkit.run("test-sum", "jpeg-q50", out_dir=tmp_path / "one", **KW)
    out, lb = tmp_path / "sharded", tmp_path / "lb"
    for k in (0, 2):
        part = evalkit.run(
            "test-sum", "jpeg-q50", out_dir=out, leaderboard_dir=lb, shard=f"{k}/3", **KW
        )
        assert part.run_id == one.run_id and len(part.rows) == 0
    assert not lb.exists(), "a shard never appends to a leaderboard"
    run_dir = part.run_dir
    with pytest.raises(IncompleteRunError, match=r"shard 1/3 is missing") as err:
        merge(run_dir, leaderboard_dir=lb)
    assert "--shard 1/3" in str(err.value)
    evalkit.run("test-sum", "jpeg-q50", out_dir=out, shard="1/3", **KW)
    parts = sorted(run_dir.rglob("part-*.json"))
    again = evalkit.run("test-sum", "jpeg-q50", out_dir=out, shard="1/3", **KW)
    assert again.resumed_samples == 2 and sorted(run_dir.rglob("part-*.json")) == parts
    merged = merge(run_dir, leaderboard_dir=lb)
    pd.testing.assert_frame_equal(_rows(merged), _rows(one))
    pd.testing.assert_frame_equal(merged.samples, one.samples)
    assert not lb.exists(), "a --limit run is not complete: no leaderboard without publish"
    twice = merge(run_dir, leaderboard_dir=lb, publish=True)  # idempotent; one copy published
    pd.testing.assert_frame_equal(_rows(twice), _rows(one))
    board = pd.read_parquet(lb / f"{one.rows['benchmark'].iloc[0]}.parquet")
    assert len(board) == len(one.rows) and set(board["run_id"]) == {one.run_id}


def test_duplicated_shard_is_named(tmp_path) -> None:
    out = tmp_path / "out"
    for k in range(3):
        res = evalkit.run("recon", "jpeg-q50", out_dir=out, shard=f"{k}/3", **KW)
    src = res.run_dir / "shards" / "1-of-3" / "parts"
    dst = res.run_dir / "shards" / "2-of-3" / "parts"
    for f in src.iterdir():  # as if two copies of shard 1/3's samples were gathered
        shutil.copy(f, dst / f.name.replace("part-0000", "part-0009"))
    with pytest.raises(IncompleteRunError, match=r"done twice: by shard 1/3 .* shard 2/3"):
        merge(res.run_dir)


def test_merge_refuses_a_shard_of_another_run(tmp_path, monkeypatch) -> None:
    """Seen: a samples:dallemini shard copied into a cogview2 run merged into blended numbers
    labelled cogview2, rc 0. Here: shard 1/2 of a jpeg-q90 run copied into a jpeg-q50 run."""
    import json

    from typer.testing import CliRunner

    from evalkit.cli import app

    monkeypatch.chdir(tmp_path)
    cli = CliRunner()
    base = ["run", "recon", "--batch-size", "2", "--workers", "0", "--no-leaderboard"]
    assert cli.invoke(app, [*base, "-m", "jpeg-q50", "--shard", "0/2"]).exit_code == 0
    assert cli.invoke(app, [*base, "-m", "jpeg-q90", "--shard", "1/2"]).exit_code == 0
    (ours,) = (tmp_path / "evalkit-results/recon/jpeg-q50").iterdir()
    (theirs,) = (tmp_path / "evalkit-results/recon/jpeg-q90").iterdir()
    shutil.copytree(theirs / "shards" / "1-of-2", ours / "shards" / "1-of-2")
    result = cli.invoke(app, ["merge", str(ours), "--no-leaderboard"])
    assert result.exit_code == 1, result.output  # before: rc 0, numbers of both models blended
    assert "shard 1/2" in result.output and f"belongs to run {theirs.name}" in result.output
    assert "'jpeg-q90'" in result.output and not (ours / "results.parquet").exists()
    plan = json.loads((ours / "shards" / "0-of-2" / "shard.json").read_text())
    assert plan["run_id"] == ours.name and plan["identity"]["model"] == "jpeg-q50"
    shutil.rmtree(ours / "shards" / "1-of-2")  # the run's own shard 1/2, then merge is whole
    assert cli.invoke(app, [*base, "-m", "jpeg-q50", "--shard", "1/2"]).exit_code == 0
    assert cli.invoke(app, ["merge", str(ours), "--no-leaderboard"]).exit_code == 0


def test_shards_of_one_split_must_share_batch_size(tmp_path) -> None:
    out = tmp_path / "out"
    evalkit.run("recon", "jpeg-q50", out_dir=out, shard="0/2", **KW)
    with pytest.raises(ValueError, match="shard 0/2 of this run used --batch-size 2"):
        evalkit.run("recon", "jpeg-q50", out_dir=out, shard="1/2", **{**KW, "batch_size": 3})


def test_plain_run_finishes_what_shards_left(tmp_path) -> None:
    """A plain rerun completes a partly sharded run without redoing or doubling anything."""
    out = tmp_path / "out"
    evalkit.run("test-sum", "jpeg-q50", out_dir=out, shard="1/3", **KW)
    full = evalkit.run("test-sum", "jpeg-q50", out_dir=out, **KW)
    one = evalkit.run("test-sum", "jpeg-q50", out_dir=tmp_path / "one", **KW)
    assert full.resumed_samples == 2
    pd.testing.assert_frame_equal(_rows(full), _rows(one))


def test_background_writer_runs_in_order_and_reraises() -> None:
    writer = BackgroundWriter(maxsize=2)
    seen: list[int] = []
    for i in range(5):
        writer.submit(lambda i=i: seen.append(i))
    writer.flush()
    assert seen == list(range(5))

    def fail() -> None:
        raise OSError("disk full")

    writer.submit(fail)
    writer.submit(lambda: seen.append(99))  # skipped: nothing is written after a failed write
    with pytest.raises(OSError, match="disk full"):
        writer.flush()
    assert 99 not in seen and writer.failed
    writer.close()
    assert np.array_equal(seen, range(5))


def test_generation_shards_like_reconstruction(tmp_path) -> None:
    """Generation goes through the same loop: two shards + merge equal one process."""
    doubles.register_generation()
    kw = dict(batch_size=2, workers=0)
    one = evalkit.run("test-gen", "test-generator", out_dir=tmp_path / "one", **kw)
    for k in range(2):
        res = evalkit.run(
            "test-gen", "test-generator", out_dir=tmp_path / "out", shard=f"{k}/2", **kw
        )
    merged = merge(res.run_dir)
    pd.testing.assert_frame_equal(merged.samples, one.samples)
    pd.testing.assert_frame_equal(_rows(merged), _rows(one))


def test_a_shard_running_twice_at_once_is_refused_by_name(tmp_path) -> None:
    from filelock import FileLock

    from evalkit.runstore import ShardBusyError

    out = tmp_path / "out"
    res = evalkit.run("recon", "jpeg-q50", out_dir=out, shard="0/2", **KW)
    busy = FileLock(str(res.run_dir / "shards" / "1-of-2" / ".lock"))
    (res.run_dir / "shards" / "1-of-2").mkdir(parents=True)
    with busy:  # as if another process were running shard 1/2
        with pytest.raises(ShardBusyError, match="shard 1/2 .* already being run"):
            evalkit.run("recon", "jpeg-q50", out_dir=out, shard="1/2", **KW)
        with pytest.raises(ShardBusyError, match="shard 1/2 .* still running"):
            merge(res.run_dir)
