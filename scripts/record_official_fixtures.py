"""Record test fixtures from the official implementations (run by hand; never imported by evalkit).

Each recorder is one module, ``scripts/official_fixtures/<name>.py``, with ``add_arguments(parser)``
and ``record(args) -> Path``; adding one is adding that file. The official code is NOT part of
this repository: install or check it out elsewhere (a throwaway environment) and pass its folder.

    python scripts/record_official_fixtures.py --list
    python scripts/record_official_fixtures.py <name> --help
"""

from __future__ import annotations

import argparse
import importlib
import pkgutil
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import official_fixtures  # noqa: E402 - found through the path set just above


def recorders() -> list[str]:
    """Every recorder module's name (the first argument)."""
    names = [m.name for m in pkgutil.iter_modules(official_fixtures.__path__)]
    return sorted(n for n in names if n != "common")


def main(argv: list[str] | None = None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    if not argv or argv[0] in ("-h", "--help", "--list"):
        print(__doc__.strip() + "\n\nrecorders: " + ", ".join(recorders()))
        return
    name = argv[0]
    if name not in recorders():
        sys.exit(f"unknown recorder {name!r}; one of: {', '.join(recorders())}")
    module = importlib.import_module(f"official_fixtures.{name}")
    parser = argparse.ArgumentParser(
        prog=f"record_official_fixtures.py {name}", description=module.__doc__
    )
    module.add_arguments(parser)
    print(module.record(parser.parse_args(argv[1:])))


if __name__ == "__main__":
    main()
