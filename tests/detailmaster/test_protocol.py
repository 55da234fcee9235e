"""Table-driven checks of the official decisions and of the fixed protocol, on synthetic records,
against answers worked out by hand (the official scripts' own outputs: test_parity.py)."""

from __future__ import annotations

import math

import pytest
from PIL import Image

from evalkit.benchmarks.detailmaster import evaluate, evaluate_units, parse_box
from evalkit.benchmarks.detailmaster.protocol import (
    bbox_question,
    counts,
    iou_cal,
    says_yes,
)
from evalkit.benchmarks.detailmaster.scripted import ScriptedJudge


def _official_route(text: str):
    """What eval + iou_cal of the official code accept (scripted strings only)."""
    try:
        box = eval(text.replace("json", "").replace("```", ""))  # noqa: S307 - test literals
        iou_cal([0, 0, 10, 10], box)
    except Exception:
        return None
    return list(box)


@pytest.mark.parametrize(
    "text",
    [
        "[1, 2, 3, 4]",
        " [1, 2, 3, 4]",
        "\t(1, 2, 3, 4)",
        "1, 2, 3, 4",
        "[1.5, -2, +3, 4e1]",
        "```json\n[10, 20, 30, 40]\n```",
        "[1, 2, 3, 4, 5]",
        "[1, 2, 3]",
        "[[1, 2, 3, 4]]",
        '[{"bbox_2d": [1, 2, 3, 4], "label": "dog"}]',
        "The box is [1, 2, 3, 4].",
        "",
        "yes",
        "{1, 2, 3, 4}",
        "'1234'",
        "[True, 2, 3, 4]",
        "[1, 2, 3, 4]\n",
        "[1, 2, 3, 4]]",
        "[1,,2,3,4]",
        "[-0, 0, 0, 0]",
        "[1e999, 0, 5, 5]",
        "[\n  100,\n  200,\n  300,\n  400\n]",
    ],
)
def test_parse_box_accepts_what_the_official_eval_route_accepts(text: str) -> None:
    assert parse_box(text) == _official_route(text)


def test_parse_box_never_evaluates() -> None:
    assert parse_box("__import__('os').getcwd()") is None
    assert parse_box("[1 + 1, 2, 3, 4]") is None  # eval would compute it: a documented deviation
    assert parse_box("[x, 2, 3, 4]") is None


def test_iou_exactly_point_seven_and_degenerate_boxes() -> None:
    assert iou_cal([10, 10, 20, 20], [10, 10, 20, 17])[0] == 0.7
    with pytest.raises(ZeroDivisionError):
        iou_cal([5, 5, 5, 5], [5, 5, 5, 5])
    assert iou_cal([0, 0, 10, 10], [20, 20, 30, 30]) == (0, 0, 0)


@pytest.mark.parametrize(
    ("answer", "official", "fixed"),
    [
        ("yes", True, True),
        ("Yes.", True, True),
        ("eyes", True, False),
        ("no", False, False),
        ("No, yes", True, False),
        (" YES, it is", True, True),
        ("yesterday", True, False),
        ("", False, False),
    ],
)
def test_yes_no(answer: str, official: bool, fixed: bool) -> None:
    assert says_yes(answer, "official") is official
    assert says_yes(answer, "fixed") is fixed


def _record(**over):
    rec = {
        "image_id": "1.jpg",
        "dataset_target": "docci",
        "polished_prompt": "a dog and a cup",
        "character_attributes": [
            {"main_character": "dog", "characteristics_list": ["brown", "fluffy"], "cls": "animal"},
        ],
        "character_locations": [
            {
                "main_character": "dog",
                "bbox": [0, 0, 1, 1],
                "position": "The upper part of the image",
            },
            {
                "main_character": "cup",
                "bbox": [0, 0, 1, 1],
                "position": "The lower part of the image",
            },
        ],
        "scene_attributes": [
            {"scene_attribute": "background", "content": "a park"},
            {"scene_attribute": "light", "content": "sunny"},
            {"scene_attribute": "style", "content": "photo"},
            {"scene_attribute": "spatial", "content": ["the dog is above the cup"]},
        ],
        "mini_bench_target": "animal",
    }
    rec.update(over)
    return rec


# Sides are multiples of 28 px: Qwen2.5-VL's frame is the image itself, so the table's boxes are
# pixels under both protocols (the frame itself: test_boxes_in_qwens_frame_*).
IMAGES = {"docci_1.jpg": [Image.new("RGB", (112, 56), "white")]}


def _judge(dog_box: str | None, cup_box: str | None = None, yes: str = "yes", **extra):
    table = {
        ("detect", "dog"): [10.2, 10.7, 19.1, 19.5],  # kept as [10, 10, 20, 20]
        ("detect", "cup"): [50, 20, 60, 30] if cup_box else None,
    }
    if dog_box is not None:
        table[("ask", bbox_question("dog"))] = dog_box
    if cup_box is not None:
        table[("ask", bbox_question("cup"))] = cup_box
    judge = ScriptedJudge(table, **extra)
    orig = judge.ask

    def ask(image, prompt):
        out = orig(image, prompt)
        return out if "bounding box coordinate (as a list)" in prompt else yes

    judge.ask = ask  # type: ignore[method-assign]
    return judge


def _both(records, judge_factory, protocol="official", mini=False):
    """evaluate(), twice with fresh judges: the answers never depend on the call order."""
    first = evaluate(records, IMAGES, judge_factory(), protocol=protocol, mini=mini)
    again = evaluate(list(reversed(records)), IMAGES, judge_factory(), protocol=protocol, mini=mini)
    assert list(first) == list(again)
    assert all(
        a == b or (math.isnan(a) and math.isnan(b)) for a, b in zip(first.values(), again.values())
    )
    return first


