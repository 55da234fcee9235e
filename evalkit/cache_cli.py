"""``evalkit cache info|clear``: the FID statistics cache (size, cap, entries; empty it).

Standard library and typer only: these commands never import torch or numpy.
"""

from __future__ import annotations

from typing import Annotated

import typer

cache_app = typer.Typer(
    help="The FID statistics cache: what it holds, its cap, and clearing it.", no_args_is_help=True
)


@cache_app.command("info")
def cache_info(
    verbose: Annotated[bool, typer.Option("--list", "-l", help="List every entry.")] = False,
) -> None:
    """Where the cache is, how much it holds and its cap (least recently used go first)."""
    from evalkit.fid import cachedir

    root = cachedir.refstats_dir()
    listed = cachedir.entries(root)
    total = sum(e.size for e in listed)
    limit = cachedir.max_bytes()
    typer.echo(f"fid statistics cache: {root}")
    typer.echo(
        f"  entries: {len(listed)}, {cachedir.human(total)} of {cachedir.human(limit)}"
        f" (cap from ${cachedir.MAX_ENV}, default {cachedir.DEFAULT_MAX})"
    )
    if listed:
        typer.echo(
            f"  least recently used: {cachedir.age(listed[0].last_used)}; "
            f"most recently used: {cachedir.age(listed[-1].last_used)}"
        )
    if verbose:
        for e in reversed(listed):
            typer.echo(
                f"  {e.path.name}  {cachedir.human(e.size):>9}  used {cachedir.age(e.last_used)}"
            )


@cache_app.command("clear")
def cache_clear() -> None:
    """Remove every cached FID statistics file (they are recomputed when next needed)."""
    from evalkit.fid import cachedir

    root = cachedir.refstats_dir()
    gone = cachedir.clear(root)
    typer.echo(
        f"removed {len(gone)} entr{'y' if len(gone) == 1 else 'ies'} "
        f"({cachedir.human(sum(e.size for e in gone))}) from {root}"
    )
