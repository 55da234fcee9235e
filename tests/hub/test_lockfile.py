"""The lock file is shared by concurrent runs and shards: updates never lose each other."""

from __future__ import annotations

import multiprocessing as mp
from pathlib import Path

import pytest

from evalkit import lockfile


def _writer(path: str, worker: int, n: int) -> None:
    for i in range(n):
        lockfile.record_file(
            f"url:https://x/{worker}/{i}", {"sha256": f"{worker:032x}{i:032x}"}, Path(path)
        )


def test_concurrent_writers_lose_nothing(tmp_path):
    path = tmp_path / "evalkit.lock.json"
    ctx = mp.get_context("fork")
    procs = [ctx.Process(target=_writer, args=(str(path), w, 25)) for w in range(4)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(60)
        assert p.exitcode == 0
    assert len(lockfile.read(path)["files"]) == 100


def test_a_different_sha256_under_a_locked_key_names_both(tmp_path):
    path = tmp_path / "evalkit.lock.json"
    lockfile.record_file("url:https://x/a", {"sha256": "a" * 64, "verified": "first"}, path)
    kept = lockfile.record_file("url:https://x/a", {"sha256": "a" * 64, "verified": "later"}, path)
    assert kept["verified"] == "first"  # the first use's note stays
    with pytest.raises(lockfile.LockMismatchError) as err:
        lockfile.record_file("url:https://x/a", {"sha256": "b" * 64}, path)
    assert "a" * 64 in str(err.value) and "b" * 64 in str(err.value)


def test_a_branch_is_locked_to_its_first_commit(tmp_path):
    path = tmp_path / "evalkit.lock.json"
    key = lockfile.revision_key("model", "org/m", "main")
    assert lockfile.record_revision(key, "1" * 40, path) == "1" * 40
    assert lockfile.record_revision(key, "2" * 40, path) == "1" * 40
