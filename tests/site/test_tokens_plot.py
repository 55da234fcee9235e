"""Quality against the number of tokens: rows of real runs at two token budgets (a tiny random
One-D-Piece through the runner) and a codec, plotted as the site plots them."""

from __future__ import annotations

import pandas as pd
import pytest

from evalkit import plots
from evalkit.site import page_plots

BUDGETS = (2, 8)


@pytest.fixture(scope="module")
def run_rows(tmp_path_factory: pytest.TempPathFactory) -> pd.DataFrame:
    pytest.importorskip("torch")
    import evalkit

    out = tmp_path_factory.mktemp("runs")
    frames = []
    for model, model_options in [
        *((f"one-d-piece-s256@{n}", {"random_init": True, "tiny": True}) for n in BUDGETS),
        ("jpeg-q50", {}),
    ]:
        result = evalkit.run(
            "recon",
            model,
            options={"limit": 2, "resolution": 32},
            model_options=model_options,
            workers=0,
            out_dir=out,
        )
        frames.append(result.rows)
    return pd.concat(frames, ignore_index=True)


def test_budgets_are_one_curve_against_tokens(run_rows: pd.DataFrame) -> None:
    points = plots.tokens_points(run_rows, "psnr", include_all=True)
    odp = points[points["curve"] == "one-d-piece-s256"].set_index("tokens")
    assert list(odp.index) == list(BUDGETS)  # one point per budget, tokens from the rows
    table = run_rows[run_rows["metric"] == "psnr"].set_index("model")["value"]
    for n in BUDGETS:
        assert odp.loc[n, "psnr"] == table[f"one-d-piece-s256@{n}"]
    assert "jpeg-q50" not in set(points["model"])  # a codec has no token count
    fig = plots.quality_vs_tokens(run_rows, "psnr", include_all=True)
    lines = fig.axes[0].get_lines()
    assert [list(line.get_xdata()) for line in lines] == [list(BUDGETS)]
    assert fig.axes[0].get_xscale() == "log"


def test_budgets_sit_beside_the_codec_against_bits_per_pixel(run_rows: pd.DataFrame) -> None:
    points = plots.rate_distortion_points(run_rows, "psnr", include_all=True)
    curves = dict(zip(points["model"], points["curve"]))
    assert curves == {
        "one-d-piece-s256@2": "one-d-piece-s256",
        "one-d-piece-s256@8": "one-d-piece-s256",
        "jpeg-q50": "jpeg",
    }
    bpp = points.set_index("model")["rate"]
    assert bpp["one-d-piece-s256@8"] == pytest.approx(8 * 12 / 32**2)  # 8 tokens x 12 bits
    assert bpp["one-d-piece-s256@2"] == pytest.approx(2 * 12 / 32**2)
    svg = plots.to_svg(plots.rate_distortion(run_rows, "psnr", include_all=True))
    assert "one-d-piece-s256" in svg and "jpeg" in svg


def _board(metric: str, subset: str, bin_: str) -> pd.DataFrame:
    """Leaderboard rows (complete runs) of a sweep, a fixed-length TiTok and a codec."""
    base = {"subset": subset, "bin": bin_, "resolution": 256, "precision": "fp32"}
    base |= {"judges": "{}", "dataset_sha256": "x", "options": "{}", "benchmark_version": "1"}
    base |= {"n": 10, "comparable": True, "complete": True, "timestamp": "t", "metric": metric}
    rows = [
        {"model": "one-d-piece-l256@16", "num_tokens": 16, "value": 0.2},
        {"model": "one-d-piece-l256@64", "num_tokens": 64, "value": 0.5},
        {"model": "one-d-piece-l256", "num_tokens": 256, "value": 0.7},
        {"model": "titok-l32", "num_tokens": 32, "value": 0.4},
        {"model": "jpeg-q50", "num_tokens": None, "value": 0.9},
    ]
    return pd.DataFrame([{**base, **r, "run_id": r["model"]} for r in rows]).astype(
        {"num_tokens": "Int64"}
    )


@pytest.mark.parametrize(
    ("benchmark", "metric", "subset", "bin_"),
    [("imagenet-rfid", "fid", "all", "all"), ("tokbench", "t_acc", "text", "mean")],
)
def test_site_plots_against_tokens(benchmark: str, metric: str, subset: str, bin_: str) -> None:
    board = _board(metric, subset, bin_)
    points = plots.tokens_points(board, metric).set_index("model")
    assert points.loc["titok-l32", "curve"] == "titok-l32"  # a fixed point
    assert points.loc["one-d-piece-l256", "curve"] == "one-d-piece-l256"  # the sweep's 256 end
    assert points.loc["one-d-piece-l256@64", metric] == 0.5
    svg = page_plots(benchmark, board)[f"tokens-{metric}"]
    assert "one-d-piece-l256" in svg and "titok-l32" in svg
    assert f"tokens-{metric}" not in page_plots(benchmark, board[board["model"] == "titok-l32"])
