"""`evalkit --help` must stay instant: the CLI module may not import torch or pandas."""

from __future__ import annotations

import subprocess
import sys


def test_cli_import_does_not_load_heavy_modules():
    code = (
        "import sys, evalkit.cli; heavy = [m for m in ('torch', 'pandas', 'numpy', "
        "'torchvision') if m in sys.modules]; print(heavy)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]", out.stdout


def test_help_lists_commands():
    out = subprocess.run(
        [sys.executable, "-m", "evalkit.cli", "--help"], capture_output=True, text=True, check=True
    )
    for command in ("run", "gate", "leaderboard", "models", "list"):
        assert command in out.stdout


# Every subcommand that needs no model: it must not import torch (cards, lists, tables, gate).
TORCH_FREE = [
    ["--help"],
    ["list", "models"],
    ["list", "benchmarks"],
    ["list", "metrics"],
    ["models", "list"],
    ["models", "show", "taef2"],
    ["models", "show", "titok-l32"],
    ["benchmarks", "list"],
    ["benchmarks", "show", "tokbench"],
    ["benchmarks", "show", "recon"],
    ["leaderboard", "show", "recon"],
    ["leaderboard", "render", "tokbench-mini"],
    ["gate", "leaderboards/recon.parquet", "leaderboards/recon.parquet"],
]


def test_torch_free_subcommands_import_no_torch():
    code = (
        "import sys, json\n"
        "from evalkit.cli import app\n"
        "out = {}\n"
        "for args in json.loads(sys.argv[1]):\n"
        "    try:\n"
        "        app(args, standalone_mode=False)\n"
        "    except SystemExit:\n"
        "        pass\n"
        "    out[' '.join(args)] = 'torch' in sys.modules\n"
        "print(json.dumps(out))\n"
    )
    import json
    from pathlib import Path

    repo = Path(__file__).resolve().parents[2]
    res = subprocess.run(
        [sys.executable, "-c", code, json.dumps(TORCH_FREE)],
        cwd=repo,
        capture_output=True,
        text=True,
    )
    assert res.returncode == 0, res.stderr[-2000:]
    seen = json.loads(res.stdout.strip().splitlines()[-1])
    assert seen == {" ".join(a): False for a in TORCH_FREE}, seen
