"""Size cap for the FID statistics cache: least-recently-used entries go first.

Every entry is one ``<key>.npz`` under ``<cache root>/fid/refstats``. A read marks an entry as
used by setting its modification time to now (access times are unreliable: most disks are mounted
``relatime`` or ``noatime``); after each write the oldest entries are removed until the folder fits
the cap. The cap is 2 GB (decimal) unless ``$EVALKIT_FID_CACHE_MAX`` or ``evalkit fid --cache-max``
says otherwise (``500MB``, ``10GiB``, ``0`` to keep only the newest entry, ``none`` for no cap).

Standard library only, so ``evalkit cache info|clear`` never imports torch or numpy.
"""

from __future__ import annotations

import logging
import os
import re
import time
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger("evalkit.fid")

MAX_ENV = "EVALKIT_FID_CACHE_MAX"
DEFAULT_MAX = "2GB"
_UNITS = {
    "": 1,
    "b": 1,
    "kb": 10**3,
    "mb": 10**6,
    "gb": 10**9,
    "tb": 10**12,
    "k": 2**10,
    "kib": 2**10,
    "m": 2**20,
    "mib": 2**20,
    "g": 2**30,
    "gib": 2**30,
    "t": 2**40,
    "tib": 2**40,
}


def parse_size(text: str | int | None) -> int | None:
    """``"2GB"`` -> 2_000_000_000, ``"1.5GiB"`` -> bytes, ``"none"`` -> None (no cap)."""
    if text is None or isinstance(text, int):
        return text
    s = text.strip().lower().replace(" ", "")
    if s in ("none", "unlimited", "inf"):
        return None
    m = re.fullmatch(r"(\d+(?:\.\d+)?)([a-z]*)", s)
    if not m or m.group(2) not in _UNITS:
        raise ValueError(f"bad cache size {text!r}: use e.g. 2GB, 500MB, 10GiB, 0 or none")
    return int(float(m.group(1)) * _UNITS[m.group(2)])


def max_bytes() -> int | None:
    """The cap in bytes from ``$EVALKIT_FID_CACHE_MAX`` (default 2 GB); None means no cap."""
    raw = os.environ.get(MAX_ENV, "").strip() or DEFAULT_MAX
    try:
        return parse_size(raw)
    except ValueError as exc:
        raise ValueError(f"${MAX_ENV}: {exc}") from None


def refstats_dir() -> Path:
    from evalkit.cache import cache_root

    return cache_root() / "fid" / "refstats"


@dataclass(frozen=True)
class Entry:
    path: Path
    size: int
    last_used: float  # seconds since the epoch (the file's mtime)


def entries(root: Path) -> list[Entry]:
    """Cached statistics, least recently used first."""
    out = []
    for p in root.glob("*.npz") if root.is_dir() else ():
        try:
            st = p.stat()
        except FileNotFoundError:  # removed by another process meanwhile
            continue
        out.append(Entry(p, st.st_size, st.st_mtime))
    return sorted(out, key=lambda e: (e.last_used, e.path.name))


def mark_used(path: Path) -> None:
    """Record a read (for LRU order); a read-only cache is simply not reordered."""
    try:
        os.utime(path)
    except OSError:
        pass


def enforce(root: Path, limit: int | None, keep: Path | None = None) -> list[Entry]:
    """Remove least-recently-used entries until the folder holds at most ``limit`` bytes.

    ``keep`` (the entry just written) is never removed, even when it alone exceeds the cap.
    Returns what was removed.
    """
    if limit is None:
        return []
    listed = entries(root)
    total = sum(e.size for e in listed)
    removed = []
    for e in listed:
        if total <= limit:
            break
        if keep is not None and e.path == keep:
            continue
        try:
            e.path.unlink()
        except FileNotFoundError:
            pass
        total -= e.size
        removed.append(e)
    if removed:
        log.info(
            "fid cache: removed %d least recently used entr%s (%s) to stay under %s",
            len(removed),
            "y" if len(removed) == 1 else "ies",
            human(sum(e.size for e in removed)),
            human(limit),
        )
    return removed


def clear(root: Path) -> list[Entry]:
    """Remove every cached statistics file; returns what was removed."""
    gone = entries(root)
    for e in gone:
        e.path.unlink(missing_ok=True)
    return gone


def human(n: int | None) -> str:
    if n is None:
        return "no cap"
    for unit, size in (("GB", 10**9), ("MB", 10**6), ("kB", 10**3)):
        if n >= size:
            return f"{n / size:.1f} {unit}"
    return f"{n} B"


def age(seconds_since_epoch: float) -> str:
    d = max(0.0, time.time() - seconds_since_epoch)
    for unit, size in (("d", 86400), ("h", 3600), ("min", 60)):
        if d >= size:
            return f"{d / size:.0f} {unit} ago"
    return "just now"
