"""Samples folders as content, and the user's prompt and label files read line by line.

A samples folder (``--model samples:NAME -O samples=DIR``) is identified by what it holds, not by
its path: :func:`folder_manifest` hashes every image a benchmark reads and every prompt or label
file it reads (sha256 of each file through the file-hash cache), and :func:`addressed` puts that
manifest into the spec's dataset sha256, so it reaches the run id and every row's
``dataset_sha256``. Images overwritten in place (same names, sizes, even mtimes) give a new run.

The readers return each record with the line it starts on; every error names the file and line
and is an :class:`~evalkit.types.InputFileError` (the command line exits 2).
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
from collections.abc import Collection, Iterable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from evalkit.types import BenchmarkSpec, InputFileError

__all__ = [
    "InputFileError",
    "addressed",
    "check_names",
    "folder_manifest",
    "read_csv_rows",
    "read_json_list",
    "read_jsonl",
    "require_file",
    "require_folder",
]


def require_folder(path: str | Path, benchmark: str) -> Path:
    """The samples folder ``path``, or an error naming it (bad input)."""
    root = Path(path).expanduser()
    if not root.is_dir():
        what = "is not a folder" if root.exists() else "does not exist"
        raise InputFileError(f"{benchmark}: samples folder {root} {what}")
    return root


def require_file(path: str | Path, what: str) -> Path:
    """The file ``path``, or an error naming it (bad input)."""
    p = Path(path).expanduser()
    if not p.is_file():
        raise InputFileError(f"{what} {p} {'is not a file' if p.exists() else 'does not exist'}")
    return p


def folder_manifest(root: Path, images: Iterable[Path], metadata: Iterable[Path] = ()) -> str:
    """sha256 over (name, content sha256) of every image and metadata file a benchmark reads.

    Images are named by their path relative to ``root``; metadata files by theirs when inside
    ``root``, else by file name (a labels file kept elsewhere), under a ``meta:`` prefix.
    """
    from evalkit.filehash import files_manifest

    root = Path(root)

    def name(p: Path) -> str:
        p = Path(p)
        return p.relative_to(root).as_posix() if p.is_relative_to(root) else p.name

    entries = {name(p): Path(p) for p in images}
    entries.update({f"meta:{name(p)}": Path(p) for p in metadata})
    return files_manifest(sorted(entries.items()))


def addressed(spec: BenchmarkSpec, manifest: str) -> BenchmarkSpec:
    """``spec`` whose dataset sha256 also covers the samples folder's ``manifest``.

    The dataset's own sha256 (the prompt set) is kept inside the new one: the row's
    ``dataset_sha256`` changes when either the prompts or the images change.
    """
    base = spec.dataset.sha256 or spec.dataset.source
    sha = hashlib.sha256(f"{base}\0samples:{manifest}".encode()).hexdigest()
    return replace(spec, dataset=replace(spec.dataset, sha256=sha))


def read_jsonl(path: Path, what: str) -> list[tuple[int, Any]]:
    """(line number, value) of every non-blank line of a JSON-lines file."""
    out = []
    for n, line in enumerate(_text(path, what).splitlines(), 1):
        if not line.strip():
            continue
        try:
            out.append((n, json.loads(line)))
        except json.JSONDecodeError as exc:
            raise InputFileError(f"{what} {path}:{n}: not JSON ({exc.msg})") from None
    return out


def read_json_list(path: Path, what: str) -> list[tuple[int, Any]]:
    """(line number, element) of a JSON array, each element with the line it starts on."""
    text = _text(path, what)
    decoder = json.JSONDecoder()
    try:
        whole = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputFileError(f"{what} {path}:{exc.lineno}: not JSON ({exc.msg})") from None
    if not isinstance(whole, list):
        raise InputFileError(f"{what} {path}:1: expected a JSON list, found {type(whole).__name__}")
    out, pos = [], text.index("[") + 1
    for element in whole:
        while text[pos] in " \t\r\n,":
            pos += 1
        _, end = decoder.raw_decode(text, pos)
        out.append((text.count("\n", 0, pos) + 1, element))
        pos = end
    return out


_EXTRA = "\0extra"  # DictReader's key for fields beyond the header


def read_csv_rows(
    path: Path, what: str, columns: Sequence[str]
) -> list[tuple[int, dict[str, str]]]:
    """(line number, row) of a CSV file with a header naming at least ``columns``; every row has
    a non-empty value in each of them (stripped) and no more fields than the header."""
    text = _text(path, what)
    reader = csv.DictReader(io.StringIO(text, newline=""), restkey=_EXTRA)
    header = [c.strip() for c in reader.fieldnames or []]
    missing = [c for c in columns if c not in header]
    if missing:
        raise InputFileError(
            f"{what} {path}:1: the header {header} lacks {missing}; expected {','.join(columns)}"
        )
    reader.fieldnames = header
    out = []
    for row in reader:
        n = reader.line_num
        if _EXTRA in row:
            raise InputFileError(
                f"{what} {path}:{n}: {len(header) + len(row[_EXTRA])} fields, the header has "
                f"{len(header)} ({','.join(header)})"
            )
        values = {c: (row.get(c) or "").strip() for c in header}
        empty = [c for c in columns if not values[c]]
        if empty:
            raise InputFileError(f"{what} {path}:{n}: no value for {empty} in {row!r}")
        out.append((n, values))
    return out


def check_names(
    names: Iterable[tuple[str, str]], vocabulary: Collection[str] | None, judge: str
) -> None:
    """Every (where, class name) must be one ``judge`` can report (``vocabulary``; None: open
    vocabulary). A name it can never report would be scored "not found" on every image."""
    if vocabulary is None:
        return
    for where, name in names:
        if name not in vocabulary:
            close = [v for v in vocabulary if name.lower() in v or v in name.lower()][:3]
            hint = f" (did you mean {', '.join(map(repr, close))}?)" if close else ""
            raise InputFileError(
                f"{where}: class {name!r} is not in the vocabulary of {judge}, which can never "
                f"find it{hint}"
            )


def _text(path: Path, what: str) -> str:
    p = require_file(path, what)
    try:
        return p.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise InputFileError(f"{what} {p}: not UTF-8 text ({exc.reason})") from None
