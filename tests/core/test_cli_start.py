"""`evalkit --help` must stay instant: the CLI module may not import torch or pandas."""

from __future__ import annotations

import subprocess
import sys


def test_cli_import_does_not_load_heavy_modules():
    code = ("import sys, evalkit.cli; heavy = [m for m in ('torch', 'pandas', 'numpy', "
            "'torchvision') if m in sys.modules]; print(heavy)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]", out.stdout


def test_help_lists_commands():
    out = subprocess.run([sys.executable, "-m", "evalkit.cli", "--help"], capture_output=True,
                         text=True, check=True)
    for command in ("run", "gate", "leaderboard", "models", "list"):
        assert command in out.stdout
