"""Helpers shared by every fixture recorder (scripts/official_fixtures/<name>.py)."""

from __future__ import annotations

import json
import platform
import subprocess
from importlib.metadata import version
from pathlib import Path

FIXTURES = Path(__file__).resolve().parents[2] / "tests" / "fixtures"


def git_head(folder: Path) -> str:
    """The commit of a git checkout, or "unknown" (pass --commit then)."""
    try:
        out = subprocess.run(
            ["git", "-C", str(folder), "rev-parse", "HEAD"],
            check=True,
            capture_output=True,
            text=True,
        )
        return out.stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def versions(*names: str) -> dict[str, str]:
    """Python and each named distribution's version, as recorded beside a fixture."""
    out = {"python": platform.python_version()}
    for n in names:
        try:
            out[n] = version(n)
        except Exception:  # noqa: BLE001 - a missing package is recorded as such
            out[n] = "not installed"
    return out


def dump_compact(doc: dict) -> str:
    """JSON with one line per state-dict key (``"name": [shape]``), for readable diffs."""
    text = json.dumps(doc, indent=1)
    out, buf = [], None
    for line in text.splitlines():  # fold the shape lists json.dumps spreads over many lines
        stripped = line.strip()
        if buf is not None:
            buf.append(stripped)
            if stripped.startswith("]"):
                out.append(
                    buf[0] + " ".join(buf[1:-1]).replace(",", ", ").replace(",  ", ", ") + buf[-1]
                )
                buf = None
            continue
        if stripped.endswith("[") and stripped.startswith('"'):
            buf = [line]
            continue
        out.append(line)
    folded = "\n".join(out) + "\n"
    assert json.loads(folded) == json.loads(text)
    return folded


def write_fixture(name: str, doc: dict, arrays: dict) -> Path:
    """``tests/fixtures/<name>.json`` (indented) and its arrays, if any, in ``<name>.npz``."""
    import numpy as np

    FIXTURES.mkdir(parents=True, exist_ok=True)
    if arrays:
        np.savez_compressed(FIXTURES / f"{name}.npz", **arrays)
    path = FIXTURES / f"{name}.json"
    path.write_text(json.dumps(doc, indent=1) + "\n")
    return path
