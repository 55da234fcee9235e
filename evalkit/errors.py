"""What a user sees when something goes wrong: one line and an exit code, never a traceback.

Exit codes: 2 for bad input (an unknown id or option, a value out of range, a file that is not
what it claims to be), 1 for a failure at run time (a folder that cannot be written, a model that
returns garbage, a missing download), 130 for Ctrl-C. Standard library only.
"""

from __future__ import annotations

import errno
import os
import tempfile
from pathlib import Path

from evalkit.types import InputFileError  # defined at the bottom layer: benchmarks raise it

BAD_INPUT, RUNTIME, INTERRUPTED = 2, 1, 130
_MISSING = (FileNotFoundError, IsADirectoryError, NotADirectoryError)
__all__ = ["InputFileError", "check_writable", "describe"]


class RunInterrupted(KeyboardInterrupt):
    """Ctrl-C during a run; the message says what is kept and how to resume."""


def check_writable(folder: str | Path, what: str) -> None:
    """Fail before any work when ``folder`` (or the parent it would be made in) is not writable.

    Tries to create a file rather than asking ``os.access``, which says yes to root even on a
    read-only mount.
    """
    folder = Path(folder)
    probe = folder
    while not probe.exists():
        if probe.parent == probe:
            break
        probe = probe.parent
    if probe.exists() and not probe.is_dir():
        raise NotADirectoryError(
            errno.ENOTDIR, f"cannot write the {what}: {probe} is a file", str(probe)
        )
    try:
        fd, name = tempfile.mkstemp(prefix=".evalkit-write-check-", dir=probe)
    except OSError as exc:
        raise PermissionError(
            exc.errno, f"cannot write the {what} in {probe}: {exc.strerror or exc}", str(probe)
        ) from None
    os.close(fd)
    os.unlink(name)


def describe(exc: BaseException) -> tuple[int, str]:
    """(exit code, one-line message) for an exception that reached the command line."""
    from evalkit.registry import UnknownEntryError

    message = str(exc).strip() or type(exc).__name__
    if isinstance(exc, KeyboardInterrupt):
        return INTERRUPTED, message if isinstance(exc, RunInterrupted) else "interrupted"
    if isinstance(exc, UnknownEntryError):
        return BAD_INPUT, message
    if isinstance(exc, OSError) and exc.strerror:  # no such file, permission denied, disk full
        text = exc.strerror
        if exc.filename and str(exc.filename) not in text:
            text = f"{text}: {exc.filename}"
        return (BAD_INPUT if isinstance(exc, _MISSING) else RUNTIME), text
    if isinstance(exc, _MISSING):  # raised with a message only: a path the user gave is absent
        return BAD_INPUT, message
    if isinstance(exc, ValueError):  # includes OptionError, InputFileError, pyarrow's ArrowInvalid
        return BAD_INPUT, message
    if isinstance(exc, RuntimeError):  # RunError, MissingAssetError's family, torch's errors
        return RUNTIME, message
    return RUNTIME, f"{type(exc).__name__}: {message}"
