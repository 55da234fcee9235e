"""Helpers shared by every fixture recorder (scripts/official_fixtures/<name>.py)."""

from __future__ import annotations

import json
import platform
import subprocess
from importlib.metadata import version
from pathlib import Path

FIXTURES = Path(__file__).resolve().parents[2] / "tests" / "fixtures"

# The per-image score recorders' inputs (clipscore, pickscore, hpsv2): scikit-image photos of
# several sizes and aspect ratios, each with a prompt about it.
SCORE_PHOTOS = ("astronaut", "chelsea", "coffee", "rocket", "camera")
SCORE_PROMPTS = (
    "an astronaut in a spacesuit next to a flag",
    "a photo of a cat",
    "a cup of coffee on a saucer",
    "a rocket on a launch pad at night",
    "a man with a camera on a tripod",
)
# longer than CLIP's 77 tokens: how each score truncates shows
LONG_PROMPT = "a logo " + " and ".join(
    f"a {c} square" for c in ["red", "green", "blue", "yellow"] * 6
)


def skimage_photo(name: str) -> object:
    """``skimage.data.<name>()`` as a PIL image (mode as stored: L, RGB or RGBA)."""
    from PIL import Image
    from skimage import data

    return Image.fromarray(getattr(data, name)())


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
