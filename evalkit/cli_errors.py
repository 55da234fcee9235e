"""One place where every command's errors become one line and an exit code (see evalkit.errors).

The ``evalkit`` Typer app uses :class:`ErrorHandlingGroup` as its click group, so every command
and sub-command (``leaderboard show``, ``models show``, ``fid``, ...) is covered without each one
catching its own exceptions. ``EVALKIT_TRACEBACK=1`` re-raises instead, for debugging.
"""

from __future__ import annotations

import os
from typing import Any

import click
import typer
from typer.core import TyperGroup

from evalkit.errors import describe

TRACEBACK_ENV = "EVALKIT_TRACEBACK"


def report(exc: BaseException) -> int:
    """Print the one-line message for ``exc`` on stderr; return the exit code."""
    code, message = describe(exc)
    lines = [ln for ln in message.splitlines() if ln.strip()]
    first = lines[0] if lines else message
    # several lines of advice (e.g. where to put a missing download) stay readable below it
    rest = "\n".join(lines[1:])
    prefix = "interrupted" if isinstance(exc, KeyboardInterrupt) else "error"
    if not first.startswith(prefix):
        first = f"{prefix}: {first}"
    typer.secho(first, fg=typer.colors.RED, err=True)
    if rest:
        typer.echo(rest, err=True)
    return code


class ErrorHandlingGroup(TyperGroup):
    """A Typer group whose commands report errors as one line (no traceback)."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except (click.exceptions.Exit, click.ClickException, click.exceptions.Abort, typer.Exit):
            raise
        except (Exception, KeyboardInterrupt) as exc:
            if os.environ.get(TRACEBACK_ENV, "") not in ("", "0"):
                raise
            raise typer.Exit(report(exc)) from None
