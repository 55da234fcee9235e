"""--model sweeps: comma lists and brace ranges expand before any factory sees them."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from evalkit.sweep import SweepError, expand_models


def test_ranges_lists_and_commas() -> None:
    assert expand_models("jpeg-q{10..90..10}") == [f"jpeg-q{q}" for q in range(10, 100, 10)]
    assert len(expand_models("jpeg-q{10..90..10}")) == 9
    assert expand_models("webp-q{50,90},taef2") == ["webp-q50", "webp-q90", "taef2"]
    assert expand_models("resize-x{2..4}") == ["resize-x2", "resize-x3", "resize-x4"]
    assert expand_models("{jpeg,webp}-q{10,20}") == ["jpeg-q10", "jpeg-q20", "webp-q10", "webp-q20"]
    assert expand_models("taef2, taef2") == ["taef2"]
    assert expand_models("samples:dit-xl-2") == ["samples:dit-xl-2"]


@pytest.mark.parametrize("bad", ["jpeg-q{10..90", "jpeg-q10}", "a,,b", "x{1}", "q{1..5..0}"])
def test_malformed_sweeps_are_errors(bad: str) -> None:
    with pytest.raises(SweepError):
        expand_models(bad)


def test_cli_runs_each_model_of_a_sweep(tmp_path) -> None:
    from evalkit.cli import app

    result = CliRunner().invoke(
        app,
        [
            "run",
            "recon",
            "--model",
            "jpeg-q{10..30..20}",
            "--limit",
            "1",
            "--workers",
            "0",
            "--out",
            str(tmp_path / "runs"),
            "--no-leaderboard",
            "--json",
        ],
    )
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in (tmp_path / "runs" / "recon").iterdir()) == [
        "jpeg-q10",
        "jpeg-q30",
    ]
    bad = CliRunner().invoke(app, ["run", "recon", "--model", "jpeg-q{10..", "--limit", "1"])
    assert bad.exit_code == 2 and "unbalanced" in bad.output
