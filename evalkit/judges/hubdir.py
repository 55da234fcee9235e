"""A multi-file Hugging Face model as one local folder: the offline store first, then the Hub.

``from_pretrained`` needs every file of a model in one folder, so files are not resolved one by
one into the download cache: a store folder that holds them all is used as is; else (online)
``snapshot_download`` fetches exactly the listed files at the pinned revision. A miss lists every
missing file and how to fetch it, in one message.
"""

from __future__ import annotations

from pathlib import Path

from evalkit.store import MissingAssetError, cache_root, offline, store_dirs


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


def missing_message(
    what: str,
    hub_id: str,
    revision: str | None,
    store_path: str,
    files: tuple[str, ...],
    absent: list[str],
    why: str = "",
) -> str:
    rev = f" --revision {revision}" if revision else ""
    listed = "\n".join(f"  {f}" for f in absent)
    searched = "\n".join(f"  {d / store_path}" for d in store_dirs()) or "  (no store set)"
    return (
        f"Missing {what}: {hub_id}{'@' + revision if revision else ''} "
        f"({len(absent)} of {len(files)} files):\n{listed}\nLooked in:\n{searched}"
        + (f"\n{why}" if why else "")
        + f"\nTo supply them, on a connected machine:\n  huggingface-cli download {hub_id}"
        f"{rev} {' '.join(files)} --local-dir <store>/{store_path}\n"
        "and point $EVALKIT_STORE (or --store) at <store>"
    )


def check(
    what: str, hub_id: str, revision: str | None, store_path: str, files: tuple[str, ...]
) -> str:
    """'' when the model can be had (store, or online), else the one message listing the gaps."""
    folder, absent = store_folder(store_path, files)
    if folder is not None:
        return ""
    if offline():
        return missing_message(
            what,
            hub_id,
            revision,
            store_path,
            files,
            absent,
            "($EVALKIT_OFFLINE is set: the Hub is not tried)",
        )
    import os

    from evalkit.store import _reachable

    endpoint = os.environ.get("HF_ENDPOINT", "https://huggingface.co")
    if not _reachable(endpoint):
        return missing_message(
            what, hub_id, revision, store_path, files, absent, f"(cannot reach {endpoint})"
        )
    return ""


def local_dir(
    what: str, hub_id: str, revision: str | None, store_path: str, files: tuple[str, ...]
) -> Path:
    folder, absent = store_folder(store_path, files)
    if folder is not None:
        return folder
    if offline():
        raise MissingAssetError(
            missing_message(
                what, hub_id, revision, store_path, files, absent, "($EVALKIT_OFFLINE is set)"
            )
        )
    try:
        from huggingface_hub import snapshot_download

        return Path(
            snapshot_download(
                hub_id,
                revision=revision,
                allow_patterns=list(files),
                cache_dir=str(cache_root() / "hub"),
            )
        )
    except Exception as exc:  # network errors differ per library; all mean "not available"
        raise MissingAssetError(
            missing_message(
                what, hub_id, revision, store_path, files, absent, f"Download failed: {exc}"
            )
        ) from exc
