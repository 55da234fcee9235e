"""Hugging Face Hub files at a known commit, verified against what the Hub reports for it.

The commit is the card's pin when it has one; otherwise the branch is resolved to a commit the
first time (``HfApi.repo_info``) and locked (:mod:`evalkit.lockfile`), so every later run reads
the same commit without asking. Files come through huggingface_hub's own client
(``hf_hub_download`` into ``<cache root>/hub``) and are then checked against the Hub's tree listing
for that commit: the LFS sha256 for large files, the git blob id for small ones; then against the
card's sha256 pin and the lock. A file that fails is removed from the cache before the error is
raised, so nothing unverified is left behind.

``$HF_ENDPOINT`` is read at call time (tests point it at a local Hub) and ``$EVALKIT_OFFLINE``
keeps every call away from the network.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

from evalkit import lockfile
from evalkit.assets import (
    PINNED,
    UNVERIFIED_LOCAL,
    ChecksumError,
    GatedAssetError,
    MissingAssetError,
    Verified,
    gated_message,
    git_blob_sha1,
    mismatch,
    offline,
    store_dirs,
)
from evalkit.cache import cache_root
from evalkit.filehash import file_sha256
from evalkit.types import WeightsFile

COMMIT = re.compile(r"[0-9a-f]{40}")
DEFAULT_ENDPOINT = "https://huggingface.co"


@dataclass(frozen=True)
class HubEntry:
    """What the Hub's tree listing says about one file at one commit."""

    size: int
    blob_id: str
    lfs_sha256: str | None


def endpoint() -> str:
    return os.environ.get("HF_ENDPOINT", DEFAULT_ENDPOINT).rstrip("/")


def hub_cache() -> Path:
    return cache_root() / "hub"


def snapshot_dir(repo_id: str, repo_type: str, commit: str) -> Path:
    """huggingface_hub's cache layout: ``<cache>/<type>s--<org>--<name>/snapshots/<commit>``."""
    folder = f"{repo_type}s--{repo_id.replace('/', '--')}"
    return hub_cache() / folder / "snapshots" / commit


def branch_of(wf: WeightsFile) -> str:
    return wf.revision or "main"


def locked_commit(wf: WeightsFile) -> str | None:
    """The commit to read, without any network: the card's pin, else the lock's."""
    assert wf.hub_id is not None
    if wf.revision and COMMIT.fullmatch(wf.revision):
        return wf.revision
    key = lockfile.revision_key(wf.repo_type, wf.hub_id, branch_of(wf))
    return lockfile.find_revision(key, store_dirs())


def reachable(url: str, timeout: float = 3.0) -> bool:
    """A fast DNS check, so an offline machine fails at once instead of after minutes of retries."""
    import socket
    from urllib.parse import urlparse

    host = urlparse(url).hostname or ""
    old = socket.getdefaulttimeout()
    try:
        socket.setdefaulttimeout(timeout)
        socket.getaddrinfo(host, 443)
        return True
    except OSError:
        return False
    finally:
        socket.setdefaulttimeout(old)


def _friendly(exc: Exception, repo_id: str, what: str) -> MissingAssetError:
    """huggingface_hub's errors as one clear error of ours."""
    from huggingface_hub.errors import (
        EntryNotFoundError,
        GatedRepoError,
        RepositoryNotFoundError,
        RevisionNotFoundError,
    )

    if isinstance(exc, GatedRepoError):
        return GatedAssetError(gated_message(repo_id))
    if isinstance(exc, RevisionNotFoundError):
        return MissingAssetError(f"{what}: the Hub has no such revision of {repo_id}")
    if isinstance(exc, EntryNotFoundError):
        return MissingAssetError(f"{what}: the Hub has no such file in {repo_id}")
    if isinstance(exc, RepositoryNotFoundError):
        return MissingAssetError(
            f"{what}: {repo_id} is not on the Hub or is private (a private repository needs a "
            "token: see `hf auth login` / HF_TOKEN)"
        )
    return MissingAssetError(f"{what}: {type(exc).__name__}: {exc}")


