"""`evalkit gate` never lies (issue 8): empty bins, settings, comparability, typos, output.

Each test names the defect it pins down; before the fix each of them failed (NaN vs NaN was a
regression, a 512-only run had 30 missing rows, a --limit run "improved", a --tol typo was
ignored, the report was a rich table wider than 80 columns).
"""

from __future__ import annotations

import json
import math
import shutil
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

import evalkit
from evalkit.cli import app
from tests.support import REPO, SHARED_OFFLINE, needs_store

runner = CliRunner()


@pytest.fixture(scope="module")
def rows(tmp_path_factory) -> pd.DataFrame:
    tmp = tmp_path_factory.mktemp("trust-gate")
    return evalkit.run("recon", "jpeg-q50", out_dir=tmp / "out", workers=0).rows


def _gate(tmp: Path, current: pd.DataFrame, baseline: pd.DataFrame, *args: str):
    current.to_parquet(tmp / "current.parquet")
    baseline.to_parquet(tmp / "baseline.parquet")
    return runner.invoke(
        app, ["gate", str(tmp / "current.parquet"), str(tmp / "baseline.parquet"), *args]
    )


def _binned(rows: pd.DataFrame, resolutions=(256,), empty_bin: bool = True) -> pd.DataFrame:
    """TokBench-like rows: one metric in bins, the 'below' bin empty (NaN, n = 0)."""
    out = []
    for res in resolutions:
        for b, v in (("small", 0.5), ("mean", 0.7), ("below", math.nan)):
            r = rows.iloc[0].copy()
            r["benchmark"], r["resolution"], r["metric"], r["subset"], r["bin"] = (
                "tokbench-mini",
                res,
                "t_acc",
                "text",
                b,
            )
            r["value"], r["n"] = v, 0 if math.isnan(v) else 10
            r["judge"] = "rapidocr"
            out.append(r)
    return pd.DataFrame(out).reset_index(drop=True)


def test_nan_vs_nan_is_equal(rows, tmp_path):
    board = _binned(rows)
    res = _gate(tmp_path, board, board)
    assert res.exit_code == 0, res.output


def test_a_value_on_one_side_only_is_missing(rows, tmp_path):
    board = _binned(rows)
    now = board.copy()
    now.loc[now["bin"] == "small", "value"] = math.nan
    res = _gate(tmp_path, now, board)
    assert res.exit_code == 1 and "missing" in res.output
    later = board.copy()
    later.loc[later["bin"] == "below", "value"] = 0.3  # baseline empty, run has a value
    res = _gate(tmp_path, later, board)
    assert res.exit_code == 1 and "missing" in res.output
    assert _gate(tmp_path, later, board, "--allow-missing").exit_code == 0


def test_settings_the_run_did_not_cover_are_not_missing(rows, tmp_path):
    board = _binned(rows, resolutions=(256, 512, 1024))
    run_512 = board[board["resolution"] == 512]
    res = _gate(tmp_path, run_512, board, "--format", "json")
    assert res.exit_code == 0, res.output
    report = json.loads(res.output)
    assert report["counts"]["missing"] == 0 and len(report["rows"]) == 3
    assert {r["resolution"] for r in report["rows"]} == {512}


def test_baseline_of_another_precision_is_not_compared(rows, tmp_path):
    other = rows.copy()
    other["precision"], other["value"] = "bf16", other["value"] - 5  # a worse fast tier
    res = _gate(tmp_path, rows, pd.concat([rows, other]), "--format", "json")
    assert res.exit_code == 0, res.output
    assert {r["precision"] for r in json.loads(res.output)["rows"]} == {"fp32"}


@pytest.mark.parametrize(
    "column, value",
    [
        ("options", json.dumps({"limit": 3})),  # a --limit run
        ("dataset_sha256", "0" * 64),  # a --data run on other images
        ("benchmark_version", "0.9"),
        ("complete", False),
        ("judge", "someone-else"),
    ],
)
def test_rows_not_comparable_are_refused(rows, tmp_path, column, value):
    current = rows.copy()
    current[column] = value
    current["value"] = current["value"] + 1  # would pass as "improved" before
    res = _gate(tmp_path, current, rows)
    assert res.exit_code == 2, res.output
    assert "not comparable" in res.output and len(res.output.strip().splitlines()) == 1


