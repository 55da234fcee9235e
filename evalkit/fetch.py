"""``evalkit fetch``: fill an offline store on a connected machine, for runs on one without network.

Every file a run needs (:mod:`evalkit.needs`) is fetched and verified exactly as a run would
fetch it (store, cache, else the source: :func:`evalkit.store.resolve_verified`), then placed at
its store path (a hard link to the cache copy where the file system allows), and its commit,
sha256 and verification are written to ``<store>/evalkit.lock.json``; dataset archives are
unpacked in their store folder. A compute node that runs with ``--store <store>`` then reads the
commits and checksums from that lock and needs no network. Files already in the store are checked
against the lock (and the card) instead of fetched again.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

from evalkit import hubfetch, lockfile, store, urlfetch
from evalkit.hubdata import unpack
from evalkit.needs import Need
from evalkit.types import WeightsFile


@dataclass(frozen=True)
class Row:
    """One line of fetch's table."""

    file: str
    size: int | None
    licence: str
    sha256: str
    verified: str
    source: str


def _place(src: Path, dst: Path) -> None:
    if dst.exists() and dst.resolve() == src.resolve():
        return
    dst.parent.mkdir(parents=True, exist_ok=True)
    tmp = dst.with_name(f".{dst.name}.fetching")
    tmp.unlink(missing_ok=True)
    try:
        tmp.hardlink_to(src.resolve())
    except OSError:
        shutil.copyfile(src, tmp)
    tmp.replace(dst)


def _lock_beside(root: Path, wf: WeightsFile, got: store.Verified) -> None:
    path = root / lockfile.LOCK_NAME
    if got.source:
        entry = {"sha256": got.sha256, "size": got.size, "verified": got.verified}
        try:
            lockfile.record_file(got.source, entry, path)
        except lockfile.LockMismatchError as exc:
            raise store.ChecksumError(str(exc)) from None
    if wf.hub_id and got.commit and got.commit != wf.revision:
        key = lockfile.revision_key(wf.repo_type, wf.hub_id, hubfetch.branch_of(wf))
        lockfile.record_revision(key, got.commit, path)


def fetch(root: Path, needs: list[Need], allow_unpinned: bool = False) -> list[Row]:
    """Fetch, verify and place every file of ``needs`` under the store ``root``; lock them."""
    store.set_store([root])
    rows = []
    for need in needs:
        for wf in need.files:
            got = store.resolve_verified(wf, need.what, allow_unpinned)
            dest = root / (wf.store_path or wf.filename)
            _place(got.path, dest)
            _lock_beside(root, wf, got)
            if wf.filename in need.unpack:
                marker = dest.parent / f".unpacked-{got.sha256[:16]}"
                if not marker.is_file():
                    unpack(dest, dest.parent)
                    marker.write_text(f"{dest.name}\n")
            rows.append(
                Row(
                    str(dest.relative_to(root)),
                    got.size,
                    need.licence,
                    got.sha256,
                    got.verified,
                    got.source,
                )
            )
    return rows


def _url_size(wf: WeightsFile) -> int | None:
    import httpx

    assert wf.url is not None
    try:
        r = httpx.head(urlfetch.routed(wf.url), follow_redirects=True, timeout=30)
    except httpx.HTTPError as exc:
        raise store.MissingAssetError(f"{wf.url}: {exc}") from None
    if r.status_code >= 400:
        raise store.MissingAssetError(f"{wf.url}: HTTP {r.status_code}")
    length = r.headers.get("Content-Length")
    return int(length) if length else None


def dry_run(root: Path, needs: list[Need]) -> list[Row]:
    """What :func:`fetch` would fetch, with sizes from the source; nothing is written."""
    rows = []
    for need in needs:
        for wf in need.files:
            rel = wf.store_path or wf.filename
            have = (root / rel).is_file()
            if wf.hub_id:
                commit, size, kind = hubfetch.dry_run(wf)
                how = f"Hub {kind} at {commit}"
            elif wf.url:
                size = _url_size(wf)
                prefix = urlfetch.sha256_prefix(wf.filename)
                how = (
                    "card sha256"
                    if wf.sha256
                    else f"sha256 prefix {prefix}"
                    if prefix
                    else "no checksum: needs --allow-unpinned"
                )
            else:
                size, how = None, "not downloadable"
            rows.append(
                Row(rel, size, need.licence, "(in the store)" if have else "", how, wf.describe())
            )
    return rows


def human(size: int | None) -> str:
    if size is None:
        return "?"
    value = float(size)
    for unit in ("B", "KB", "MB", "GB"):
        if value < 1000 or unit == "GB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1000
    return f"{size} B"


def table(rows: list[Row], dry: bool) -> str:
    """The table fetch prints: file, size, licence, then sha256 + how verified (or the plan)."""
    head = (
        "file",
        "size",
        "licence",
        "verified by" if dry else "sha256",
        "" if dry else "how verified",
    )
    body = [
        (
            r.file,
            human(r.size),
            r.licence,
            r.verified if dry else r.sha256,
            r.sha256 if dry else r.verified,
        )
        for r in rows
    ]
    widths = [max(len(str(x[i])) for x in [head, *body]) for i in range(4)]
    lines = []
    for line in [head, *body]:
        cells = [str(c).ljust(w) for c, w in zip(line[:4], widths, strict=True)]
        lines.append("  ".join([*cells, str(line[4])]).rstrip())
    total = sum(r.size or 0 for r in rows)
    unknown = sum(r.size is None for r in rows)
    note = f" ({unknown} of unknown size)" if unknown else ""
    lines.append(f"{len(rows)} files, {human(total)}{note}")
    return "\n".join(lines)
