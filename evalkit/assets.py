"""What every asset lookup shares: where the store is, the errors, and the verified-file record.

An asset (a weights file, a judge, a dataset file) is found in the offline store, the download
cache, or fetched (:mod:`evalkit.hubfetch`, :mod:`evalkit.urlfetch`). Whatever the source, the
result is a :class:`Verified`: the local path, its sha256, the commit it came from and how it was
verified. Each run keeps the list of what it used (:func:`used`) so its rows can say so.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

STORE_ENV = "EVALKIT_STORE"
OFFLINE_ENV = "EVALKIT_OFFLINE"
PINNED = "pinned by the card"
UNVERIFIED_LOCAL = "local copy, not verified: no pin or lock entry to check it against"
UNPINNED = "not verified: no checksum of any kind is published (downloaded with --allow-unpinned)"


class MissingAssetError(RuntimeError):
    """A weight file or dataset is absent everywhere we looked."""


class MissingFileError(MissingAssetError):
    """One file is missing: carries the file and why it was not fetched, so several misses can
    be reported in one message."""

    def __init__(self, message: str, wf: Any = None, why: str = "") -> None:
        super().__init__(message)
        self.wf, self.why = wf, why


class ChecksumError(RuntimeError):
    """A file's content differs from its pin, the Hub's checksum, or the lock."""


class UnpinnedDownloadError(MissingAssetError):
    """A download with no checksum of any kind, refused unless unpinned downloads are allowed."""


class GatedAssetError(MissingAssetError):
    """The Hub refuses the file without a token (a gated or private repository)."""


_store_override: list[Path] | None = None


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
    """``$EVALKIT_OFFLINE`` (or ``$HF_HUB_OFFLINE``): never touch the network."""
    return os.environ.get(OFFLINE_ENV, "") not in ("", "0") or os.environ.get(
        "HF_HUB_OFFLINE", ""
    ) not in ("", "0")


def git_blob_sha1(path: str | os.PathLike[str], chunk: int = 1 << 20) -> str:
    """The file's git blob id: SHA-1 of ``b"blob <size>\0" + content`` (what ``git ls-tree``
    lists and the Hub reports for files not stored in LFS)."""
    h = hashlib.sha1(f"blob {os.path.getsize(path)}\0".encode())  # noqa: S324 - git's id
    with open(path, "rb") as f:
        while block := f.read(chunk):
            h.update(block)
    return h.hexdigest()


def mismatch(name: str, what: str, expected: str, actual: str, extra: str = "") -> ChecksumError:
    """The one error for content that differs from what it should be: names both hashes."""
    return ChecksumError(
        f"{name}: {what} {expected}, but the file has {actual}{extra}. It is corrupt, tampered "
        "with or a different version."
    )


@dataclass(frozen=True)
class Verified:
    """A local file and how we know it is the right one."""

    path: Path
    name: str  # what the card calls it (file name, or repo@commit/file)
    sha256: str
    size: int
    source: str  # lock key: hub:<type>:<repo>@<commit>/<file> or url:<url>; "" for local-only
    commit: str | None
    verified: str

    def row(self) -> dict[str, Any]:
        out = asdict(self)
        out.pop("path")
        return out


_used: list[Verified] = []


def note_used(v: Verified) -> Verified:
    """Remember that this run used ``v`` (for the rows' provenance column)."""
    if all(u.source != v.source or u.sha256 != v.sha256 or u.name != v.name for u in _used):
        _used.append(v)
    return v


def used() -> list[Verified]:
    return list(_used)


@contextlib.contextmanager
def recording() -> Iterator[list[Verified]]:
    """Collect the files used inside this block (one run); restores the outer list after."""
    global _used
    outer, _used = _used, []
    try:
        yield _used
    finally:
        _used = outer


# --- what to tell the user ------------------------------------------------------------------

_run_context: tuple[str | None, str] | None = None


@contextlib.contextmanager
def run_context(benchmark: str | None, model: str) -> Iterator[None]:
    """The run (or the model build) in progress, so a missing file's message can give the one
    fetch command. A model-only context never replaces a run's."""
    global _run_context
    outer = _run_context
    if benchmark is not None or outer is None:
        _run_context = (benchmark, model)
    try:
        yield
    finally:
        _run_context = outer


def fetch_command() -> str:
    """The one command that fetches everything the current run (or model) needs into a store."""
    bench, model = _run_context or ("<benchmark>", "<model>")
    target = f"{bench} " if bench else ""
    return f"evalkit fetch {target}--model {model} --store <store>"


def _hub_major() -> int:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return int(version("huggingface_hub").split(".")[0])
    except (PackageNotFoundError, ValueError):
        return 1


def login_command() -> str:
    """How the installed huggingface_hub logs in (``hf auth login`` from 1.0 on)."""
    return "hf auth login" if _hub_major() >= 1 else "huggingface-cli login"


def hub_download_command(
    repo_id: str, files: list[str], revision: str | None, repo_type: str, local_dir: str
) -> str:
    """The installed huggingface_hub's download command for exactly these files."""
    tool = "hf download" if _hub_major() >= 1 else "huggingface-cli download"
    rev = f" --revision {revision}" if revision else ""
    kind = f" --repo-type {repo_type}" if repo_type != "model" else ""
    return f"{tool} {repo_id} {' '.join(files)}{rev}{kind} --local-dir {local_dir}"


def gated_message(repo_id: str) -> str:
    """One line: the repository needs a token, and how to give one."""
    return (
        f"{repo_id} is gated on the Hugging Face Hub: a token is needed. Accept its terms at "
        f"https://huggingface.co/{repo_id}, then run `{login_command()}` or set HF_TOKEN."
    )