def test_unknown_metric_in_tol_is_a_usage_error(rows, tmp_path):
    res = _gate(tmp_path, rows, rows, "--tol", "psnrr=0.05")
    assert res.exit_code == 2 and "psnrr" in res.output


def test_output_fits_80_columns_and_has_md_and_json(rows, tmp_path):
    board = pd.concat([rows, _binned(rows, (256, 512, 1024))], ignore_index=True)
    worse = board.copy()
    worse.loc[worse["metric"] == "psnr", "value"] -= 0.5
    text = _gate(tmp_path, worse, board, "--tol", "psnr=0.05")
    assert text.exit_code == 1
    assert max(len(line) for line in text.output.splitlines()) <= 80
    assert text.output.strip().splitlines()[-1].startswith("REGRESSION: 1 regression")
    md = _gate(tmp_path, worse, board, "--tol", "psnr=0.05", "--format", "md")
    assert md.exit_code == 1 and "| setting | value | status |" in md.output
    js = _gate(tmp_path, worse, board, "--tol", "psnr=0.05", "--format", "json")
    data = json.loads(js.output)
    assert data["exit_code"] == 1 and data["counts"]["regression"] == 1


@pytest.mark.parametrize(
    "board", sorted((REPO / "leaderboards").glob("*.parquet")), ids=lambda p: p.stem
)
def test_every_committed_leaderboard_passes_against_itself(board, tmp_path):
    """A results folder rebuilt from the committed rows (one results.parquet per run, as
    `evalkit run --out` writes them), gated against the leaderboard it came from."""
    rows = pd.read_parquet(board)
    for run_id, run in rows.groupby("run_id"):
        folder = tmp_path / "results" / str(run["benchmark"].iloc[0]) / str(run_id)
        folder.mkdir(parents=True)
        run.to_parquet(folder / "results.parquet")
    res = runner.invoke(app, ["gate", str(tmp_path / "results"), str(board), "--format", "json"])
    assert res.exit_code == 0, res.output
    report = json.loads(res.output)
    assert report["counts"]["ok"] == len(rows) and report["counts"]["missing"] == 0


def _readme_block(heading: str) -> list[list[str]]:
    """The `evalkit ...` commands of the first bash block under ``heading`` in README.md."""
    import shlex

    text = (REPO / "README.md").read_text()
    section = text.split(heading, 1)[1]
    block = section.split("```bash", 1)[1].split("```", 1)[0]
    return [shlex.split(line)[1:] for line in block.splitlines() if line.startswith("evalkit ")]


@needs_store
@pytest.mark.weights
@pytest.mark.slow
def test_readme_gate_recipe_passes_and_catches_a_half_db_drop(tmp_path, monkeypatch):
    if not (SHARED_OFFLINE / "weights" / "taef2").is_dir():
        pytest.skip("taef2 weights absent from the offline store")
    monkeypatch.chdir(tmp_path)
    shutil.copytree(REPO / "leaderboards", tmp_path / "leaderboards")  # as in a fresh clone
    run_cmd, gate_cmd = _readme_block("## CI regression gate")
    assert run_cmd[:2] == ["run", "recon"] and gate_cmd[0] == "gate"
    ran = runner.invoke(app, [*run_cmd, "--workers", "0"])
    assert ran.exit_code == 0, ran.output
    ok = runner.invoke(app, gate_cmd)
    assert ok.exit_code == 0, ok.output
    (results,) = (tmp_path / gate_cmd[1]).rglob("results.parquet")
    rows = pd.read_parquet(results)
    rows.loc[rows["metric"] == "psnr", "value"] -= 0.5  # an injected 0.5 dB drop
    rows.to_parquet(results)
    bad = runner.invoke(app, gate_cmd)
    assert bad.exit_code == 1, bad.output
    assert "regression" in bad.output and "psnr" in bad.output
