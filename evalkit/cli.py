"""The ``evalkit`` command line: a thin layer over the Python API.

Nothing heavy is imported at module level (no torch, pandas or numpy), so ``evalkit --help``
answers at once; each command imports what it needs.
"""

from __future__ import annotations

import json
import logging
import sys
from pathlib import Path
from typing import Annotated, Any, Optional

import typer

from evalkit import __version__

app = typer.Typer(
    help="evalkit: benchmarks for image tokenizers and generators, with provenance in every row.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
leaderboard_app = typer.Typer(help="Show and publish leaderboard tables.", no_args_is_help=True)
models_app = typer.Typer(help="Model cards and weight availability.", no_args_is_help=True)
app.add_typer(leaderboard_app, name="leaderboard")
app.add_typer(models_app, name="models")


def _fail(message: str, code: int = 1) -> None:
    typer.secho(f"error: {message}", fg=typer.colors.RED, err=True)
    raise typer.Exit(code)


def _parse_options(pairs: list[str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for pair in pairs:
        key, sep, raw = pair.partition("=")
        if not sep or not key:
            _fail(f"bad option {pair!r}: use KEY=VALUE", 2)
        try:
            out[key.replace("-", "_")] = json.loads(raw)
        except json.JSONDecodeError:
            out[key.replace("-", "_")] = raw
    return out


def _version(value: bool) -> None:
    if value:
        typer.echo(__version__)
        raise typer.Exit()


@app.callback()
def main(
    version: Annotated[Optional[bool], typer.Option(
        "--version", callback=_version, is_eager=True, help="Print the version.")] = None,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Log more.")] = False,
) -> None:
    logging.basicConfig(level=logging.DEBUG if verbose else logging.INFO,
                        format="%(levelname)s %(name)s: %(message)s", stream=sys.stderr)


@app.command("list")
def list_entries(
    kind: Annotated[str, typer.Argument(help="models, benchmarks or metrics")],
) -> None:
    """List registered ids (no weights are loaded)."""
    from evalkit import catalog

    registries = {"models": catalog.models, "benchmarks": catalog.benchmarks,
                  "metrics": catalog.metrics}
    if kind not in registries:
        _fail(f"unknown kind {kind!r}: use one of {', '.join(registries)}", 2)
    for name, summary in registries[kind].summaries().items():
        typer.echo(f"{name:<22} {summary}")


@app.command()
def run(
    benchmark: Annotated[str, typer.Argument(help="Benchmark id (evalkit list benchmarks).")],
    model: Annotated[str, typer.Option("--model", "-m", help="Model id (evalkit list models).")],
    resolution: Annotated[Optional[int], typer.Option(help="Setting / input resolution.")] = None,
    limit: Annotated[Optional[int], typer.Option(help="First N samples (marks rows "
                                                      "not comparable).")] = None,
    data: Annotated[Optional[str], typer.Option(help="Dataset folder instead of the "
                                                     "default.")] = None,
    option: Annotated[list[str], typer.Option("--option", "-O", help="Benchmark option "
                                              "KEY=VALUE (repeatable).")] = [],  # noqa: B006
    model_option: Annotated[list[str], typer.Option("--model-option", help="Model option "
                                                    "KEY=VALUE.")] = [],  # noqa: B006
    batch_size: Annotated[int, typer.Option(help="Images per batch.")] = 8,
    device: Annotated[Optional[str], typer.Option(help="cuda, cpu (default: the best).")] = None,
    workers: Annotated[Optional[int], typer.Option(help="DataLoader workers.")] = None,
    precision: Annotated[str, typer.Option(help="fp32 (exact) | bf16 | fp16.")] = "fp32",
    seed: Annotated[int, typer.Option(help="Random seed.")] = 0,
    store: Annotated[Optional[str], typer.Option(help="Offline weights/data store "
                                                      "(default $EVALKIT_STORE).")] = None,
    out: Annotated[Path, typer.Option(help="Where runs and per-sample records go.")] = Path(
        "evalkit-results"),
    leaderboard_dir: Annotated[Path, typer.Option(help="Leaderboard folder to append to.")] = Path(
        "leaderboards"),
    no_leaderboard: Annotated[bool, typer.Option("--no-leaderboard",
                                                 help="Do not append to the leaderboard.")] = False,
    json_out: Annotated[bool, typer.Option("--json", help="Print rows as JSON.")] = False,
    allow_unpinned: Annotated[bool, typer.Option(
        "--allow-unpinned", help="Download weights that have no pinned checksum (rows mark "
        "them '(unpinned)' with the sha256 loaded).")] = False,
) -> None:
    """Run a benchmark on a model; rerunning the same command resumes and adds no duplicates."""
    from evalkit.store import set_store

    if store:
        set_store(store)
    options = _parse_options(option)
    options.update({k: v for k, v in {"resolution": resolution, "limit": limit,
                                       "data": data}.items() if v is not None})
    from evalkit.progress import run_with_progress

    result = run_with_progress(
        benchmark, model, options=options, model_options=_parse_options(model_option),
        batch_size=batch_size, device=device, workers=workers, precision=precision, seed=seed,
        out_dir=out, leaderboard_dir=None if no_leaderboard else leaderboard_dir,
        quiet=json_out, fail=_fail, allow_unpinned=allow_unpinned,
    )
    if json_out:
        typer.echo(result.rows.to_json(orient="records", indent=2))


@app.command()
def gate(
    current: Annotated[Path, typer.Argument(help="Run rows: results.parquet, a run folder "
                                                 "or a leaderboard file.")],
    baseline: Annotated[Path, typer.Argument(help="Baseline rows (parquet).")],
    tol: Annotated[list[str], typer.Option("--tol", help="METRIC=ABS or METRIC=REL% "
                                           "(repeatable).")] = [],  # noqa: B006
    default_tol: Annotated[str, typer.Option(help="Tolerance for other metrics.")] = "1e-4%",
    allow_missing: Annotated[bool, typer.Option(help="Baseline rows absent from the run "
                                                     "are not failures.")] = False,
) -> None:
    """Exit 0 if no metric regressed beyond its tolerance, 1 on a regression, 2 on bad input."""
    from evalkit import gate as g

    try:
        report = g.compare(g.read_rows(current), g.read_rows(baseline),
                           g.parse_tolerances(tol), g.Tolerance.parse(default_tol))
    except g.GateUsageError as exc:
        _fail(str(exc), 2)
    code = g.exit_code(report, allow_missing)
    from evalkit.progress import print_gate

    print_gate(report, code)
    raise typer.Exit(code)


LeaderboardDir = Annotated[Path, typer.Option(help="Leaderboard folder.")]


def _leaderboard_file(leaderboard_dir: Path, benchmark: str) -> Path:
    path = leaderboard_dir / f"{benchmark}.parquet"
    if not path.exists():
        _fail(f"no leaderboard at {path}; run `evalkit run {benchmark} --model ...` first", 2)
    return path


@leaderboard_app.command("show")
def leaderboard_show(
    benchmark: Annotated[str, typer.Argument(help="Benchmark id.")],
    leaderboard_dir: LeaderboardDir = Path("leaderboards"),
) -> None:
    """Print a leaderboard as a terminal table."""
    from evalkit.leaderboard import pivot, read
    from evalkit.progress import print_frame

    path = _leaderboard_file(leaderboard_dir, benchmark)
    print_frame(pivot(read(path)), title=f"{benchmark} ({path})")


@leaderboard_app.command("render")
def leaderboard_render(
    benchmark: Annotated[str, typer.Argument(help="Benchmark id.")],
    fmt: Annotated[str, typer.Option("--format", help="md or html.")] = "md",
    output: Annotated[Optional[Path], typer.Option("--output", "-o", help="File to write "
                                                   "(default: stdout).")] = None,
    leaderboard_dir: LeaderboardDir = Path("leaderboards"),
) -> None:
    """Write a publishable table (markdown or HTML) from leaderboards/<benchmark>.parquet."""
    from evalkit import catalog
    from evalkit.leaderboard import read, render

    path = _leaderboard_file(leaderboard_dir, benchmark)
    if fmt not in ("md", "html"):
        _fail(f"--format must be md or html, not {fmt!r}", 2)
    df = read(path)
    if benchmark in catalog.tables:
        from evalkit.leaderboard import markdown_to_html

        text = catalog.tables.factory(benchmark)(df)
        text = markdown_to_html(text) if fmt == "html" else text
    else:
        text = render(df, fmt, title=benchmark)
    if output:
        output.write_text(text)
        typer.echo(f"wrote {output}")
    else:
        typer.echo(text)


@models_app.command("list")
def models_list() -> None:
    """Every model id with family, kind of tokens, size and where its weights are."""
    from evalkit.modelinfo import model_table
    from evalkit.progress import print_frame

    print_frame(model_table(), title="models")


@models_app.command("show")
def models_show(model: Annotated[str, typer.Argument(help="Model id.")]) -> None:
    """Print a model's card."""
    from evalkit.modelinfo import card_text

    typer.echo(card_text(model))


def _mount_optional_commands() -> None:
    """Commands that live in their own modules (which import torch only when run)."""
    try:
        from evalkit.fid.command import fid
    except ImportError:  # the FID stack is optional
        return
    app.command("fid")(fid)


_mount_optional_commands()


if __name__ == "__main__":
    app()
