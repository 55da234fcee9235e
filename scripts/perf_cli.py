"""CLI start-up time: `evalkit --help` against a bare `python -c pass`, same machine, same run."""

from __future__ import annotations

import statistics
import subprocess
import sys
import time


def _time(cmd: list[str], repeats: int = 7) -> float:
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        subprocess.run(cmd, check=True, capture_output=True)
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def main() -> None:
    bare = _time([sys.executable, "-c", "pass"])
    help_ = _time([sys.executable, "-m", "evalkit.cli", "--help"])
    torch_ = _time([sys.executable, "-c", "import torch"], repeats=3)
    print(f"python -c pass      {bare * 1000:7.1f} ms")
    print(f"evalkit --help      {help_ * 1000:7.1f} ms  ({help_ / bare:.1f}x bare python)")
    print(f"import torch        {torch_ * 1000:7.1f} ms  (what --help avoids)")


if __name__ == "__main__":
    main()
