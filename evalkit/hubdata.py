"""A Hub dataset as one local folder: its listed files at one verified commit, archives unpacked.

Benchmark cards list the files a run needs (``[dataset] hub_files``) and which of them are zip
archives to unpack (``archives``). The files are fetched like any Hub file (one commit, each
verified against the Hub and locked: :mod:`evalkit.hubfetch`); the folder the benchmark reads is
``<cache root>/datasets/<org>--<name>@<commit>/``, built next to its final place and renamed into
it when complete (a ``.revision`` file inside names the commit), so a cut run never leaves half a
dataset behind.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import zipfile
from collections.abc import Sequence
from pathlib import Path, PurePosixPath

from evalkit import store
from evalkit.assets import MissingAssetError, Verified
from evalkit.cache import cache_root
from evalkit.types import WeightsFile


def folder_files(
    hub_id: str,
    revision: str | None,
    store_path: str,
    files: Sequence[str],
    repo_type: str = "dataset",
) -> list[WeightsFile]:
    """A card's file list as WeightsFiles, each at ``<store>/<store_path>/<file>``."""
    return [
        WeightsFile(
            filename=f,
            store_path=f"{store_path}/{f}",
            hub_id=hub_id,
            revision=revision or None,
            repo_type=repo_type,
        )
        for f in files
    ]


def unpack(archive: Path, into: Path) -> None:
    """Extract a zip, refusing members that would land outside ``into``."""
    into = into.resolve()
    with zipfile.ZipFile(archive) as zf:
        for member in zf.infolist():
            target = (into / PurePosixPath(member.filename)).resolve()
            if into not in target.parents and target != into:
                raise MissingAssetError(f"{archive}: unsafe member path {member.filename!r}")
        zf.extractall(into)


def _place(src: Path, dst: Path) -> None:
    """Put ``src`` at ``dst`` without copying when the file system allows (hard link)."""
    dst.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.link(src.resolve(), dst)
    except OSError:
        shutil.copyfile(src, dst)


def build_folder(
    root: Path, got: Sequence[Verified], files: Sequence[str], archives: Sequence[str]
) -> Path:
    """Lay ``got`` (the verified files, in ``files`` order) out under ``root`` with every archive
    unpacked; built in a temporary folder beside it and renamed into place."""
    if (root / ".revision").is_file():
        return root
    root.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{root.name}.", dir=root.parent))
    try:
        for name, v in zip(files, got, strict=True):
            if name in archives:
                unpack(v.path, tmp)
            else:
                _place(v.path, tmp / name)
        (tmp / ".revision").write_text(f"{got[0].commit or ''}\n")
        try:
            tmp.rename(root)
        except OSError:  # another process finished first: theirs is as good
            if not (root / ".revision").is_file():
                raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return root


def dataset_folder(
    what: str,
    hub_id: str,
    revision: str | None,
    store_path: str,
    files: Sequence[str],
    archives: Sequence[str],
) -> Path:
    """The dataset's folder in the download cache (fetched, verified and unpacked if needed)."""
    wfs = folder_files(hub_id, revision, store_path, files)
    got = store.resolve_all(wfs, what, use_store=False)
    commit = got[0].commit or "unknown"
    root = cache_root() / "datasets" / f"{hub_id.replace('/', '--')}@{commit}"
    return build_folder(root, got, files, archives)


def verify_store_copy(
    what: str, hub_id: str, revision: str | None, store_path: str, files: Sequence[str]
) -> list[Verified]:
    """Check the listed files a store copy holds (the lock beside the store, or the card), so
    the rows say what was read; files the store lacks (an unpacked archive) are skipped."""
    out = []
    for wf in folder_files(hub_id, revision, store_path, files):
        if any((d / (wf.store_path or "")).is_file() for d in store.store_dirs()):
            out.append(store.resolve_verified(wf, what))
    return out


def extract_member(archive: Verified, member: str) -> Path:
    """One file of a verified zip, unpacked once into the cache (keyed by the zip's sha256)."""
    dest = cache_root() / "extracted" / archive.sha256[:16] / PurePosixPath(member).name
    if dest.is_file():
        return dest
    dest.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{dest.name}.", dir=dest.parent)
    try:
        with zipfile.ZipFile(archive.path) as zf, os.fdopen(fd, "wb") as out:
            try:
                src = zf.open(member)
            except KeyError:
                raise MissingAssetError(f"{archive.name} has no member {member}") from None
            with src:
                shutil.copyfileobj(src, out)
        os.replace(tmp, dest)
    finally:
        Path(tmp).unlink(missing_ok=True)
    return dest
