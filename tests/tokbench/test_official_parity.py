"""T-ACC, T-NED and the binned aggregation against the official per-instance output files.

The official files (wjf5203/TokBench ``output/``, commit a77070c, setting 256) live in
``../shared/protocols/tokbench_official_outputs``. The reference aggregation below is written
independently from the official ``compute_all_metrics.py`` description: pool the instances of all
files, put each in the first [lo, hi) range that holds its ratio (none: dropped), take np.mean of
each range, then np.mean of the three range means.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from evalkit.benchmarks.tokbench import summarize, t_acc, t_ned

OUTPUTS = Path(__file__).resolve().parents[2].parent / "shared/protocols/tokbench_official_outputs"
pytestmark = pytest.mark.skipif(
    not OUTPUTS.is_dir(), reason=f"official TokBench outputs not found at {OUTPUTS}"
)
SETS = ("cord", "docvqa", "ic13", "ic15", "infograph", "sroie", "tt")


@pytest.fixture(scope="module")
def official() -> pd.DataFrame:
    rows = []
    for s in SETS:
        with open(OUTPUTS / f"{s}.json") as f:
            details = json.load(f)["tokenizer1"]["256"]["details"]
        for image, d in details.items():
            for r in d["results"]:
                rows.append({"set": s, "image": image, **r})
    return pd.DataFrame(rows)


def test_every_official_instance_is_there(official: pd.DataFrame) -> None:
    # counts from the protocol notes: cord 1,880, docvqa 5,446, ic13 882, ic15 1,347,
    # infograph 19,106, sroie 6,258, tt 1,168 = 36,087 instances
    assert len(official) == 36_087
    assert official.groupby("set").size()["infograph"] == 19_106


def test_t_acc_t_ned_reproduce_every_official_value(official: pd.DataFrame) -> None:
    acc = np.array([t_acc(g, p) for g, p in zip(official["gt"], official["pred"], strict=True)])
    ned = np.array([t_ned(g, p) for g, p in zip(official["gt"], official["pred"], strict=True)])
    assert np.array_equal(acc, official.accuracy.to_numpy(dtype=float))
    assert np.abs(ned - official.ned.to_numpy(dtype=float)).max() <= 1e-12
    assert 0 < acc.mean() < 1  # the file holds both hits and misses


def test_metric_edge_cases() -> None:
    assert t_acc("Word", "word") == 0.0  # case-sensitive
    assert t_ned("", "") == 1.0
    assert t_ned("abc", "") == 0.0
    assert t_ned("kitten", "sitting") == pytest.approx(1 - 3 / 7)


def _reference(values: np.ndarray, ratios: np.ndarray, edges: list[float]) -> list[float]:
    ranges = list(zip(edges[:-1], edges[1:], strict=True))
    groups: list[list[float]] = [[] for _ in ranges]
    for v, r in zip(values, ratios, strict=True):
        for i, (lo, hi) in enumerate(ranges):
            if lo <= r < hi:
                groups[i].append(v)
                break
    means = [float(np.mean(g)) for g in groups]
    return means + [float(np.mean(means))]


def test_summarize_matches_official_aggregation(official: pd.DataFrame) -> None:
    inst = pd.DataFrame(
        {
            "kind": "text",
            "ratio": official.ratio,
            "t_acc": official.accuracy.astype(float),
            "t_ned": official.ned.astype(float),
        }
    )
    table = summarize(inst, 256).set_index(["metric", "bin"])
    for metric, col in (("t_acc", "accuracy"), ("t_ned", "ned")):
        ref = _reference(
            official[col].to_numpy(float), official.ratio.to_numpy(), [0.02, 0.03, 0.04, 1]
        )
        ours = [table.loc[(metric, b), "value"] for b in ("small", "medium", "large", "mean")]
        assert np.abs(np.array(ours) - np.array(ref)).max() <= 1e-9
    # the README's 2-decimal table (percent), as the official script prints it
    shown = {
        m: [f"{table.loc[(m, b), 'value']:.2%}" for b in ("small", "medium", "large", "mean")]
        for m in ("t_acc", "t_ned")
    }
    assert shown["t_acc"] == ["0.30%", "0.74%", "10.65%", "3.90%"]
    assert shown["t_ned"] == ["5.76%", "8.84%", "31.30%", "15.30%"]


def test_summarize_counts_instances_outside_the_bins(official: pd.DataFrame) -> None:
    inst = pd.DataFrame(
        {"kind": "text", "ratio": official.ratio, "t_acc": official.accuracy, "t_ned": official.ned}
    )
    table = summarize(inst, 256).set_index(["metric", "bin"])
    r = official.ratio.to_numpy()
    below, binned = int((r < 0.02).sum()), int(((r >= 0.02) & (r < 1)).sum())
    assert below > 0
    assert table.loc[("t_acc", "below"), "n"] == below
    assert table.loc[("t_acc", "mean"), "n"] == binned
    n_bins = sum(table.loc[("t_acc", b), "n"] for b in ("small", "medium", "large"))
    assert n_bins == binned
    assert below + binned + int((r >= 1).sum()) == len(official)  # nobody dropped silently
