"""CI gate exit codes, locked leaderboard appends, tables and notebook loading."""

from __future__ import annotations

import multiprocessing as mp

import pandas as pd
import pytest
from typer.testing import CliRunner

import evalkit
from evalkit.cli import app
from evalkit.leaderboard import append, load_samples, read, render
from evalkit.records import ROW_COLUMNS
from tests.support import REPO

runner = CliRunner()


@pytest.fixture(scope="module")
def recon_rows(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("gate")
    result = evalkit.run(
        "recon", "jpeg-q50", out_dir=tmp / "out", leaderboard_dir=tmp / "lb", workers=0
    )
    return tmp, result


def test_gate_passes_on_same_rows_and_fails_on_injected_regression(recon_rows, tmp_path):
    tmp, result = recon_rows
    baseline = tmp_path / "baseline.parquet"
    result.rows.to_parquet(baseline)
    ok = runner.invoke(app, ["gate", str(result.run_dir / "results.parquet"), str(baseline)])
    assert ok.exit_code == 0, ok.output
    worse = result.rows.copy()
    worse.loc[worse.metric == "psnr", "value"] -= 0.5  # a 0.5 dB drop
    current = tmp_path / "current.parquet"
    worse.to_parquet(current)
    bad = runner.invoke(app, ["gate", str(current), str(baseline), "--tol", "psnr=0.2"])
    assert bad.exit_code == 1 and "REGRESSION" in bad.output
    tolerated = runner.invoke(app, ["gate", str(current), str(baseline), "--tol", "psnr=0.6"])
    assert tolerated.exit_code == 0, tolerated.output


def test_gate_against_a_whole_leaderboard(recon_rows, tmp_path):
    _, result = recon_rows
    other = result.rows.copy()
    other["model"], other["value"] = "jpeg-q90", other["value"] + 10
    board = pd.concat([result.rows, other])
    board.to_parquet(tmp_path / "board.parquet")
    res = runner.invoke(app, ["gate", str(result.run_dir), str(tmp_path / "board.parquet")])
    assert res.exit_code == 0, res.output  # jpeg-q90's better rows are not this run's baseline


def test_gate_knows_lower_is_better(recon_rows, tmp_path):
    _, result = recon_rows
    base = result.rows.copy()
    base["higher_is_better"] = False  # pretend psnr/ssim were distances
    base.to_parquet(tmp_path / "b.parquet")
    better = base.copy()
    better["value"] -= 0.1
    better.to_parquet(tmp_path / "c.parquet")
    assert (
        runner.invoke(
            app, ["gate", str(tmp_path / "c.parquet"), str(tmp_path / "b.parquet")]
        ).exit_code
        == 0
    )
    worse = base.copy()
    worse["value"] += 0.1
    worse.to_parquet(tmp_path / "w.parquet")
    assert (
        runner.invoke(
            app, ["gate", str(tmp_path / "w.parquet"), str(tmp_path / "b.parquet")]
        ).exit_code
        == 1
    )


def test_gate_usage_errors_exit_2(recon_rows, tmp_path):
    _, result = recon_rows
    rows = str(result.run_dir / "results.parquet")
    assert runner.invoke(app, ["gate", rows, str(tmp_path / "nope.parquet")]).exit_code == 2
    assert runner.invoke(app, ["gate", rows, rows, "--tol", "psnr"]).exit_code == 2
    other = result.rows.copy()
    other["model"] = "someone-else"
    other.to_parquet(tmp_path / "o.parquet")
    assert runner.invoke(app, ["gate", rows, str(tmp_path / "o.parquet")]).exit_code == 2


def _append_worker(args):
    path, rows, i = args
    rows = rows.copy()
    rows["run_id"] = f"writer-{i}"
    append(path, rows)


def test_concurrent_appends_keep_every_row(recon_rows, tmp_path):
    _, result = recon_rows
    path = tmp_path / "lb" / "recon.parquet"
    with mp.get_context("spawn").Pool(4) as pool:
        pool.map(_append_worker, [(path, result.rows, i) for i in range(8)])
    board = read(path)
    assert len(board) == 8 * len(result.rows)
    assert sorted(board["run_id"].unique()) == sorted(f"writer-{i}" for i in range(8))


def test_render_and_notebook_loading(recon_rows):
    tmp, result = recon_rows
    board = read(tmp / "lb" / "recon.parquet")
    assert list(board.columns) == list(ROW_COLUMNS)
    md = render(board, "md", title="recon")
    assert "| model |" in md and "jpeg-q50" in md
    html = render(board, "html")
    assert "<table>" in html and "jpeg-q50" in html
    tidy = evalkit.load_results(tmp / "lb", benchmark="recon")
    assert (
        set(tidy["metric"])
        == {"psnr", "psnr_finite", "n_identical", "ssim", "ssim_uniform7", "bpp"}
        and (tidy["n"] == 12).all()
    )
    samples = load_samples(tmp / "out", benchmark="recon")
    assert len(samples) == 12 and {"psnr", "ssim", "sample_id"} <= set(samples.columns)


def test_schema_doc_lists_every_column():
    doc = (REPO / "leaderboards" / "SCHEMA.md").read_text()
    missing = [c for c in ROW_COLUMNS if f"`{c}`" not in doc]
    assert not missing, f"SCHEMA.md does not document {missing}"


def test_cli_run_show_render(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    res = runner.invoke(
        app, ["run", "recon", "--model", "jpeg-q90", "--limit", "3", "--workers", "0", "--publish"]
    )  # incomplete: only when asked
    assert res.exit_code == 0, res.output
    assert "psnr" in res.output
    show = runner.invoke(app, ["leaderboard", "show", "recon", "--all"])
    assert show.exit_code == 0 and "jpeg-q90 (incomplete)" in show.output
    default = runner.invoke(app, ["leaderboard", "show", "recon"])
    assert default.exit_code == 0 and "jpeg-q90" not in default.output
    out = tmp_path / "t.html"
    rendered = runner.invoke(
        app, ["leaderboard", "render", "recon", "--format", "html", "-o", str(out), "--all"]
    )
    assert rendered.exit_code == 0 and "<table>" in out.read_text()
    assert pd.read_parquet(tmp_path / "leaderboards" / "recon.parquet")["n"].eq(3).all()


def test_cli_unknown_model_is_usage_error(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    res = runner.invoke(app, ["run", "recon", "--model", "jpeg-10"])
    assert res.exit_code == 2 and "Did you mean" in res.output


def test_benchmark_with_own_layout_renders_md_and_html(recon_rows, tmp_path):
    _, result = recon_rows
    rows = []
    for metric, value in (("t_acc", 0.5), ("t_ned", 0.75), ("f_sim", 0.9)):
        for b in ("small", "medium", "large", "mean"):
            row = result.rows.iloc[0].copy()
            row["benchmark"], row["metric"], row["bin"], row["value"] = (
                "tokbench-mini",
                metric,
                b,
                value,
            )
            rows.append(row)
    (tmp_path / "lb").mkdir()
    pd.DataFrame(rows).to_parquet(tmp_path / "lb" / "tokbench-mini.parquet")
    md = runner.invoke(
        app, ["leaderboard", "render", "tokbench-mini", "--leaderboard-dir", str(tmp_path / "lb")]
    )
    assert md.exit_code == 0 and "| jpeg-q50 | 50.00 | 50.00 | 50.00 | 50.00 | 75.00" in md.output
    html = runner.invoke(
        app,
        [
            "leaderboard",
            "render",
            "tokbench-mini",
            "--format",
            "html",
            "--leaderboard-dir",
            str(tmp_path / "lb"),
        ],
    )
    assert html.exit_code == 0
    assert "<th>T-ACC S</th>" in html.output and "<td>jpeg-q50</td><td>50.00</td>" in html.output


def test_gate_refuses_a_baseline_of_other_model_options(recon_rows, tmp_path):
    """Model options (preset, steps, dtype, ...) are part of a row's setting: a baseline run with
    other ones is not this run's baseline, it is refused (exit 2), never compared."""
    _, result = recon_rows
    base = result.rows.copy()
    base["model_options"] = '{"steps": 2}'
    base.to_parquet(tmp_path / "b.parquet")
    res = runner.invoke(app, ["gate", str(result.run_dir), str(tmp_path / "b.parquet")])
    assert res.exit_code == 2 and "model_options differs" in res.output, res.output
    old = result.rows.drop(columns=["model_options", "generation", "image_size"])
    old.to_parquet(tmp_path / "old.parquet")  # a baseline written before the setting columns
    res = runner.invoke(app, ["gate", str(result.run_dir), str(tmp_path / "old.parquet")])
    assert res.exit_code == 0, res.output
