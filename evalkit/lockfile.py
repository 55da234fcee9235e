"""The lock file: every downloaded file's commit, sha256 and how it was verified, in one place.

``<cache root>/evalkit.lock.json`` (and ``<store>/evalkit.lock.json`` beside an offline store that
``evalkit fetch`` filled) maps each source to what was verified the first time it was fetched:

    {"version": 1,
     "revisions": {"hub:model:org/repo@main": {"commit": "<40 hex>", "at": "<time>"}},
     "files": {"hub:model:org/repo@<commit>/model.safetensors":
                  {"sha256": "...", "size": 123, "verified": "...", "at": "<time>"},
               "url:https://...": {...}}}

A branch is resolved to a commit once; later runs use that commit, so they fetch the same bytes
(and need no network to know which). A file's sha256 is locked on first use; later runs and
``evalkit fetch`` compare against it, and a different content under a locked key is an error
naming both hashes. Shards and concurrent runs share the file: every update happens under an
exclusive ``flock`` on ``<lock>.flock``, re-reads the file, and replaces it atomically.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import fcntl
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from evalkit.cache import atomic_write_text, cache_root

LOCK_NAME = "evalkit.lock.json"
VERSION = 1


class LockMismatchError(RuntimeError):
    """A file's content differs from what the lock recorded for the same source and commit."""


def cache_lock_path() -> Path:
    return cache_root() / LOCK_NAME


def hub_key(repo_type: str, repo_id: str, commit: str, filename: str) -> str:
    return f"hub:{repo_type}:{repo_id}@{commit}/{filename}"


def revision_key(repo_type: str, repo_id: str, revision: str) -> str:
    return f"hub:{repo_type}:{repo_id}@{revision}"


def url_key(url: str) -> str:
    return f"url:{url}"


def now() -> str:
    return _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")


def read(path: Path) -> dict[str, Any]:
    """The lock's content ({} parts when absent or unreadable: a lock only ever adds checks)."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        data = {}
    if not isinstance(data, dict):
        data = {}
    data.setdefault("version", VERSION)
    data.setdefault("revisions", {})
    data.setdefault("files", {})
    return data


@contextlib.contextmanager
def _exclusive(path: Path) -> Iterator[None]:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path.with_name(path.name + ".flock"), "a+") as handle:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


def update(path: Path, change: Callable[[dict[str, Any]], None]) -> dict[str, Any]:
    """Apply ``change`` to the lock at ``path`` under its file lock; write it atomically."""
    with _exclusive(path):
        data = read(path)
        change(data)
        atomic_write_text(path, json.dumps(data, indent=1, sort_keys=True) + "\n")
    return data


def lock_paths(stores: list[Path]) -> list[Path]:
    """Every lock that applies: the cache's, then one beside each store directory."""
    return [cache_lock_path(), *(d / LOCK_NAME for d in stores)]


def find_file(key: str, stores: list[Path]) -> tuple[dict[str, Any], Path] | None:
    """The first lock entry for ``key`` (cache lock, then store locks) and the lock it is in."""
    for path in lock_paths(stores):
        if path.is_file():
            entry = read(path)["files"].get(key)
            if isinstance(entry, dict) and entry.get("sha256"):
                return entry, path
    return None


def find_revision(key: str, stores: list[Path]) -> str | None:
    for path in lock_paths(stores):
        if path.is_file():
            entry = read(path)["revisions"].get(key)
            if isinstance(entry, dict) and entry.get("commit"):
                return str(entry["commit"])
    return None


def record_file(key: str, entry: dict[str, Any], path: Path | None = None) -> dict[str, Any]:
    """Lock ``entry`` (sha256, size, verified, ...) under ``key``; return the entry now locked.

    An existing entry with the same sha256 is kept as it was (its first-use note stays); one with
    a different sha256 raises :class:`LockMismatchError` naming both.
    """
    path = path or cache_lock_path()
    kept: dict[str, Any] = {}

    def change(data: dict[str, Any]) -> None:
        old = data["files"].get(key)
        if isinstance(old, dict) and old.get("sha256"):
            if old["sha256"] != entry["sha256"]:
                raise LockMismatchError(mismatch_message(key, old["sha256"], entry["sha256"], path))
            kept.update(old)
            return
        data["files"][key] = {**entry, "at": now()}
        kept.update(data["files"][key])

    update(path, change)
    return kept


def record_revision(key: str, commit: str, path: Path | None = None) -> str:
    """Lock branch ``key`` to ``commit`` unless already locked; return the locked commit."""
    path = path or cache_lock_path()
    locked: list[str] = []

    def change(data: dict[str, Any]) -> None:
        old = data["revisions"].get(key)
        if isinstance(old, dict) and old.get("commit"):
            locked.append(str(old["commit"]))
            return
        data["revisions"][key] = {"commit": commit, "at": now()}
        locked.append(commit)

    update(path, change)
    return locked[0]


def mismatch_message(key: str, locked: str, actual: str, path: Path) -> str:
    return (
        f"{key}: the content differs from the locked one: sha256 {actual}, locked "
        f"{locked} (in {path}). The source changed under a locked commit or the copy is "
        "corrupt; delete the entry in the lock only if the change is intended."
    )


def describe(entry: dict[str, Any]) -> str:
    return str(entry.get("verified") or "locked")