def resolve_commit(wf: WeightsFile, record: bool = True) -> str:
    """The commit to read: the card's pin, the lock's, else the branch resolved now (and locked,
    unless ``record`` is False: a dry run changes nothing)."""
    assert wf.hub_id is not None
    commit = locked_commit(wf)
    if commit is not None:
        return commit
    if offline():
        raise MissingAssetError(
            f"{wf.hub_id}@{branch_of(wf)}: no commit is pinned or locked, and $EVALKIT_OFFLINE "
            "forbids asking the Hub"
        )
    from huggingface_hub import HfApi

    try:
        info = HfApi(endpoint=endpoint()).repo_info(
            wf.hub_id, repo_type=wf.repo_type, revision=branch_of(wf)
        )
    except Exception as exc:  # noqa: BLE001 - every client error becomes one message
        raise _friendly(exc, wf.hub_id, f"{wf.hub_id}@{branch_of(wf)}") from None
    if not info.sha or not COMMIT.fullmatch(info.sha):
        raise MissingAssetError(f"{wf.hub_id}: the Hub gave no commit for {branch_of(wf)}")
    if not record:
        return info.sha
    key = lockfile.revision_key(wf.repo_type, wf.hub_id, branch_of(wf))
    return lockfile.record_revision(key, info.sha)


_trees: dict[tuple[str, str, str], dict[str, HubEntry]] = {}


def hub_tree(repo_id: str, repo_type: str, commit: str) -> dict[str, HubEntry]:
    """Every file of the repository at ``commit`` with its size, blob id and LFS sha256."""
    key = (repo_type, repo_id, commit)
    if key not in _trees:
        from huggingface_hub import HfApi
        from huggingface_hub.hf_api import RepoFile

        try:
            listing = HfApi(endpoint=endpoint()).list_repo_tree(
                repo_id, revision=commit, repo_type=repo_type, recursive=True
            )
            _trees[key] = {
                f.path: HubEntry(f.size, f.blob_id, f.lfs.sha256 if f.lfs else None)
                for f in listing
                if isinstance(f, RepoFile)
            }
        except Exception as exc:  # noqa: BLE001
            raise _friendly(exc, repo_id, f"{repo_id}@{commit}") from None
    return _trees[key]


def hub_checksum(entry: HubEntry) -> tuple[str, str]:
    """(kind, value) the Hub publishes for a file: its LFS sha256, else its git blob id."""
    return ("LFS sha256", entry.lfs_sha256) if entry.lfs_sha256 else ("git blob id", entry.blob_id)


def _evict(path: Path) -> None:
    """Remove a cached file that failed verification: the snapshot link and the blob it names."""
    blob = path.resolve()
    path.unlink(missing_ok=True)
    if blob != path:
        blob.unlink(missing_ok=True)


def _verify_against_hub(path: Path, name: str, entry: HubEntry, commit: str) -> str:
    """Check ``path`` against the Hub's checksum for it; return how it was verified."""
    kind, expected = hub_checksum(entry)
    actual = file_sha256(path) if entry.lfs_sha256 else git_blob_sha1(path)
    if actual != expected:
        raise mismatch(name, f"the Hub reports {kind}", expected, actual, f" (commit {commit})")
    return f"first use, verified against the Hub at commit {commit} ({kind})"


def _check_pins(path: Path, wf: WeightsFile, name: str) -> None:
    if wf.sha256 is not None and (actual := file_sha256(path)) != wf.sha256:
        raise mismatch(name, "the card pins sha256", wf.sha256, actual)
    if (
        wf.sha256 is None
        and wf.git_blob is not None
        and (blob := git_blob_sha1(path)) != wf.git_blob
    ):
        raise mismatch(name, "the card pins git blob id", wf.git_blob, blob)


def _lock(key: str, path: Path, name: str, verified: str) -> dict[str, object]:
    sha = file_sha256(path)
    try:
        return lockfile.record_file(
            key, {"sha256": sha, "size": path.stat().st_size, "verified": verified}
        )
    except lockfile.LockMismatchError as exc:
        raise ChecksumError(f"{name}: {exc}") from None


