"""Acceptance on the embedded set, through the real runner and the default offline judges:
the Resize ceiling beats JPEG q10 and a 4x down-up on T-ACC Mean and F-Sim Mean (256, the
hardest setting; 512 and 1024 are in leaderboards/tokbench-mini.md)."""

from __future__ import annotations

import pytest

import evalkit


@pytest.fixture(scope="module")
def means(tmp_path_factory):
    out = tmp_path_factory.mktemp("tb-accept")
    result = {}
    for model in ("resize", "jpeg-q10", "resize-x4"):
        rows = evalkit.run(
            "tokbench-mini", model, options={"resolution": 256}, batch_size=8, out_dir=out
        ).rows
        mean = rows[rows["bin"] == "mean"].set_index("metric")["value"]
        result[model] = mean
    return result


@pytest.mark.slow
@pytest.mark.parametrize("metric", ["t_acc", "f_sim"])
@pytest.mark.parametrize("worse", ["jpeg-q10", "resize-x4"])
def test_resize_ceiling_beats_lossy_baselines(means, metric, worse):
    assert means["resize"][metric] > means[worse][metric]
