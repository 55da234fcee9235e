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


def randomize_(module, seed: int, scale: float = 0.05) -> None:  # noqa: ANN001 - torch module
    """Seeded random values for every floating parameter and buffer of ``module`` (in name
    order), so normalisation scales, biases and running statistics are not the identity that
    default initialisation leaves: a parity test then checks every tensor's role. Variances
    (``running_var``) stay positive."""
    import torch

    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, t in sorted(module.state_dict(keep_vars=True).items()):
            if not t.is_floating_point():
                continue
            noise = torch.randn(t.shape, generator=gen, dtype=torch.float32)
            if name.endswith("running_var"):
                t.copy_(1.0 + noise.abs() * 0.5)
            elif t.dim() <= 1:  # norm scales and biases: around 1 and 0
                base = 1.0 if name.endswith("weight") or name.endswith("gamma") else 0.0
                t.copy_(base + noise * 0.1)
            else:
                fan_in = max(1, t[0].numel())
                t.copy_(noise * (scale if fan_in <= 1 else fan_in**-0.5))
