"""A multi-file Hugging Face model as one local folder: the offline store first, then the Hub.

``from_pretrained`` needs every file of a model in one folder, so a store folder that holds them
all is used as is (each file checked against the lock); otherwise every listed file is fetched
at one commit (the card's, or the branch's locked at first use) into the download cache's
snapshot folder for that commit, each verified against what the Hub reports (see
:mod:`evalkit.hubfetch`). A miss lists every missing file, where each was looked for, and the one
command that fetches them all, in one message.
"""

from __future__ import annotations

from pathlib import Path

from evalkit import hubfetch, store
from evalkit.assets import MissingAssetError, MissingFileError, store_dirs
from evalkit.hubdata import folder_files
from evalkit.types import WeightsFile


def weights_files(
    hub_id: str,
    revision: str | None,
    store_path: str,
    files: tuple[str, ...],
    repo_type: str = "model",
) -> list[WeightsFile]:
    """The card's file list as WeightsFiles (store path ``<store_path>/<file>``)."""
    return folder_files(hub_id, revision, store_path, files, repo_type)


def store_folder(store_path: str, files: tuple[str, ...]) -> tuple[Path | None, list[str]]:
    """The first store folder holding every file, else (None, files missing in the best one)."""
    best: list[str] | None = None
    for root in store_dirs():
        folder = root / store_path
        absent = [f for f in files if not (folder / f).is_file()]
        if not absent:
            return folder, []
        if best is None or len(absent) < len(best):
            best = absent
    return None, list(files) if best is None else best


def check(
    what: str,
    hub_id: str,
    revision: str | None,
    store_path: str,
    files: tuple[str, ...],
    repo_type: str = "model",
) -> str:
    """'' when the model can be had (store, cache, or online), else the one message listing
    every gap. No download happens here."""
    folder, _ = store_folder(store_path, files)
    if folder is not None:
        return ""
    wfs = weights_files(hub_id, revision, store_path, files, repo_type)
    commit = hubfetch.locked_commit(wfs[0])
    if commit is not None:
        snap = hubfetch.snapshot_dir(hub_id, repo_type, commit)
        if all((snap / f).is_file() for f in files):
            return ""
    why = store.network_note(wfs[0])
    return store.missing_files_message(what, wfs, wfs, why) if why else ""


def local_dir(
    what: str,
    hub_id: str,
    revision: str | None,
    store_path: str,
    files: tuple[str, ...],
    repo_type: str = "model",
) -> Path:
    """The folder holding every file: the store's, else the snapshot of one commit, each file
    verified (and noted as used by the run); one MissingAssetError naming every missing file."""
    wfs = weights_files(hub_id, revision, store_path, files, repo_type)
    folder, _ = store_folder(store_path, files)
    if folder is not None:
        store.resolve_all(wfs, what)
        return folder
    try:
        got = store.resolve_all(wfs, what, use_store=False)
    except MissingFileError as exc:
        raise _partial(what, wfs, store_path, exc) from None
    commit = got[0].commit
    root = hubfetch.snapshot_dir(hub_id, repo_type, commit) if commit else None
    if root is None or not all((root / f).is_file() for f in files):
        raise MissingAssetError(f"{what}: the files of {hub_id} are not all at one commit")
    return root


def _partial(
    what: str, wfs: list[WeightsFile], store_path: str, exc: MissingFileError
) -> MissingFileError:
    """The miss, naming only the files that are nowhere (a store folder may hold some)."""
    best = None
    for root in store_dirs():
        have = [wf for wf in wfs if (root / store_path / wf.filename).is_file()]
        if have and (best is None or len(have) > len(best[1])):
            best = (root / store_path, have)
    if best is None:
        return exc
    absent = [wf for wf in wfs if wf not in best[1]]
    message = store.missing_files_message(what, absent, wfs, exc.why)
    note = (
        f"\n({len(best[1])} of the {len(wfs)} files are in {best[0]}; a model loads from one "
        "folder, so the store needs them all)"
    )
    return MissingFileError(message + note, None, exc.why)
