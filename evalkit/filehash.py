"""sha256 of files (the one hashing helper), remembered across runs by (path, size, mtime).

Manifests hash every file of a dataset (50,000 ImageNet images, 12,000 TokBench images) and
weights are checked against pinned sha256s on every run; the cache makes a resumed run cost a
``stat`` per file instead of a full read. A file that changes gets a new size or mtime, so a new
entry. Where the cache cannot be written (read-only), hashing still works, just uncached.
"""

from __future__ import annotations

import hashlib
import os
import sqlite3
import threading
from pathlib import Path

from evalkit.cache import cache_root

_memory: dict[tuple[str, int, int], str] = {}
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
            "CREATE TABLE IF NOT EXISTS sha (path TEXT, size INTEGER, mtime_ns INTEGER,"
            " sha256 TEXT, PRIMARY KEY (path, size, mtime_ns))"
        )
    except (OSError, sqlite3.Error):
        conn = None
    _db = (str(path), conn)
    return conn


def file_sha256(path: str | os.PathLike[str]) -> str:
    """The file's sha256, read from the cache when its path, size and mtime are unchanged."""
    p = Path(path).resolve()
    st = p.stat()
    key = (str(p), st.st_size, st.st_mtime_ns)
    if key in _memory:
        return _memory[key]
    with _lock:
        conn = _connection()
        row = None
        if conn is not None:
            try:
                row = conn.execute(
                    "SELECT sha256 FROM sha WHERE path=? AND size=? AND mtime_ns=?", key
                ).fetchone()
            except sqlite3.Error:
                row = None
    digest = row[0] if row else sha256_file(p)
    if not row and conn is not None:
        with _lock:
            try:
                conn.execute("INSERT OR REPLACE INTO sha VALUES (?, ?, ?, ?)", (*key, digest))
            except sqlite3.Error:
                pass  # an unwritable cache costs a re-hash next time, never a wrong hash
    _memory[key] = digest
    return digest
