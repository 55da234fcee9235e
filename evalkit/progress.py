"""Terminal output: a progress bar with throughput, the run summary and gate reports (rich)."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any, NoReturn

import pandas as pd
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    Task,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.table import Table
from rich.text import Text

console = Console(stderr=True)
stdout = Console()


class _Throughput(ProgressColumn):
    def render(self, task: Task) -> Text:
        speed = task.finished_speed or task.speed
        return Text(f"{speed:.2f} img/s" if speed else "- img/s", style="cyan")


def _cell(v: Any) -> str:
    if isinstance(v, float):
        if math.isnan(v):
            return ""
        return "inf" if math.isinf(v) else f"{v:.4f}"
    return "" if v is None or (not isinstance(v, str) and pd.isna(v)) else str(v)


def print_frame(df: pd.DataFrame, title: str = "") -> None:
    table = Table(title=title or None, show_lines=False)
    for col in df.columns:
        table.add_column(str(col), overflow="fold")
    for row in df.itertuples(index=False):
        table.add_row(*(_cell(v) for v in row))
    stdout.print(table)


def run_with_progress(
    benchmark: str, model: str, *, quiet: bool, fail: Callable[[str, int], NoReturn], **kwargs: Any
) -> Any:
    """Run with a progress bar; known failures become one clear message and exit code."""
    from evalkit.registry import UnknownEntryError
    from evalkit.runner import RunError, run
    from evalkit.runstore import IncompleteRunError, ShardBusyError
    from evalkit.store import ChecksumError, MissingAssetError

    progress = Progress(
        TextColumn(f"[bold]{benchmark}[/] x [bold]{model}"),
        BarColumn(),
        MofNCompleteColumn(),
        _Throughput(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=console,
        disable=quiet,
    )
    task_id = None

    def on_start(total: int, done: int) -> None:
        nonlocal task_id
        progress.start()  # only once the run is set up: an early error prints no empty bar
        task_id = progress.add_task("run", total=total, completed=done)
        if done:
            console.print(f"resuming: {done} of {total} samples already done")

    def on_batch(n_new: int, n_done: int) -> None:
        progress.update(task_id, advance=n_new)

    try:
        try:
            result = run(benchmark, model, on_start=on_start, on_batch=on_batch, **kwargs)
        finally:
            if task_id is not None:
                progress.stop()
    except (UnknownEntryError, ValueError) as exc:
        fail(str(exc), 2)
    except (MissingAssetError, ChecksumError, RunError, IncompleteRunError, ShardBusyError) as exc:
        fail(str(exc), 1)
    if not quiet:
        print_summary(result)
    return result


def merge_with_report(
    run_dir: Any, *, quiet: bool, fail: Callable[[str, int], NoReturn], **kwargs: Any
) -> Any:
    """`evalkit merge`: known failures (a missing shard, ...) become one message and exit code."""
    from evalkit.registry import UnknownEntryError
    from evalkit.runner import merge
    from evalkit.runstore import IncompleteRunError, ShardBusyError
    from evalkit.store import ChecksumError, MissingAssetError

    try:
        result = merge(run_dir, **kwargs)
    except (UnknownEntryError, ValueError) as exc:
        fail(str(exc), 2)
    except (MissingAssetError, ChecksumError, IncompleteRunError, ShardBusyError) as exc:
        fail(str(exc), 1)
    if not quiet:
        print_summary(result)
    return result


def print_summary(result: Any) -> None:
    rows = result.rows
    first = rows.iloc[0]
    title = (
        f"{first['benchmark']} v{first['benchmark_version']} | {first['model']} | "
        f"{first['resolution']}px | {first['device']} | {first['precision']}"
    )
    cols = ["subset", "bin", "metric", "value", "n", "reported_value", "judge"]
    shown = rows[cols].rename(columns={"reported_value": "reported"})
    shown = shown.loc[:, [c for c in shown.columns if shown[c].notna().any()]]
    print_frame(shown, title=title)
    if result.judges:
        console.print("judges: " + ", ".join(f"{k} ({v})" for k, v in result.judges.items()))
    if not bool(first["comparable"]):  # why, as evalkit.flags derived it
        console.print(f"note: {first['flag_reasons']}", markup=False, style="yellow")
    console.print(f"run {result.run_id}: {result.run_dir}")


def print_gate(report: pd.DataFrame, code: int) -> None:
    print_frame(report, title="gate: current vs baseline")
    verdict = {0: "[green]PASS", 1: "[red]REGRESSION"}[code]
    console.print(
        f"{verdict}[/] ({(report['status'] == 'regression').sum()} regressed, "
        f"{(report['status'] == 'missing').sum()} missing)"
    )
