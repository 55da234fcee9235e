"""Publisher URLs (GitHub releases, docTR's, OpenMMLab's, torch hub's): download, resume, verify.

A file is verified by the card's sha256 (or git blob id) pin; else by the sha256 prefix that the
publisher put in its file name (``parseq-56125471.pt``, ``...-743b7d99.pth``: the torch hub and
docTR convention), after which its full sha256 is locked on first use; else it has no checksum of
any kind and is fetched only with ``--allow-unpinned`` (and the rows say so). Downloads go to
``<file>.part`` first and resume from where they stopped (HTTP Range), then are checked, then
renamed into place: a file that fails verification never reaches the cache.

:func:`route_urls` sends URLs to another base (tests serve them from a local server).
"""

from __future__ import annotations

import contextlib
import hashlib
import re
import time
from collections.abc import Iterator
from pathlib import Path

from evalkit import lockfile
from evalkit.assets import (
    PINNED,
    UNPINNED,
    UNVERIFIED_LOCAL,
    ChecksumError,
    MissingAssetError,
    UnpinnedDownloadError,
    Verified,
    git_blob_sha1,
    mismatch,
    offline,
    store_dirs,
)
from evalkit.cache import cache_root
from evalkit.filehash import file_sha256, sha256_file
from evalkit.types import WeightsFile

PREFIX = re.compile(r"-([0-9a-f]{8,64})\.[A-Za-z0-9]+$")
RETRIES = 5

_routes: list[tuple[str, str]] = []


@contextlib.contextmanager
def route_urls(mapping: dict[str, str]) -> Iterator[None]:
    """Fetch every URL that starts with a key from its value instead (tests only)."""
    saved = list(_routes)
    _routes[:0] = sorted(mapping.items(), key=lambda kv: -len(kv[0]))
    try:
        yield
    finally:
        _routes[:] = saved


def routed(url: str) -> str:
    for prefix, base in _routes:
        if url.startswith(prefix):
            return base + url[len(prefix) :]
    return url


def sha256_prefix(filename: str) -> str | None:
    """The hex sha256 prefix in a publisher's file name (torch hub / docTR convention)."""
    m = PREFIX.search(Path(filename).name)
    return m.group(1) if m else None


def cache_path(wf: WeightsFile) -> Path:
    assert wf.url is not None
    key = hashlib.sha256(wf.url.encode()).hexdigest()[:16]
    return cache_root() / "downloads" / key / Path(wf.filename).name


def _expected(wf: WeightsFile, path: Path, actual: str) -> str | None:
    """How ``path`` (sha256 ``actual``) meets the card's checks, or raise naming both hashes."""
    name = wf.filename
    if wf.sha256 is not None:
        if actual != wf.sha256:
            raise mismatch(name, "the card pins sha256", wf.sha256, actual)
        return PINNED
    if wf.git_blob is not None:
        if (blob := git_blob_sha1(path)) != wf.git_blob:
            raise mismatch(name, "the card pins git blob id", wf.git_blob, blob)
        return PINNED
    prefix = sha256_prefix(wf.filename)
    if prefix is not None:
        if not actual.startswith(prefix):
            raise mismatch(name, "its file name gives the sha256 prefix", prefix, actual)
        return f"first use, sha256 prefix {prefix} in the publisher's file name"
    return None


def _lock(wf: WeightsFile, path: Path, sha: str, verified: str) -> str:
    assert wf.url is not None
    entry = {"sha256": sha, "size": path.stat().st_size, "verified": verified}
    try:
        return str(lockfile.record_file(lockfile.url_key(wf.url), entry)["verified"])
    except lockfile.LockMismatchError as exc:
        raise ChecksumError(f"{wf.filename}: {exc}") from None


