"""Hand cases per task: each checks one official rule, with the official reason text."""

from __future__ import annotations

import numpy as np
import pytest

from evalkit.benchmarks.geneval import relative_position, score_detections
from evalkit.benchmarks.geneval.rules import evaluate

BENCH = {
    "tag": "single_object",
    "include": [{"class": "bench", "count": 1}],
    "prompt": "a photo of a bench",
}
TWO = {
    "tag": "two_object",
    "include": [{"class": "bench", "count": 1}, {"class": "sports ball", "count": 1}],
    "prompt": "a photo of a bench and a sports ball",
}
FOUR = {
    "tag": "counting",
    "include": [{"class": "handbag", "count": 4}],
    "exclude": [{"class": "handbag", "count": 5}],
    "prompt": "a photo of four handbags",
}
BLUE = {
    "tag": "colors",
    "include": [{"class": "fire hydrant", "count": 1, "color": "blue"}],
    "prompt": "a photo of a blue fire hydrant",
}
ATTR = {
    "tag": "color_attr",
    "include": [
        {"class": "wine glass", "count": 1, "color": "purple"},
        {"class": "apple", "count": 1, "color": "black"},
    ],
    "prompt": "a photo of a purple wine glass and a black apple",
}
RIGHT = {
    "tag": "position",
    "include": [
        {"class": "teddy bear", "count": 1},
        {"class": "dog", "count": 1, "position": ["right of", 0]},
    ],
    "prompt": "a photo of a dog right of a teddy bear",
}


def box(x1, y1, x2, y2, s):
    return [x1, y1, x2, y2, s]


def test_single_object_threshold_is_strict() -> None:
    assert score_detections(BENCH, {"bench": np.array([box(0, 0, 9, 9, 0.3)])}) == (
        False,
        "expected bench>=1, found 0",
    )
    assert score_detections(BENCH, {"bench": np.array([box(0, 0, 9, 9, 0.3001)])}) == (True, "")
    assert score_detections(BENCH, {}) == (False, "expected bench>=1, found 0")


def test_two_object_needs_both() -> None:
    dets = {"bench": np.array([box(0, 0, 9, 9, 0.9)]), "sports ball": np.zeros((0, 5))}
    assert score_detections(TWO, dets) == (False, "expected sports ball>=1, found 0")
    dets["sports ball"] = np.array([box(5, 5, 8, 8, 0.5)])
    assert score_detections(TWO, dets) == (True, "")


def test_counting_threshold_exclude_and_cap() -> None:
    four = [box(i * 10, 0, i * 10 + 8, 8, 0.95) for i in range(4)]
    assert score_detections(FOUR, {"handbag": np.array(four)}) == (True, "")
    # a fifth above 0.9 fails the exclude clause; a fifth at 0.85 is not counted at all
    assert score_detections(FOUR, {"handbag": np.array(four + [box(90, 0, 99, 9, 0.91)])}) == (
        False,
        "expected handbag<5, found 5",
    )
    assert score_detections(FOUR, {"handbag": np.array(four + [box(90, 0, 99, 9, 0.85)])}) == (
        True,
        "",
    )
    # the counting threshold applies only to counting prompts
    assert score_detections(BENCH, {"bench": np.array([box(0, 0, 9, 9, 0.5)])})[0]
    # max_objects caps what the exclude clause sees
    six = np.array(four + [box(90, 0, 99, 9, 0.97), box(120, 0, 129, 9, 0.96)])
    assert score_detections(FOUR, {"handbag": six})[0] is False
    assert score_detections(FOUR, {"handbag": six}, max_objects=4) == (True, "")


def test_overlap_filter_uses_inclusive_iou_and_empty_union() -> None:
    dup = [
        box(0, 0, 9, 9, 0.99),
        box(0, 0, 9, 9, 0.98),
        box(0, 0, 9, 9, 0.97),
        box(50, 0, 59, 9, 0.95),
    ]
    assert score_detections(FOUR, {"handbag": np.array(dup)}) == (True, "")
    assert score_detections(FOUR, {"handbag": np.array(dup)}, max_overlap=0.5) == (
        False,
        "expected handbag>=4, found 2",
    )
    # IoU on inclusive pixels: 50 / 150 = 0.333 (0.286 without the +1), so 0.3 drops it
    pair = np.array(
        [
            box(0, 0, 9, 9, 0.99),
            box(5, 0, 14, 9, 0.98),
            box(30, 0, 39, 9, 0.97),
            box(60, 0, 69, 9, 0.96),
        ]
    )
    assert score_detections(FOUR, {"handbag": pair}, max_overlap=0.34) == (True, "")
    assert score_detections(FOUR, {"handbag": pair}, max_overlap=0.3) == (
        False,
        "expected handbag>=4, found 3",
    )
    # two boxes with no area: the official IoU is 0 (empty union), so both are kept
    flat = [
        box(5, 5, 3, 3, 0.99),
        box(5, 5, 3, 3, 0.98),
        box(20, 0, 29, 9, 0.97),
        box(40, 0, 49, 9, 0.96),
    ]
    assert score_detections(FOUR, {"handbag": np.array(flat)}, max_overlap=0.5) == (True, "")


