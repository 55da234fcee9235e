"""Every judge answer of a run, appended to disk as it completes, keyed by image and question.

The runner commits a whole batch of samples at once; DetailMaster asks ~25 VLM questions per
image, so a killed run would otherwise lose every answer of the batch in flight. The journal is
``<run dir>/judge/answers-<host>-<pid>.jsonl``: one JSON line per answer, flushed and fsync'd
after each judge call, one file per writing process (shards never share a file). On start every
file is read; a torn last line (a kill mid-write) is skipped. A key is
``<image content hash>|<kind>|<view>|<question>``, so an answer is reused only for the very same
pixels and question.
"""

from __future__ import annotations

import json
import os
import socket
from collections.abc import Iterable
from pathlib import Path
from typing import Any


class Journal:
    """An append-only answer store; without a folder it only remembers in memory."""

    def __init__(self, folder: Path | None = None) -> None:
        self.folder = folder
        self.answers: dict[str, Any] = {}
        self._fh: Any = None
        if folder is not None:
            folder.mkdir(parents=True, exist_ok=True)
            for path in sorted(folder.glob("answers-*.jsonl")):
                self._read(path)

    def _read(self, path: Path) -> None:
        with path.open(encoding="utf-8") as fh:
            for line in fh:
                try:
                    entry = json.loads(line)
                except json.JSONDecodeError:
                    continue  # a line cut by a kill
                self.answers[entry["key"]] = entry["answer"]

    def __contains__(self, key: str) -> bool:
        return key in self.answers

    def __len__(self) -> int:
        return len(self.answers)

    def get(self, key: str) -> Any:
        return self.answers[key]

    def put_many(self, entries: Iterable[tuple[str, Any]]) -> None:
        """Remember answers and make them durable before returning."""
        entries = list(entries)
        for key, answer in entries:
            self.answers[key] = answer
        if self.folder is None or not entries:
            return
        if self._fh is None:
            name = f"answers-{socket.gethostname()}-{os.getpid()}.jsonl"
            self._fh = (self.folder / name).open("a", encoding="utf-8")
        self._fh.write("".join(json.dumps({"key": k, "answer": a}) + "\n" for k, a in entries))
        self._fh.flush()
        os.fsync(self._fh.fileno())

    def close(self) -> None:
        if self._fh is not None:
            self._fh.close()
            self._fh = None