def check_local(path: Path, wf: WeightsFile, evict: bool) -> Verified:
    """A local copy, checked against the pin / name prefix and the lock (no network)."""
    assert wf.url is not None
    key = lockfile.url_key(wf.url)
    sha = file_sha256(path)
    try:
        how = _expected(wf, path, sha)
        found = lockfile.find_file(key, store_dirs())
        if found is not None:
            entry, lock_path = found
            if entry["sha256"] != sha:
                raise ChecksumError(
                    f"{wf.filename}: "
                    + lockfile.mismatch_message(key, entry["sha256"], sha, lock_path)
                )
            verified = lockfile.describe(entry)
        elif how is not None:
            verified = _lock(wf, path, sha, how)
        else:
            verified = UNVERIFIED_LOCAL
    except ChecksumError as exc:
        if evict:
            path.unlink(missing_ok=True)
            raise ChecksumError(f"{exc} The cached copy was removed.") from None
        raise
    return Verified(path, wf.filename, sha, path.stat().st_size, key, None, verified)


def has_checksum(wf: WeightsFile) -> bool:
    """Whether a download of ``wf`` can be verified (a pin, a name prefix or a lock entry)."""
    assert wf.url is not None
    return bool(
        wf.sha256
        or wf.git_blob
        or sha256_prefix(wf.filename)
        or lockfile.find_file(lockfile.url_key(wf.url), store_dirs())
    )


def fetch(wf: WeightsFile, allow_unpinned: bool = False) -> Verified:
    """``wf`` from its URL (or the cache), verified and locked."""
    assert wf.url is not None
    dest = cache_path(wf)
    if dest.is_file():
        return check_local(dest, wf, evict=True)
    if offline():
        raise MissingAssetError(f"{wf.url}: $EVALKIT_OFFLINE is set")
    unpinned = not has_checksum(wf)
    if unpinned and not allow_unpinned:
        raise UnpinnedDownloadError(
            f"{wf.filename}: its publisher gives no checksum of any kind (no sha256 in the card, "
            "none in the file name, no lock entry), so a download could not be verified; pass "
            "--allow-unpinned (recorded in the rows) to download it anyway, or supply the file"
        )
    dest.parent.mkdir(parents=True, exist_ok=True)
    part = dest.with_name(dest.name + ".part")
    download(routed(wf.url), part)
    sha = sha256_file(part)
    try:
        how = _expected(wf, part, sha)
        found = lockfile.find_file(lockfile.url_key(wf.url), store_dirs())
        if found is not None and found[0]["sha256"] != sha:
            raise ChecksumError(
                f"{wf.filename}: "
                + lockfile.mismatch_message(
                    lockfile.url_key(wf.url), found[0]["sha256"], sha, found[1]
                )
            )
    except ChecksumError as exc:
        part.unlink(missing_ok=True)
        raise ChecksumError(f"{exc} Nothing was cached.") from None
    part.replace(dest)
    verified = _lock(wf, dest, sha, how or UNPINNED)
    return Verified(
        dest, wf.filename, sha, dest.stat().st_size, lockfile.url_key(wf.url), None, verified
    )


def download(url: str, part: Path, retries: int = RETRIES) -> None:
    """GET ``url`` into ``part``, resuming from its current size (Range) after any cut."""
    import httpx

    for attempt in range(retries + 1):
        have = part.stat().st_size if part.is_file() else 0
        headers = {"Range": f"bytes={have}-"} if have else {}
        try:
            with httpx.stream(
                "GET", url, headers=headers, follow_redirects=True, timeout=30
            ) as response:
                if response.status_code == 416 and have:  # nothing left to fetch
                    return
                if response.status_code >= 400:
                    raise MissingAssetError(f"{url}: HTTP {response.status_code}")
                mode = "ab" if have and response.status_code == 206 else "wb"
                expected = response.headers.get("Content-Length")
                got = 0
                with open(part, mode) as out:
                    for chunk in response.iter_bytes():  # as it arrives: a cut keeps it all
                        out.write(chunk)
                        got += len(chunk)
                if expected is not None and got != int(expected):
                    raise httpx.RemoteProtocolError(f"got {got} of {expected} bytes")
                return
        except (httpx.TransportError, httpx.RemoteProtocolError) as exc:
            if attempt == retries:
                raise MissingAssetError(
                    f"{url}: download failed after {retries} retries ({exc}); "
                    f"{part} keeps what arrived and the next attempt resumes from it"
                ) from None
            time.sleep(min(0.2 * 2**attempt, 2.0))