def test_colour_uses_top_objects_and_official_reason() -> None:
    dets = {"fire hydrant": np.array([box(0, 0, 9, 9, 0.4), box(20, 0, 29, 9, 0.8)])}
    seen = []

    def colours(name, boxes, masks):
        seen.append(boxes[:, 4].tolist())
        return ["red"]

    assert score_detections(BLUE, dets, colours=colours) == (
        False,
        "expected blue fire hydrant>=1, found 0 blue; and 1 red",
    )
    assert seen == [[0.8]]  # only the most confident object is asked about
    assert score_detections(BLUE, dets, colours=lambda n, b, m: ["blue"]) == (True, "")
    with pytest.raises(ValueError, match="colour"):
        score_detections(BLUE, dets)


def test_colour_attribution_masks_follow_their_boxes() -> None:
    dets = {
        "wine glass": np.array([box(0, 0, 9, 9, 0.5), box(0, 0, 5, 5, 0.9)]),
        "apple": np.array([box(20, 0, 29, 9, 0.6)]),
    }
    masks = {
        "wine glass": np.array([np.eye(4, dtype=bool), ~np.eye(4, dtype=bool)]),
        "apple": np.ones((1, 4, 4), bool),
    }

    def colours(name, boxes, m):
        return ["purple" if mm.sum() == 12 else "black" for mm in m]

    v = evaluate(ATTR, dets, masks, colours)
    assert v.correct and v.colours == {"wine glass": ["purple"], "apple": ["black"]}
    # the second clause fails: both reasons are kept in order, first clause passes
    assert score_detections(ATTR, dets, masks, lambda n, b, m: ["purple"]) == (
        False,
        "expected black apple>=1, found 0 black; and 1 purple",
    )


def test_position_rule_margin_cone_and_reasons() -> None:
    bear = box(0, 0, 100, 100, 0.9)
    assert score_detections(
        RIGHT, {"teddy bear": np.array([bear]), "dog": np.array([box(200, 0, 300, 100, 0.9)])}
    ) == (True, "")
    # overlapping within the 0.1 x summed-extent margin: no relation at all
    near = {"teddy bear": np.array([bear]), "dog": np.array([box(15, 0, 115, 100, 0.9)])}
    assert score_detections(RIGHT, near) == (False, "expected dog right of target, found  target")
    assert score_detections(RIGHT, near, position_threshold=0.0) == (True, "")
    # diagonal: right of and below at once; the reason lists relations in a fixed order
    diag = {"teddy bear": np.array([bear]), "dog": np.array([box(300, 300, 400, 400, 0.9)])}
    assert score_detections(RIGHT, diag) == (True, "")
    left = {"teddy bear": np.array([bear]), "dog": np.array([box(-300, -300, -200, -200, 0.9)])}
    assert score_detections(RIGHT, left) == (
        False,
        "expected dog right of target, found left of and above target",
    )
    # no target: the first clause failed, so the position clause has nothing to compare with
    assert score_detections(RIGHT, {"dog": np.array([box(200, 0, 300, 100, 0.9)])}) == (
        False,
        "expected teddy bear>=1, found 0\nno target for dog to be right of",
    )


def test_position_boundaries() -> None:
    # cone: dx exactly -0.5 is not "left of" (strict); offset (-3, 4), widths 2 + 3, margin 0.5
    a, b = np.array([-2.5, 0.0, -0.5, 0.0, 1]), np.array([0.0, -4.0, 3.0, -4.0, 1])
    assert relative_position(a, b, 0.1) == {"below"}
    a2 = np.array([-2.6, 0.0, -0.6, 0.0, 1])
    assert relative_position(a2, b, 0.1) == {"left of", "below"}
    # a tiny offset is no relation (per-axis 1e-3 test), however it is normalised
    c, d = np.array([0.0009, 0, 10.0009, 10, 1]), np.array([0.0, 0, 10, 10, 1])
    assert relative_position(c, d, 0.0) == set()
    assert relative_position(np.array([0.002, 0, 10.002, 10, 1]), d, 0.0) == {"right of"}


def test_every_object_against_every_target() -> None:
    two_dogs = {
        "tag": "position",
        "include": [
            {"class": "teddy bear", "count": 2},
            {"class": "dog", "count": 1, "position": ["right of", 0]},
        ],
        "prompt": "made up: a dog right of two teddy bears",
    }
    dets = {
        "teddy bear": np.array([box(0, 0, 100, 100, 0.9), box(500, 0, 600, 100, 0.8)]),
        "dog": np.array([box(200, 0, 300, 100, 0.9)]),
    }
    v = evaluate(two_dogs, dets)
    assert not v.correct and v.reason == "expected dog right of target, found left of target"
    assert [r["found"] for r in v.relations] == [["right of"], ["left of"]]


def test_bad_detections_are_rejected() -> None:
    with pytest.raises(ValueError, match="NaN"):
        score_detections(BENCH, {"bench": np.array([box(0, 0, 9, 9, float("nan"))])})
    with pytest.raises(ValueError, match="shape"):
        score_detections(BENCH, {"bench": np.zeros((2, 4))})
    with pytest.raises(TypeError, match="unknown threshold"):
        score_detections(BENCH, {}, treshold=0.5)
