"""sha256 of files (the one hashing helper), remembered across runs by what ``stat`` says.

Manifests hash every file of a dataset (50,000 ImageNet images, 12,000 TokBench images, a
samples folder) and weights are checked against pinned sha256s on every run; the cache makes a
resumed run cost a ``stat`` per file instead of a full read. The key is (path, size, mtime,
ctime, inode): size and mtime alone go stale when a file is overwritten by one of the same size
whose mtime is then restored (``cp -p``, ``touch -r``, rsync); the ctime changes on every write and
cannot be set back, and a file replaced by rename gets a new inode. Where the cache cannot be
written (read-only), hashing still works, just uncached.
"""

from __future__ import annotations

import hashlib
import os
import sqlite3
import threading
from collections.abc import Iterable
from pathlib import Path

from evalkit.cache import cache_root

_memory: dict[tuple[str, int, int, int, int], str] = {}
_lock = threading.Lock()
_db: tuple[str, sqlite3.Connection | None] | None = None


def sha256_file(path: str | os.PathLike[str], chunk: int = 1 << 20) -> str:
    """sha256 of a file's bytes, read in chunks (uncached: see :func:`file_sha256`)."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(chunk):
            h.update(block)
    return h.hexdigest()


def _connection() -> sqlite3.Connection | None:
    global _db
    path = cache_root() / "file-sha256.sqlite"
    if _db is not None and _db[0] == str(path) and _db[1] is not None:
        return _db[1]
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(str(path), timeout=30, isolation_level=None, check_same_thread=False)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=OFF")
        conn.execute(
            "CREATE TABLE IF NOT EXISTS sha_stat (path TEXT, size INTEGER, mtime_ns INTEGER,"
            " ctime_ns INTEGER, inode INTEGER, sha256 TEXT,"
            " PRIMARY KEY (path, size, mtime_ns, ctime_ns, inode))"
        )
    except (OSError, sqlite3.Error):
        conn = None
    _db = (str(path), conn)
    return conn


def file_sha256(path: str | os.PathLike[str]) -> str:
    """The file's sha256, read from the cache when its path, size, mtime, ctime and inode are
    unchanged."""
    p = Path(path).resolve()
    st = p.stat()
    key = (str(p), st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino)
    if key in _memory:
        return _memory[key]
    with _lock:
        conn = _connection()
        row = None
        if conn is not None:
            try:
                row = conn.execute(
                    "SELECT sha256 FROM sha_stat WHERE path=? AND size=? AND mtime_ns=?"
                    " AND ctime_ns=? AND inode=?",
                    key,
                ).fetchone()
            except sqlite3.Error:
                row = None
    digest = row[0] if row else sha256_file(p)
    if not row and conn is not None:
        with _lock:
            try:
                conn.execute(
                    "INSERT OR REPLACE INTO sha_stat VALUES (?, ?, ?, ?, ?, ?)", (*key, digest)
                )
            except sqlite3.Error:
                pass  # an unwritable cache costs a re-hash next time, never a wrong hash
    _memory[key] = digest
    return digest


def files_manifest(entries: Iterable[tuple[str, str | os.PathLike[str]]]) -> str:
    """sha256 over ``name\\0<content sha256>\\n`` of every (name, file), in the order given: what
    a set of files holds, independent of where it lies and of its timestamps."""
    h = hashlib.sha256()
    for name, path in entries:
        h.update(f"{name}\0{file_sha256(path)}\n".encode())
    return h.hexdigest()