def test_present_character_everything_yes() -> None:
    acc = _both([_record()], lambda: _judge("[10, 10, 20, 20]", "[50, 20, 60, 30]"))
    assert acc["object_presence"] == 1 and acc["character_attributes_animal"] == 1
    assert acc["character_locations"] == 1 and acc["scene_attrbutes_spatial"] == 1
    assert math.isnan(acc["character_attributes_object"])  # an empty class: NaN, no KeyError
    assert math.isnan(acc["character_attributes_person"])


@pytest.mark.parametrize(
    "answer",
    [
        "[10, 10, 20, 17]",
        "[10, 10, 20]",
        "The dog: [10, 10, 20, 20]",
        '[{"bbox_2d": [10, 10, 20, 20]}]',
        "[20, 20, 10, 10]",
    ],
)
def test_iou_at_or_below_threshold_or_unparseable_is_absent(answer: str) -> None:
    judge = _judge(answer)
    acc = evaluate([_record()], IMAGES, judge)
    _both([_record()], lambda: _judge(answer))
    assert acc["object_presence"] == 0  # dog absent, cup not detected
    assert acc["character_attributes_animal"] == 0  # absent characters' attributes fail
    assert acc["character_locations"] == 0
    assert acc["scene_attrbutes_spatial"] == 0
    assert not any("spatial condition" in q for _, _, q in judge.asked)  # "no" without asking
    assert judge.calls["match"] == 0


def test_fixed_protocol_runs_the_tie_break_at_iou_point_seven() -> None:
    def factory():
        j = _judge("[10, 10, 20, 17]")
        j.table[("match", "dog")] = lambda image, text: 0.9 if image.size == (10, 10) else 0.1
        return j

    acc = _both([_record()], factory, protocol="fixed")
    assert acc["object_presence"] == 0.5  # dog present through BLIP, cup not detected
    assert acc["character_attributes_animal"] == 1


def test_location_normalisation_official_width_fixed_height() -> None:
    # box [10, 10, 20, 20] on 112 x 56: officially both axes / 112, fixed y / 56
    cases = (("official", "[0.09, 0.09, 0.18, 0.18]"), ("fixed", "[0.09, 0.18, 0.18, 0.36]"))
    for protocol, coords in cases:
        judge = _judge("[10, 10, 20, 20]")
        evaluate([_record()], IMAGES, judge, protocol=protocol)
        asked = [q for _, _, q in judge.asked if "red bounding box at coordinates" in q]
        assert asked == [
            f'Analyze whether the character "dog" (marked with a red bounding box at '
            f"coordinates {coords}) is located in the upper part of the image. Please "
            "only respond with 'yes' or 'no'."
        ]


def test_eyes_counts_as_yes_officially_only() -> None:
    official = _both([_record()], lambda: _judge("[10, 10, 20, 20]", yes="eyes"))
    fixed = _both([_record()], lambda: _judge("[10, 10, 20, 20]", yes="eyes"), protocol="fixed")
    assert official["scene_attrbutes_light"] == 1 and fixed["scene_attrbutes_light"] == 0


def test_repeated_character_counted_once_last_copy_wins_and_asked_once() -> None:
    rec = _record(
        character_attributes=[
            {"main_character": "dog", "characteristics_list": ["brown"], "cls": "animal"},
            {
                "main_character": "dog",
                "characteristics_list": ["brown", "brown", "small"],
                "cls": "animal",
            },
        ]
    )
    judge = _judge("[10, 10, 20, 20]")
    units = evaluate_units([rec], IMAGES, judge)
    c = counts(units)
    assert c["object_presence"] == (1, 2)
    assert c["character_attributes_animal"] == (3, 3)  # the last copy, repeat counted twice
    assert judge.calls["detect"] == 2  # dog once, cup once
    _both([rec], lambda: _judge("[10, 10, 20, 20]"))


def test_five_number_box_counts_present_but_crops_fail() -> None:
    acc = _both([_record()], lambda: _judge("[10, 10, 21, 21, 1]"))
    assert acc["object_presence"] == 0.5
    assert acc["character_attributes_animal"] == 0 and acc["character_locations"] == 0


def test_mini_targets_and_detect_keys() -> None:
    recs = [
        _record(mini_bench_target=t, image_id="1.jpg")
        for t in ("animal", "location", "light", "entity_relationship")
    ]
    acc = _both(recs, lambda: _judge("[10, 10, 20, 20]", yes="no"), mini=True)
    assert acc["character_attributes_animal"] == 0
    assert acc["character_attributes_animal_detect"] == 0
    assert math.isnan(acc["scene_attrbutes_background"])  # no background target among them
    acc = _both(recs, lambda: _judge("[10, 10, 20, 17]"), mini=True)
    assert math.isnan(acc["character_attributes_animal_detect"])  # nothing detected


def test_missing_image_is_an_error_naming_it_unless_allowed() -> None:
    recs = [_record(), _record(image_id="2.jpg")]
    with pytest.raises(KeyError, match="docci_2.jpg"):
        evaluate(recs, IMAGES, _judge("[10, 10, 20, 20]"))
    acc = evaluate(recs, IMAGES, _judge("[10, 10, 20, 20]"), allow_missing=True)
    assert acc == evaluate(recs[:1], IMAGES, _judge("[10, 10, 20, 20]"))
