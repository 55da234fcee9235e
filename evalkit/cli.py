"""The ``evalkit`` command line: a thin layer over the Python API.

Nothing heavy is imported at module level (no torch, pandas or numpy), so ``evalkit --help``
answers at once; each command imports what it needs.
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path
from typing import Annotated, Any, Optional

import typer

from evalkit import __version__
from evalkit.cli_errors import ErrorHandlingGroup

app = typer.Typer(
    help="evalkit: benchmarks for image tokenizers and generators, with provenance in every row.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    cls=ErrorHandlingGroup,  # every error: one line and exit 2 (bad input) or 1 (run time)
)
leaderboard_app = typer.Typer(help="Show and publish leaderboard tables.", no_args_is_help=True)
models_app = typer.Typer(help="Model cards and weight availability.", no_args_is_help=True)
app.add_typer(leaderboard_app, name="leaderboard")
app.add_typer(models_app, name="models")
benchmarks_app = typer.Typer(
    help="Protocol cards (benchmarks/<id>/card.toml).", no_args_is_help=True
)
app.add_typer(benchmarks_app, name="benchmarks")


def _fail(message: str, code: int = 1) -> None:
    typer.secho(f"error: {message}", fg=typer.colors.RED, err=True)
    raise typer.Exit(code)


def _parse_options(pairs: list[str]) -> dict[str, Any]:
    """KEY=VALUE strings; the runner types them against the factory (evalkit.options)."""
    from evalkit.options import parse_pairs

    return dict(parse_pairs(pairs))


def _version(value: bool) -> None:
    if value:
        typer.echo(__version__)
        raise typer.Exit()


@app.callback()
def main(
    version: Annotated[
        Optional[bool],
        typer.Option("--version", callback=_version, is_eager=True, help="Print the version."),
    ] = None,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Log more.")] = False,
) -> None:
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.INFO,
        format="%(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )


@app.command("list")
def list_entries(
    kind: Annotated[str, typer.Argument(help="models, benchmarks or metrics")],
) -> None:
    """List registered ids (no weights are loaded)."""
    from evalkit import catalog

    registries = {
        "models": catalog.models,
        "benchmarks": catalog.benchmarks,
        "metrics": catalog.metrics,
    }
    if kind not in registries:
        _fail(f"unknown kind {kind!r}: use one of {', '.join(registries)}", 2)
    if kind == "metrics":  # direction, units and library: building a metric imports no torch
        for name, summary in catalog.metrics.summaries().items():
            m = catalog.metrics.build(name)
            way = "higher" if m.higher_is_better else "lower"
            typer.echo(f"{name:<16} {way:<6} {m.units[:8]:<8} {m.library[:14]:<14} {summary}"[:80])
        return
    for name, summary in registries[kind].summaries().items():
        typer.echo(f"{name:<22} {summary}")


@app.command()
def run(
    benchmark: Annotated[str, typer.Argument(help="Benchmark id (evalkit list benchmarks).")],
    model: Annotated[
        str,
        typer.Option(
            "--model",
            "-m",
            help="Model id (evalkit list models); a sweep: 'jpeg-q{10..90..10},taef2'.",
        ),
    ],
    resolution: Annotated[Optional[int], typer.Option(help="Setting / input resolution.")] = None,
    limit: Annotated[
        Optional[int],
        typer.Option(
            help="Score only the first N samples, for every benchmark; for generator benchmarks "
            "a sample is one prompt with all its images. Rows are then not complete."
        ),
    ] = None,
    data: Annotated[
        Optional[str], typer.Option(help="Dataset folder instead of the default.")
    ] = None,
    option: Annotated[
        list[str], typer.Option("--option", "-O", help="Benchmark option KEY=VALUE (repeatable).")
    ] = [],  # noqa: B006
    model_option: Annotated[
        list[str], typer.Option("--model-option", help="Model option KEY=VALUE.")
    ] = [],  # noqa: B006
    batch_size: Annotated[int, typer.Option(help="Images per batch.")] = 8,
    device: Annotated[Optional[str], typer.Option(help="cuda, cpu (default: the best).")] = None,
    workers: Annotated[Optional[int], typer.Option(help="DataLoader workers.")] = None,
    precision: Annotated[str, typer.Option(help="fp32 (exact) | bf16 | fp16.")] = "fp32",
    seed: Annotated[
        int,
        typer.Option(
            help="The run's seed: every seed a benchmark draws (generated images, also with "
            "-O seeding=official) comes from it; there is no -O seed."
        ),
    ] = 0,
    store: Annotated[
        Optional[str], typer.Option(help="Offline weights/data store (default $EVALKIT_STORE).")
    ] = None,
    out: Annotated[Path, typer.Option(help="Where runs and per-sample records go.")] = Path(
        "evalkit-results"
    ),
    leaderboard_dir: Annotated[
        Optional[Path],
        typer.Option(
            help="Leaderboard folder to append to (default leaderboards/). A run that is not "
            "complete is appended to no folder without --publish."
        ),
    ] = None,
    no_leaderboard: Annotated[
        bool, typer.Option("--no-leaderboard", help="Do not append to the leaderboard.")
    ] = False,
    publish: Annotated[
        bool,
        typer.Option(
            "--publish", help="Append to the leaderboard even when the run is not complete."
        ),
    ] = False,
    json_out: Annotated[bool, typer.Option("--json", help="Print rows as JSON.")] = False,
    shard: Annotated[
        Optional[str],
        typer.Option(
            help="Run only shard K/N (K from 0) as an independent job; then `evalkit merge`."
        ),
    ] = None,
    allow_unpinned: Annotated[
        bool,
        typer.Option(
            "--allow-unpinned",
            help="Also download URLs that publish no checksum of any kind (rows say "
            "they were not verified, with the sha256 loaded).",
        ),
    ] = False,
) -> None:
    """Run a benchmark on a model; rerunning the same command resumes and adds no duplicates.

    Under torchrun every rank takes its own shard and rank 0 writes the rows once.
    """
    from evalkit.store import set_store

    if store:
        set_store(store)
    options = _parse_options(option)
    options.update(
        {
            k: v
            for k, v in {"resolution": resolution, "limit": limit, "data": data}.items()
            if v is not None
        }
    )
    from evalkit.sweep import SweepError, expand_models

    try:
        model_ids = expand_models(model)
    except SweepError as exc:
        _fail(str(exc), 2)
    from evalkit.distributed import env_world
    from evalkit.progress import run_with_progress

    world = env_world()
    follower = world is not None and world[0] != 0  # torchrun: rank 0 alone reports
    for model_id in model_ids:  # a sweep runs each model in turn
        result = run_with_progress(
            benchmark,
            model_id,
            options=options,
            model_options=_parse_options(model_option),
            batch_size=batch_size,
            device=device,
            workers=workers,
            precision=precision,
            seed=seed,
            out_dir=out,
            leaderboard_dir=None
            if no_leaderboard or shard
            else (leaderboard_dir or Path("leaderboards")),
            publish=publish,
            quiet=json_out or follower or bool(shard),
            fail=_fail,
            shard=shard,
            allow_unpinned=allow_unpinned,
        )
        if shard:
            typer.echo(
                f"shard {shard} done: {result.run_dir}\nwhen every shard is done: "
                f"evalkit merge {result.run_dir}",
                err=True,
            )
        elif json_out and not follower:
            typer.echo(result.rows.to_json(orient="records", indent=2))


@app.command()
def fetch(
    benchmark: Annotated[
        Optional[str], typer.Argument(help="Benchmark id; omit to fetch the models' weights only.")
    ] = None,
    model: Annotated[list[str], typer.Option("--model", "-m", help="Model id (repeatable).")] = [],  # noqa: B006
    store: Annotated[
        Path, typer.Option(help="The offline store to fill (created if absent).")
    ] = Path("evalkit-store"),
    option: Annotated[
        list[str], typer.Option("--option", "-O", help="Benchmark option KEY=VALUE (judges).")
    ] = [],  # noqa: B006
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="List the files and total size; download nothing.")
    ] = False,
    allow_unpinned: Annotated[
        bool,
        typer.Option("--allow-unpinned", help="Also fetch URLs that publish no checksum at all."),
    ] = False,
) -> None:
    """Download everything a run needs (weights, judges, data) into an offline store, verified
    and locked (<store>/evalkit.lock.json); then `evalkit run ... --store <store>` needs no
    network."""
    from evalkit import fetch as fetcher
    from evalkit.assets import run_context
    from evalkit.needs import run_needs

    if not benchmark and not model:
        _fail("give a benchmark and/or --model", 2)
    from evalkit.sweep import SweepError, expand_models

    try:  # the same sweeps as `run` ('one-d-piece-l256@{32,64}')
        model = [one for spec in model for one in expand_models(spec)]
    except SweepError as exc:
        _fail(str(exc), 2)
    needs = run_needs(benchmark, list(model), _parse_options(option))
    with run_context(benchmark, ",".join(model) or "<model>"):
        if dry_run:
            typer.echo(fetcher.table(fetcher.dry_run(store, needs), dry=True))
            return
        rows = fetcher.fetch(store, needs, allow_unpinned)
    typer.echo(fetcher.table(rows, dry=False))
    typer.echo(f"store: {store} (lock: {store / 'evalkit.lock.json'}); run with --store {store}")


@app.command()
def merge(
    run_dir: Annotated[
        Path,
        typer.Argument(help="Run folder <out>/<benchmark>/<model>/<run_id> that the shards wrote."),
    ],
    store: Annotated[
        Optional[str], typer.Option(help="Offline weights/data store (default $EVALKIT_STORE).")
    ] = None,
    leaderboard_dir: Annotated[Path, typer.Option(help="Leaderboard folder to append to.")] = Path(
        "leaderboards"
    ),
    no_leaderboard: Annotated[
        bool, typer.Option("--no-leaderboard", help="Do not append to the leaderboard.")
    ] = False,
    publish: Annotated[
        bool,
        typer.Option(
            "--publish", help="Append to the leaderboard even when the run is not complete."
        ),
    ] = False,
    json_out: Annotated[bool, typer.Option("--json", help="Print rows as JSON.")] = False,
) -> None:
    """Combine the shards of one run (--shard K/N jobs) into its rows; exact and idempotent.

    Every shard must belong to this run: one copied from another run is refused by name."""
    from evalkit.store import set_store

    if store:
        set_store(store)
    from evalkit.progress import merge_with_report

    result = merge_with_report(
        run_dir,
        leaderboard_dir=None if no_leaderboard else leaderboard_dir,
        publish=publish,
        quiet=json_out,
        fail=_fail,
    )
    if json_out:
        typer.echo(result.rows.to_json(orient="records", indent=2))


@app.command()
def gate(
    current: Annotated[
        Path, typer.Argument(help="Run rows: results.parquet, a run folder or a leaderboard file.")
    ],
    baseline: Annotated[Path, typer.Argument(help="Baseline rows (parquet).")],
    tol: Annotated[
        list[str], typer.Option("--tol", help="METRIC=ABS or METRIC=REL% (repeatable).")
    ] = [],  # noqa: B006
    default_tol: Annotated[str, typer.Option(help="Tolerance for other metrics.")] = "1e-4%",
    allow_missing: Annotated[
        bool, typer.Option(help="Values present on one side only are not failures.")
    ] = False,
    fmt: Annotated[
        str, typer.Option("--format", help="text (fits 80 columns), md or json.")
    ] = "text",
) -> None:
    """Exit 0 if no metric regressed beyond its tolerance, 1 on a regression, 2 on bad input."""
    from evalkit import gate as g

    if fmt not in g.FORMATS:
        _fail(f"--format must be one of {', '.join(g.FORMATS)}, not {fmt!r}", 2)
    try:
        report = g.compare(
            g.read_rows(current),
            g.read_rows(baseline),
            g.parse_tolerances(tol),
            g.Tolerance.parse(default_tol),
        )
    except g.GateUsageError as exc:
        _fail(str(exc), 2)
    code = g.exit_code(report, allow_missing)
    typer.echo(g.FORMATS[fmt](report, code), nl=False)
    raise typer.Exit(code)


LeaderboardDir = Annotated[Path, typer.Option(help="Leaderboard folder.")]


def _leaderboard_file(leaderboard_dir: Path, benchmark: str) -> Path:
    path = leaderboard_dir / f"{benchmark}.parquet"
    if not path.exists():
        _fail(f"no leaderboard at {path}; run `evalkit run {benchmark} --model ...` first", 2)
    from evalkit.errors import InputFileError

    try:  # the footer names a corrupt or truncated file before pandas tries to read it
        import pyarrow.parquet as pq

        pq.read_metadata(path)
    except Exception as exc:  # noqa: BLE001 - pyarrow raises several types for bad files
        raise InputFileError(f"cannot read the leaderboard {path}: {exc}") from None
    return path


ShowAll = Annotated[
    bool,
    typer.Option(
        "--all",
        help="Also rows of incomplete runs (--limit, other data, non-default options), marked.",
    ),
]


def _table_text(benchmark: str, path: Path, fmt: str, include_all: bool) -> str:
    from evalkit import catalog
    from evalkit.leaderboard import markdown_to_html, read, render

    df = read(path)
    if benchmark in catalog.tables:
        text = catalog.tables.factory(benchmark)(df, include_all=include_all)
        return markdown_to_html(text) if fmt == "html" else text
    return render(df, fmt, title=benchmark, include_all=include_all)


@leaderboard_app.command("show")
def leaderboard_show(
    benchmark: Annotated[str, typer.Argument(help="Benchmark id.")],
    leaderboard_dir: LeaderboardDir = Path("leaderboards"),
    include_all: ShowAll = False,
) -> None:
    """Print a leaderboard (complete runs only, unless --all) as a table with its notes, fitted
    to the terminal (`render` writes the publishable Markdown/HTML)."""
    from evalkit.display import markdown_text, terminal_width

    path = _leaderboard_file(leaderboard_dir, benchmark)
    text = _table_text(benchmark, path, "md", include_all)
    typer.echo(markdown_text(text, terminal_width()), nl=False)


@leaderboard_app.command("render")
def leaderboard_render(
    benchmark: Annotated[str, typer.Argument(help="Benchmark id.")],
    fmt: Annotated[str, typer.Option("--format", help="md or html.")] = "md",
    output: Annotated[
        Optional[Path], typer.Option("--output", "-o", help="File to write (default: stdout).")
    ] = None,
    leaderboard_dir: LeaderboardDir = Path("leaderboards"),
    include_all: ShowAll = False,
) -> None:
    """Write a publishable table (markdown or HTML) from leaderboards/<benchmark>.parquet:
    complete runs only unless --all; cells never mix configurations."""
    path = _leaderboard_file(leaderboard_dir, benchmark)
    if fmt not in ("md", "html"):
        _fail(f"--format must be md or html, not {fmt!r}", 2)
    text = _table_text(benchmark, path, fmt, include_all)
    if output:
        output.write_text(text)
        typer.echo(f"wrote {output}")
    else:
        typer.echo(text)


@leaderboard_app.command("site")
def leaderboard_site(
    out_dir: Annotated[Path, typer.Argument(help="Folder to write the site into.")],
    benchmarks: Annotated[
        Optional[list[str]],
        typer.Option("--benchmarks", "-b", help="Only these benchmarks (repeatable)."),
    ] = None,
    leaderboard_dir: LeaderboardDir = Path("leaderboards"),
) -> None:
    """A static site (index + one page per benchmark, SVG plots) from the parquet files."""
    from evalkit.site import build_site

    try:
        pages = build_site(out_dir, leaderboard_dir, benchmarks or None)
    except FileNotFoundError as exc:
        _fail(str(exc), 2)
    typer.echo(f"wrote {len(pages)} pages to {out_dir} (open {out_dir / 'index.html'})")


@models_app.command("list")
def models_list() -> None:
    """Every model id with family, kind of tokens, size and where its weights are."""
    from evalkit.display import table_lines, terminal_width
    from evalkit.modelinfo import model_table, restricted_ids

    table = model_table().astype(object)
    rows = table.where(table.notna(), "").astype(str).values.tolist()
    width = terminal_width()
    typer.echo("\n".join(table_lines(list(table.columns), rows, width)))
    restricted = restricted_ids()
    if restricted:
        import textwrap

        note = "Research or non-commercial use only (licence: `evalkit models show <id>`): "
        typer.echo(
            "\n" + textwrap.fill(note + ", ".join(restricted), width, break_on_hyphens=False)
        )


@models_app.command("show")
def models_show(model: Annotated[str, typer.Argument(help="Model id.")]) -> None:
    """Print a model's card."""
    from evalkit.modelinfo import card_text

    typer.echo(card_text(model))


@benchmarks_app.command("show")
def benchmarks_show(
    benchmark: Annotated[str, typer.Argument(help="Benchmark id.")],
    toml: Annotated[bool, typer.Option("--toml", help="Print the card file itself.")] = False,
) -> None:
    """Print a benchmark's protocol card, fitted to the terminal (no torch, no data)."""
    from evalkit.cards import CardError, card_toml, show
    from evalkit.display import terminal_width

    try:
        typer.echo(card_toml(benchmark) if toml else show(benchmark, terminal_width()), nl=False)
    except CardError as exc:
        _fail(str(exc), 2)


@benchmarks_app.command("list")
def benchmarks_list() -> None:
    """Every benchmark id with the title of its card."""
    from evalkit.cards import card_ids, load_card

    for bid in card_ids():
        typer.echo(f"{bid:<22} {load_card(bid)['title']}")


def _mount_cache_commands() -> None:
    from evalkit.cache_cli import cache_app  # torch-free

    app.add_typer(cache_app, name="cache")


_mount_cache_commands()


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
