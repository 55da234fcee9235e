"""Plots read the same numbers as the tables (checked on the data behind them)."""

from __future__ import annotations

import pandas as pd
import pytest

from evalkit import plots
from evalkit.site import format_value, table_frame


def _rows() -> pd.DataFrame:
    base = {
        "subset": "all",
        "bin": "all",
        "resolution": 256,
        "precision": "fp32",
        "judges": "{}",
        "dataset_sha256": "x",
        "options": "{}",
        "benchmark_version": "1",
        "n": 12,
        "comparable": True,
        "complete": True,
        "timestamp": "t",
        "wall_time_s": 1.0,
    }
    rows = []
    for model, family, rate_metric, rate, psnr in [
        ("jpeg-q10", "codec", "bpp", 0.5, 26.0),
        ("jpeg-q50", "codec", "bpp", 1.1, 31.0),
        ("webp-q50", "codec", "bpp", 0.9, 33.0),
        ("taef2", "taesd", "latent_values_per_pixel", 0.25, 30.4),
    ]:
        rows.append(
            {
                **base,
                "run_id": model,
                "model": model,
                "model_family": family,
                "metric": "psnr",
                "value": psnr,
            }
        )
        rows.append(
            {
                **base,
                "run_id": model,
                "model": model,
                "model_family": family,
                "metric": rate_metric,
                "value": rate,
            }
        )
    return pd.DataFrame(rows)


def test_rate_distortion_points_are_the_table_values() -> None:
    rows = _rows()
    points = plots.rate_distortion_points(rows, "psnr").set_index("model")
    frame, _ = table_frame(rows)
    table = frame[frame["column"] == "psnr"].set_index("model")["value"]
    assert points["psnr"].to_dict() == table.to_dict()
    assert points.loc["jpeg-q10", "curve"] == "jpeg" and points.loc["taef2", "curve"] == "taesd"
    assert points.loc["taef2", "rate_metric"] == "latent_values_per_pixel"


def test_incomplete_rows_are_not_plotted() -> None:
    rows = _rows()
    rows.loc[rows["model"] == "jpeg-q10", "complete"] = False
    fig = plots.rate_distortion(rows, "psnr")
    xs = [x for ax in fig.axes for line in ax.get_lines() for x in line.get_xdata()]
    assert sorted(xs) == pytest.approx([0.25, 0.9, 1.1])  # jpeg-q10 (0.5 bpp) left out
    assert "taef2" in plots.to_svg(fig)


def test_one_number_format_per_metric() -> None:
    assert format_value("psnr", 31.4709) == "31.47"
    assert format_value("t_acc", 0.98924) == "98.92"
    assert format_value("psnr", float("inf")) == "∞"
    assert format_value("ssim", 0.90648, {"ssim": 3}) == "0.906"
