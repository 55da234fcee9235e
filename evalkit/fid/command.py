"""``evalkit fid A B``: the everyday two-folder FID, mounted by the CLI as ``app.command("fid")``.

Only typer and the standard library at import time: torch is imported inside the command. The
terminal gets a progress bar per side and one line per message: Python warnings are caught, the
protocol deviations among them go into the final "NOT COMPARABLE" line, evalkit's other warnings
become "warning: ..." lines, and third-party deprecation notices go to the debug log (-v).
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import sys
import warnings
from collections.abc import Callable, Iterator
from typing import Annotated, Any, Optional

import typer


def fid(
    a: Annotated[str, typer.Argument(help="samples: image folder, .npz (arr_0) or statistics")],
    b: Annotated[str, typer.Argument(help="reference: image folder, ADM .npz (mu/sigma), stats")],
    kid: Annotated[bool, typer.Option("--kid", help="also Kernel Inception Distance")] = False,
    prc: Annotated[bool, typer.Option("--prc", help="also precision/recall (k=3)")] = False,
    isc: Annotated[
        bool, typer.Option("--isc", help="also Inception Score of A (online weights)")
    ] = False,
    features: Annotated[
        str,
        typer.Option(help="space of the main distance: inception (FID) | dinov2-vit-l-14"),
    ] = "inception",
    sfid: Annotated[bool, typer.Option("--sfid", help="also sFID (ADM, mixed_6/conv)")] = False,
    cmmd: Annotated[bool, typer.Option("--cmmd", help="also CMMD (CLIP ViT-L/14@336)")] = False,
    dc: Annotated[bool, typer.Option("--dc", help="also density/coverage (k=5)")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="print one JSON object")] = False,
    batch_size: Annotated[
        Optional[int], typer.Option(help="images per Inception batch (default: 8 CPU, 64 GPU)")
    ] = None,
    device: Annotated[
        Optional[str], typer.Option(help="cpu, cuda, cuda:1 ... (default: the best)")
    ] = None,
    weights: Annotated[str, typer.Option(help="auto | torch-fidelity | fid-helper")] = "auto",
    cache: Annotated[bool, typer.Option("--cache/--no-cache", help="reuse statistics")] = True,
    min_samples: Annotated[str, typer.Option(help="below 2048: warn | error | ignore")] = "warn",
    kid_subset_size: Annotated[int, typer.Option(help="KID subset size")] = 1000,
    num_workers: Annotated[int, typer.Option(help="image decoding workers")] = 0,
    cache_max: Annotated[
        Optional[str],
        typer.Option(help="statistics cache cap, LRU (default $EVALKIT_FID_CACHE_MAX or 2GB)"),
    ] = None,
    allow_unpinned: Annotated[
        bool,
        typer.Option(
            "--allow-unpinned", help="allow downloading weights without a pinned checksum"
        ),
    ] = False,
) -> None:
    """FID (or FD-DINOv2) between two image sets (folders, npz batches or cached statistics)."""
    from evalkit.fid import cachedir
    from evalkit.fid.api import fid as fid_api
    from evalkit.store import allowing_unpinned

    if cache_max is not None:
        cachedir.parse_size(cache_max)  # a bad size is one error line (exit 2)
        os.environ[cachedir.MAX_ENV] = cache_max

    logging.basicConfig(level=logging.INFO, format="%(message)s", stream=sys.stderr)
    try:
        with allowing_unpinned(allow_unpinned), _terminal() as progress:
            res = fid_api(
                a,
                b,
                kid=kid,
                prc=prc,
                isc=isc,
                batch_size=batch_size,
                device=device,
                weights=weights,  # type: ignore[arg-type]
                cache=cache,
                min_samples=min_samples,
                kid_subset_size=kid_subset_size,
                num_workers=num_workers,
                progress=progress,
                features=features,
                sfid=sfid,
                cmmd=cmmd,
                dc=dc,
            )
    except (ValueError, FileNotFoundError, FloatingPointError, RuntimeError) as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from exc
    if as_json:
        typer.echo(json.dumps(res.to_dict(), indent=2))
        return
    from evalkit.fid.spaces import DISTANCE_NAME

    rows = [(DISTANCE_NAME[res.features], res.fid)]
    if res.kid_mean is not None:
        rows.append((f"KID (subset {res.kid_subset_size})", res.kid_mean))
    if res.precision is not None:
        rows += [("precision", res.precision), ("recall", res.recall)]
    if res.isc_mean is not None:
        rows.append(("IS", res.isc_mean))
    for name, value in (("sFID", res.sfid), ("CMMD", res.cmmd)):
        if value is not None:
            rows.append((name, value))
    if res.density is not None:
        rows += [("density (k=5)", res.density), ("coverage (k=5)", res.coverage)]
    for name, value in rows:
        typer.echo(f"{name:<20} {value:.6g}   n_a={res.n_a} n_b={res.n_b}")
    typer.echo(f"weights: {res.weights}   cache: A={res.cache_a} B={res.cache_b}")
    for metric, weights_id in res.extra_weights.items():
        typer.echo(f"{metric} weights: {weights_id}")
    if not res.comparable:
        typer.echo("NOT COMPARABLE with published numbers: " + "; ".join(res.deviations), err=True)


@contextlib.contextmanager
def _terminal() -> Iterator[Callable[[str, int, int], None]]:
    """A rich progress bar per side on stderr, and Python warnings caught: yields the hook
    for :func:`evalkit.fid.api.fid`; on exit the warnings are reported as one line each."""
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    bars = Progress(
        TextColumn("[bold]Inception[/] {task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=Console(stderr=True),
    )
    tasks: dict[str, Any] = {}

    def hook(side: str, done: int, total: int) -> None:
        if side not in tasks:
            bars.start()
            tasks[side] = bars.add_task(side, total=total)
        bars.update(tasks[side], completed=done)

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            yield hook
        finally:
            bars.stop()
    _report(caught)


def _report(caught: list[warnings.WarningMessage]) -> None:
    from evalkit.fid.stats import ProtocolDeviationWarning

    log = logging.getLogger("evalkit.fid")
    seen: set[str] = set()
    for w in caught:
        text = str(w.message)
        if issubclass(w.category, ProtocolDeviationWarning) or text in seen:
            continue  # deviations: in the NOT COMPARABLE line; each message once
        seen.add(text)
        if w.category.__module__.startswith("evalkit"):
            typer.echo(f"warning: {text}", err=True)
        else:
            log.debug("%s (%s:%s)", text, w.filename, w.lineno)
