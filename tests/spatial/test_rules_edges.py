"""Defined behaviour at the edges: no detections, boxes outside the image, zero-area boxes, NaN."""

from __future__ import annotations

import numpy as np
import pytest

from evalkit.benchmarks.spatial import rules, t2i_compbench_image, visor_image, visor_summary
from evalkit.benchmarks.spatial.geneval_bridge import position_metadata, position_verdict


def box(x1: float, y1: float, x2: float, y2: float, s: float) -> list[float]:
    return [x1, y1, x2, y2, s]


def test_empty_detections() -> None:
    for dets in ({}, {"cat": np.zeros((0, 5))}, {"cat": []}):
        assert visor_image("cat", "dog", "above", dets) == (0, 0)
        assert (
            t2i_compbench_image("a cat near a dog", dets, (512, 512), objects=("cat", "dog")) == 0
        )
        assert not position_verdict(position_metadata("cat", "above", "dog"), dets).correct


def test_visor_threshold_is_strict_and_nan_scores_are_dropped() -> None:
    dets = {"cat": np.array([box(0, 0, 10, 10, 0.1)]), "dog": np.array([box(50, 0, 60, 10, 0.5)])}
    assert visor_image("cat", "dog", "to the left of", dets) == (1, 0)  # 0.1 is not > 0.1
    dets["cat"][0, 4] = np.nan
    assert visor_image("cat", "dog", "to the left of", dets) == (1, 0)
    dets["cat"][0, 4] = 0.11
    assert visor_image("cat", "dog", "to the left of", dets) == (2, 1)


def test_nan_coordinates_of_a_kept_box_are_an_error() -> None:
    dets = {"cat": np.array([box(np.nan, 0, 10, 10, 0.9)]), "dog": np.array([box(0, 0, 1, 1, 0.9)])}
    with pytest.raises(ValueError, match="NaN/Inf coordinates"):
        visor_image("cat", "dog", "above", dets)
    dets["cat"][0, 4] = 0.01  # below every threshold: ignored, as the official code drops it
    assert visor_image("cat", "dog", "above", dets) == (1, 0)


def test_boxes_outside_the_image_are_used_as_they_are() -> None:
    dets = {
        "cat": np.array([box(-300, -50, -200, 40, 0.9)]),
        "dog": np.array([box(600, 10, 700, 90, 0.9)]),
    }
    assert visor_image("cat", "dog", "to the left of", dets) == (2, 1)
    got = t2i_compbench_image(
        "a cat on the left of a dog", dets, (479, 479), objects=("cat", "dog")
    )
    assert got == pytest.approx(0.25 * 0.9 * 2 + 0.5)


def test_zero_area_boxes() -> None:
    dets = {
        "cat": np.array([box(10, 10, 10, 10, 0.9)]),
        "dog": np.array([box(20, 10, 20, 10, 0.9)]),
    }
    assert visor_image("cat", "dog", "to the left of", dets) == (2, 1)
    assert visor_image("cat", "dog", "above", dets) == (2, 0)  # equal y: strict test fails
    with pytest.raises(ValueError, match="zero area"):
        t2i_compbench_image("a cat on the left of a dog", dets, (479, 479), objects=("cat", "dog"))
    fixed = t2i_compbench_image(
        "a cat on the left of a dog", dets, (479, 479), objects=("cat", "dog"), protocol="fixed"
    )
    assert fixed == pytest.approx(0.45 + 0.5)
    # GenEval: a zero offset after the margin gives no relation
    assert not position_verdict(position_metadata("cat", "left of", "cat"), dets).correct


def test_on_top_of_quirk_and_fix() -> None:
    dets = {"cat": np.array([box(0, 0, 10, 10, 1.0)]), "dog": np.array([box(0, 300, 10, 310, 1.0)])}
    args = ("a cat on top of a dog", dets, (479, 479))
    assert t2i_compbench_image(*args, objects=("cat", "dog")) == 0.5  # position 0, kept at 0.5
    assert t2i_compbench_image(*args, objects=("cat", "dog"), protocol="fixed") == 1.0


def test_t2i_frame_equals_torchvision_resize() -> None:
    tf = pytest.importorskip("torchvision.transforms.functional")
    from PIL import Image

    for h, w in [(512, 512), (128, 128), (768, 512), (512, 1024), (300, 301), (1000, 479)]:
        out = tf.resize(Image.new("RGB", (w, h)), 479, max_size=480)
        assert rules.t2i_frame((h, w)) == (out.height, out.width)


def test_t2i_boxes_are_scaled_into_the_unidet_frame() -> None:
    # 150 px near-distance is measured at 479 px: 160 px apart at 512 is 149.7 at 479.
    dets = {
        "cat": np.array([box(0, 0, 10, 10, 1.0)]),
        "dog": np.array([box(160, 160, 170, 170, 1)]),
    }
    assert t2i_compbench_image("a cat near a dog", dets, (512, 512), objects=("cat", "dog")) == 1
    assert t2i_compbench_image(
        "a cat near a dog", dets, (479, 479), objects=("cat", "dog")
    ) == pytest.approx(0.5 + 150 / 160 / 2)


def test_t2i_prompt_lookup_uses_the_card_pairs() -> None:
    dets = {
        "person": np.array([box(0, 0, 10, 10, 0.9)]),
        "frog": np.array([box(0, 200, 10, 210, 0.9)]),
    }
    assert t2i_compbench_image("a girl on the top of a frog", dets, (479, 479)) > 0.9
    with pytest.raises(ValueError, match="300 spatial"):
        t2i_compbench_image("a cat on the top of a frog", dets, (479, 479))


def test_visor_summary_edges() -> None:
    import pandas as pd

    df = pd.DataFrame(
        {
            "unique_id": [0, 0, 8],
            "recall": [1, 0, 2],
            "sra": [0, 0, 1],
            "relation": ["to the left of", "to the left of", "and"],
        }
    )
    out = visor_summary(df)
    assert out["OA"] == 0 and np.isnan(out["VISOR_cond"]) and out["VISOR_1"] == 0
    with pytest.raises(ValueError, match="no image"):
        visor_summary(df[df.relation == "and"])
    with pytest.raises(ValueError, match="visor_n"):
        visor_summary(df, visor_n="paper")
