"""Finding weights and data: the offline store first, then the download cache, then the source.

The store is a directory (or several, ``os.pathsep``-separated) named by ``$EVALKIT_STORE`` or the
CLI's ``--store``. Hub files are fetched at the card's pinned commit, or at the commit the branch
had on first use (locked), and verified against what the Hub reports for that commit
(:mod:`evalkit.hubfetch`); publisher URLs are verified against a card pin or the sha256 prefix in
their file name (:mod:`evalkit.urlfetch`). What was verified, and how, is locked in
``<cache root>/evalkit.lock.json`` (:mod:`evalkit.lockfile`) and every later use is checked
against it. Every miss ends in one :class:`MissingAssetError` naming every missing file, where each
was looked for, and the one command that fetches them all.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

from evalkit import hubfetch, urlfetch
from evalkit.assets import (
    OFFLINE_ENV,
    PINNED,
    STORE_ENV,
    UNVERIFIED_LOCAL,
    ChecksumError,
    GatedAssetError,
    MissingAssetError,
    MissingFileError,
    UnpinnedDownloadError,
    Verified,
    fetch_command,
    git_blob_sha1,
    hub_download_command,
    mismatch,
    note_used,
    offline,
    recording,
    run_context,
    set_store,
    store_dirs,
)
from evalkit.cache import cache_root
from evalkit.filehash import file_sha256
from evalkit.types import ModelCard, WeightsFile

__all__ = [
    "OFFLINE_ENV",
    "STORE_ENV",
    "ChecksumError",
    "GatedAssetError",
    "MissingAssetError",
    "UnpinnedDownloadError",
    "Verified",
    "allowing_unpinned",
    "cache_root",
    "git_blob_sha1",
    "is_pinned",
    "loaded_weights",
    "local_path",
    "offline",
    "resolve",
    "resolve_all",
    "resolve_dir",
    "resolve_verified",
    "set_store",
    "store_dirs",
    "verify",
]

_allow_unpinned = False
_reachable = hubfetch.reachable  # the name judges used before hubfetch existed


@contextlib.contextmanager
def allowing_unpinned(allow: bool = True) -> Iterator[None]:
    """Allow downloads of URLs with no checksum of any kind inside this block
    (``--allow-unpinned``); the rows then say those files were not verified."""
    global _allow_unpinned
    old, _allow_unpinned = _allow_unpinned, bool(allow) or _allow_unpinned
    try:
        yield
    finally:
        _allow_unpinned = old


def run_scope(fn: Callable[..., Any]) -> Callable[..., Any]:
    """For ``run`` and ``merge``: adds the keyword ``allow_unpinned`` (see
    :func:`allowing_unpinned`), names the run in missing-file messages, and records every file
    the run reads (the rows' ``provenance``)."""
    import functools

    @functools.wraps(fn)
    def wrapper(*args: Any, allow_unpinned: bool = False, **kwargs: Any) -> Any:
        named = [*args, kwargs.get("benchmark"), kwargs.get("model")][:2]  # merge: a folder
        ctx = run_context(*named) if all(isinstance(a, str) for a in named) else recording()
        with allowing_unpinned(allow_unpinned), ctx, recording():
            return fn(*args, **kwargs)

    return wrapper


def is_pinned(wf: WeightsFile) -> bool:
    """Whether the card itself pins the file's content (sha256 or git blob id)."""
    return bool(wf.sha256 or wf.git_blob)


def verify(path: Path, expected: str | None, git_blob: str | None = None) -> Path:
    """Check ``path`` against ``expected`` sha256 (cached by path, size and mtime), or, with no
    sha256 pinned, against its pinned git blob id."""
    if expected is None:
        if git_blob is not None and (actual := git_blob_sha1(path)) != git_blob:
            raise mismatch(str(path), "the card pins git blob id", git_blob, actual)
        return path
    if (actual := file_sha256(path)) != expected:
        raise mismatch(str(path), "the card pins sha256", expected, actual)
    return path


PACKAGE_DATA = Path(__file__).resolve().parent / "data"


def packaged_path(wf: WeightsFile) -> Path | None:
    """Where the package's own copy of ``wf`` is (``evalkit/data/<packaged>``), if it ships one."""
    return PACKAGE_DATA / wf.packaged if wf.packaged else None


def _store_candidates(wf: WeightsFile) -> list[Path]:
    rel = wf.store_path or wf.filename
    return [d / rel for d in store_dirs()]


def _cache_candidate(wf: WeightsFile) -> Path | None:
    """Where the download cache keeps ``wf`` (None: a Hub file whose commit is not known yet)."""
    if wf.hub_id:
        commit = hubfetch.locked_commit(wf)
        if commit is None:
            return None
        return hubfetch.snapshot_dir(wf.hub_id, wf.repo_type, commit) / wf.filename
    if wf.url:
        return urlfetch.cache_path(wf)
    return None


def local_path(wf: WeightsFile) -> Path | None:
    """The first local copy of ``wf`` (store, package, download cache), unverified; no network."""
    packaged = packaged_path(wf)
    cached = _cache_candidate(wf)
    for path in [*_store_candidates(wf), *([packaged] if packaged else []), cached]:
        if path is not None and path.is_file():
            return path
    return None


def searched_places(wf: WeightsFile) -> list[str]:
    """Every place ``wf`` is looked for, in order, as the messages print them."""
    places = [str(p) for p in _store_candidates(wf)]
    if not places:
        places.append(f"(no store set: ${STORE_ENV} is empty and no --store was given)")
    if (packaged := packaged_path(wf)) is not None:
        places.append(str(packaged))
    cached = _cache_candidate(wf)
    if cached is not None:
        places.append(str(cached))
    elif wf.hub_id:
        places.append(f"{hubfetch.hub_cache()} (no commit pinned or locked yet)")
    return places


def how_to_supply(wf: WeightsFile) -> str:
    rel = wf.store_path or wf.filename
    lines = [
        f"  {fetch_command()}   (on a connected machine: fetches, verifies and locks them all)",
        f"  or put the file at <store>/{rel} and point ${STORE_ENV} (or --store) at <store>",
    ]
    if wf.package:
        lines.insert(0, f"  pip install {wf.package}")
    if wf.hub_id:
        parent = str(Path(rel).parent)
        rev = hubfetch.locked_commit(wf) or wf.revision
        cmd = hub_download_command(wf.hub_id, [wf.filename], rev, wf.repo_type, f"<store>/{parent}")
        lines.append(f"  or by hand: {cmd}")
    elif wf.url:
        lines.append(f"  or by hand: download {wf.url} to <store>/{rel}")
    return "\n".join(lines)


def missing_message(
    what: str, wf: WeightsFile, searched: Sequence[str | Path], why: str = ""
) -> str:
    where = "\n".join(f"  {p}" for p in searched)
    reason = f"\nNot fetched: {why}" if why else ""
    pin = f" (sha256 {wf.sha256})" if wf.sha256 else ""
    return (
        f"Missing {what}: {wf.describe()}{pin}\nLooked in:\n{where}{reason}\n"
        f"To supply it:\n{how_to_supply(wf)}"
    )


def _local_verified(path: Path, wf: WeightsFile, *, evict: bool) -> Verified:
    """A local copy checked against the pin and the lock (see hubfetch / urlfetch)."""
    if wf.hub_id:
        return hubfetch.check_local(path, wf, hubfetch.locked_commit(wf), evict=evict)
    if wf.url:
        return urlfetch.check_local(path, wf, evict=evict)
    verify(path, wf.sha256, wf.git_blob)
    how = PINNED if is_pinned(wf) else UNVERIFIED_LOCAL
    return Verified(path, wf.filename, file_sha256(path), path.stat().st_size, "", None, how)


def network_note(wf: WeightsFile) -> str:
    """'' when the source may be tried, else why not (offline, unreachable)."""
    if offline():
        return f"${OFFLINE_ENV} is set: the network was not tried"
    target = hubfetch.endpoint() if wf.hub_id else urlfetch.routed(str(wf.url))
    if not hubfetch.reachable(target):
        return f"cannot reach {target} (offline?)"
    return ""


def resolve_verified(
    wf: WeightsFile, what: str = "weights", allow_unpinned: bool = False, use_store: bool = True
) -> Verified:
    """A local, verified copy of ``wf`` (store, package, cache, else fetched), or one error.

    Raises :class:`MissingAssetError` (what, where it was looked for, how to supply it),
    :class:`GatedAssetError` (one line: a token is needed) or :class:`ChecksumError` (the file and
    both hashes). The result is remembered as used by the current run. ``use_store=False`` skips
    the store (a folder model whose store copy is incomplete comes whole from one commit).
    """
    for path in _store_candidates(wf) if use_store else []:
        if path.is_file():
            return note_used(_local_verified(path, wf, evict=False))
    packaged = packaged_path(wf)
    if packaged is not None and packaged.is_file():
        verify(packaged, wf.sha256, wf.git_blob)
        sha = file_sha256(packaged)
        how = "shipped in the package, " + (PINNED if is_pinned(wf) else "not pinned")
        return note_used(
            Verified(packaged, wf.filename, sha, packaged.stat().st_size, "", None, how)
        )
    cached = _cache_candidate(wf)
    if cached is not None and cached.is_file():
        return note_used(_local_verified(cached, wf, evict=True))
    searched = searched_places(wf)
    if wf.hub_id is None and wf.url is None:
        raise MissingFileError(missing_message(what, wf, searched), wf)
    if why := network_note(wf):
        raise MissingFileError(missing_message(what, wf, searched, why), wf, why)
    try:
        if wf.hub_id:
            got = hubfetch.fetch(wf)
        else:
            got = urlfetch.fetch(wf, allow_unpinned or _allow_unpinned)
    except (GatedAssetError, ChecksumError):
        raise
    except UnpinnedDownloadError as exc:
        raise UnpinnedDownloadError(missing_message(what, wf, searched, str(exc))) from None
    except MissingAssetError as exc:
        raise MissingFileError(
            missing_message(what, wf, searched, str(exc)), wf, str(exc)
        ) from None
    return note_used(got)


def resolve(wf: WeightsFile, what: str = "weights", allow_unpinned: bool = False) -> Path:
    """The local, verified path of ``wf`` (see :func:`resolve_verified`)."""
    return resolve_verified(wf, what, allow_unpinned).path


def resolve_all(
    files: Sequence[WeightsFile], what: str, allow_unpinned: bool = False, use_store: bool = True
) -> list[Verified]:
    """Every file of one model (or judge, or dataset), or ONE error naming every missing file,
    where each was looked for, and the one command that fetches them all."""
    found: list[Verified] = []
    missing: list[MissingFileError] = []
    for wf in files:
        try:
            found.append(resolve_verified(wf, what, allow_unpinned, use_store))
        except MissingFileError as exc:
            missing.append(exc)
    if len(missing) == 1 and len(files) == 1:
        raise missing[0]
    if missing:
        whys = sorted({m.why for m in missing if m.why})
        message = missing_files_message(what, [m.wf for m in missing], files, "; ".join(whys))
        raise MissingFileError(message, None, "; ".join(whys))
    return found


def _template(wf: WeightsFile) -> list[str] | None:
    """Where ``wf`` was looked for, with its own name replaced by ``<file>`` (None if the name is
    not the tail of every place, so the places cannot be shared with other files)."""
    out = []
    for place in searched_places(wf):
        if place.endswith("/" + wf.filename):  # whole path components only
            out.append(place[: -len(wf.filename)] + "<file>")
        elif place.startswith("(") or place.endswith("(no commit pinned or locked yet)"):
            out.append(place)  # a note, not a path
        else:
            return None
    return out


def missing_files_message(
    what: str, absent: Sequence[WeightsFile], files: Sequence[WeightsFile], why: str = ""
) -> str:
    """One message for several missing files: every file, where each was looked for, and the
    one command that fetches them all."""
    source = absent[0].hub_id or absent[0].url or ""
    same_repo = all(wf.hub_id == absent[0].hub_id for wf in absent) and absent[0].hub_id
    head = f"Missing {what}: {len(absent)} of {len(files)} files"
    lines = [head + (f" of {source}" if same_repo else "")]
    templates = [_template(wf) for wf in absent]
    shared = (
        templates[0]
        if templates[0] is not None and all(t == templates[0] for t in templates)
        else None
    )
    for wf in absent:
        name = wf.filename if same_repo else wf.describe()
        lines.append(
            f"  {name}" if shared else f"  {name}: looked in {'; '.join(searched_places(wf))}"
        )
    if shared:
        lines.append("Looked for each <file> in:")
        lines += [f"  {p}" for p in shared]
    if why:
        lines.append(f"Not fetched: {why}")
    lines.append("To supply them all, on a connected machine:")
    lines.append(f"  {fetch_command()}")
    lines.append(f"and point ${STORE_ENV} (or --store) at <store>")
    return "\n".join(lines)


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

    Files the card pins, or that were verified against their source and locked, keep their name;
    files that could not be verified are named ``<file> (unpinned)``; ``overrides`` (card index
    -> path, from options such as ``weights_path=``) are named by their absolute path.
    """
    from dataclasses import replace

    out: list[WeightsFile | None] = [None] * len(card.weights)
    todo = []
    for i in range(len(card.weights)):
        if overrides and i in overrides:
            path = Path(overrides[i]).expanduser().resolve()
            if not path.is_file():
                raise MissingAssetError(
                    f"Missing {card.id} weights: {path} (given as an option) is not a file"
                )
            note_used(
                Verified(
                    path,
                    str(path),
                    file_sha256(path),
                    path.stat().st_size,
                    "",
                    None,
                    "given as an option",
                )
            )
            out[i] = WeightsFile(filename=f"{path}", sha256=file_sha256(path))
        else:
            todo.append(i)
    got = resolve_all([card.weights[i] for i in todo], f"{card.id} weights", allow_unpinned)
    for i, v in zip(todo, got, strict=True):
        wf = card.weights[i]
        trusted = v.verified != UNVERIFIED_LOCAL and not v.verified.startswith("not verified")
        label = wf.filename if trusted else f"{wf.filename} (unverified)"
        out[i] = replace(wf, filename=label, sha256=v.sha256, revision=v.commit or wf.revision)
    return replace(card, weights=tuple(w for w in out if w is not None))
