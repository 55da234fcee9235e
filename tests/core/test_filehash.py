"""File hashes are remembered across runs by (path, size, mtime) and never go stale."""

from __future__ import annotations

import hashlib
import os

from evalkit import filehash


def test_hash_is_correct_cached_and_refreshed_on_change(tmp_path, monkeypatch):
    monkeypatch.setenv("EVALKIT_CACHE_DIR", str(tmp_path / "cache"))
    f = tmp_path / "img.bin"
    f.write_bytes(b"first")
    assert filehash.file_sha256(f) == hashlib.sha256(b"first").hexdigest()
    calls = []
    monkeypatch.setattr(filehash, "sha256_file", lambda p: calls.append(p) or "x")
    monkeypatch.setattr(filehash, "_memory", {})  # a new process: only the on-disk cache is left
    assert filehash.file_sha256(f) == hashlib.sha256(b"first").hexdigest() and calls == []
    f.write_bytes(b"second")  # new content, new size: the stale entry must not be used
    os.utime(f, ns=(1, 1))
    assert filehash.file_sha256(f) == "x" and len(calls) == 1


def test_unwritable_cache_still_hashes(tmp_path, monkeypatch):
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("a file where the cache dir should be")
    monkeypatch.setenv("EVALKIT_CACHE_DIR", str(blocker))
    monkeypatch.setattr(filehash, "_memory", {})
    f = tmp_path / "w.bin"
    f.write_bytes(b"weights")
    assert filehash.file_sha256(f) == hashlib.sha256(b"weights").hexdigest()
