"""Developer sessions: tests, lint, perf. CI runs README's test command through .ci/run."""

from __future__ import annotations

import nox

nox.options.reuse_existing_virtualenvs = True
TORCH = ["torch==2.14.1", "torchvision==0.29.1"]


def _install(session: nox.Session) -> None:
    session.install(*TORCH)
    session.install("-e", ".[dev]")


@nox.session
def tests(session: nox.Session) -> None:
    """The default test suite (what CI runs)."""
    _install(session)
    session.run("python", "-m", "pytest", "-q", *session.posargs)


@nox.session
def lint(session: nox.Session) -> None:
    session.install("ruff")
    paths = ["evalkit", "tests", "scripts", "noxfile.py", "setup.py"]
    session.run("ruff", "check", *paths)
    session.run("ruff", "format", "--check", *paths)


@nox.session
def perf(session: nox.Session) -> None:
    """Speed as ratios against a peer measured in the same run (never asserted in tests)."""
    _install(session)
    session.run("python", "scripts/perf_cli.py")
    for script in ("scripts/perf_fid.py", "scripts/perf_tokbench.py"):
        session.run("python", script, *session.posargs)