def check_local(path: Path, wf: WeightsFile, commit: str | None, evict: bool) -> Verified:
    """A local copy of a Hub file, checked against the pin and the lock (no network unless the
    copy has neither, then against the Hub when online). ``evict`` removes a cache copy that
    fails; a store copy is the user's and is left alone."""
    assert wf.hub_id is not None
    name = f"{wf.hub_id}/{wf.filename}"
    sha = file_sha256(path)
    try:
        _check_pins(path, wf, name)
        if commit is None:
            return Verified(path, wf.filename, sha, path.stat().st_size, "", None, UNVERIFIED_LOCAL)
        key = lockfile.hub_key(wf.repo_type, wf.hub_id, commit, wf.filename)
        found = lockfile.find_file(key, store_dirs())
        if found is not None:
            entry, lock_path = found
            if entry["sha256"] != sha:
                raise ChecksumError(
                    f"{name}: " + lockfile.mismatch_message(key, entry["sha256"], sha, lock_path)
                )
            verified = lockfile.describe(entry)
        elif wf.sha256 is not None:
            verified = str(_lock(key, path, name, PINNED)["verified"])
        elif offline():
            verified = UNVERIFIED_LOCAL
        else:
            try:
                entry_hub = hub_tree(wf.hub_id, wf.repo_type, commit).get(wf.filename)
            except MissingAssetError:  # the Hub cannot be asked: the copy stays unverified
                entry_hub = None
            if entry_hub is None:
                verified = UNVERIFIED_LOCAL
            else:
                how = _verify_against_hub(path, name, entry_hub, commit)
                verified = str(_lock(key, path, name, how)["verified"])
    except ChecksumError as exc:
        if evict:
            _evict(path)
            raise ChecksumError(f"{exc} The cached copy was removed.") from None
        raise
    return Verified(path, wf.filename, sha, path.stat().st_size, key, commit, verified)


def cached(wf: WeightsFile) -> Path | None:
    """The download cache's copy of ``wf`` at its pinned or locked commit, if any (no network)."""
    assert wf.hub_id is not None
    commit = locked_commit(wf)
    if commit is None:
        return None
    path = snapshot_dir(wf.hub_id, wf.repo_type, commit) / wf.filename
    return path if path.is_file() else None


def fetch(wf: WeightsFile) -> Verified:
    """``wf`` from the Hub (or the cache), verified and locked; raises MissingAssetError,
    GatedAssetError or ChecksumError (one line each)."""
    assert wf.hub_id is not None
    commit = resolve_commit(wf)
    path = snapshot_dir(wf.hub_id, wf.repo_type, commit) / wf.filename
    if path.is_file():
        return check_local(path, wf, commit, evict=True)
    if offline():
        raise MissingAssetError(f"{wf.hub_id}/{wf.filename}: $EVALKIT_OFFLINE is set")
    name = f"{wf.hub_id}/{wf.filename}"
    entry = hub_tree(wf.hub_id, wf.repo_type, commit).get(wf.filename)
    if entry is None:
        raise MissingAssetError(f"{name}: the Hub has no such file at commit {commit}")
    from huggingface_hub import hf_hub_download

    try:
        got = Path(
            hf_hub_download(
                wf.hub_id,
                wf.filename,
                revision=commit,
                repo_type=wf.repo_type,
                cache_dir=str(hub_cache()),
                endpoint=endpoint(),
                etag_timeout=10,
            )
        )
    except Exception as exc:  # noqa: BLE001
        raise _friendly(exc, wf.hub_id, name) from None
    try:
        _check_pins(got, wf, name)
        how = PINNED if wf.sha256 else _verify_against_hub(got, name, entry, commit)
        key = lockfile.hub_key(wf.repo_type, wf.hub_id, commit, wf.filename)
        verified = str(_lock(key, got, name, how)["verified"])
    except ChecksumError as exc:
        _evict(got)
        raise ChecksumError(f"{exc} Nothing was cached.") from None
    return Verified(got, wf.filename, file_sha256(got), got.stat().st_size, key, commit, verified)


def dry_run(wf: WeightsFile) -> tuple[str, int | None, str]:
    """(commit, size, checksum kind) the Hub reports for ``wf``, without downloading it."""
    assert wf.hub_id is not None
    commit = resolve_commit(wf, record=False)
    entry = hub_tree(wf.hub_id, wf.repo_type, commit).get(wf.filename)
    if entry is None:
        raise MissingAssetError(f"{wf.hub_id}/{wf.filename}: the Hub has no such file at {commit}")
    return commit, entry.size, hub_checksum(entry)[0]
