"""The judge-agreement table: Spearman per prompt, on closed forms."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from evalkit.scores.agreement import table, write


def _records(scores: list[float]) -> pd.DataFrame:
    # 4 prompts x 4 images; prompt p has p of its 4 images correct
    rows = []
    for p in range(4):
        for k in range(4):
            rows.append({"prompt_index": p, "correct": k < p, "score_a": scores[p] + 0.01 * k})
    return pd.DataFrame(rows)


def test_same_ranking_is_one_reversed_is_minus_one() -> None:
    up = table(_records([0.1, 0.2, 0.3, 0.4]), "correct", ["a"]).iloc[0]
    down = table(_records([0.4, 0.3, 0.2, 0.1]), "correct", ["a"]).iloc[0]
    assert up["spearman"] == pytest.approx(1.0) and down["spearman"] == pytest.approx(-1.0)
    assert up["prompts"] == 4


def test_a_known_partial_ranking() -> None:
    # score ranks 1, 3, 2, 4 against verdict ranks 1, 2, 3, 4: rho = 1 - 6*2/(4*15) = 0.8
    row = table(_records([0.1, 0.3, 0.2, 0.4]), "correct", ["a"]).iloc[0]
    assert row["spearman"] == pytest.approx(0.8)


def test_constant_verdicts_give_nan_and_files_are_written(tmp_path) -> None:
    frame = _records([0.1, 0.2, 0.3, 0.4]).assign(correct=True)
    assert math.isnan(table(frame, "correct", ["a"]).iloc[0]["spearman"])
    path = write(tmp_path, _records([0.1, 0.2, 0.3, 0.4]), "correct", ["a"])
    assert pd.read_csv(path)["spearman"].tolist() == pytest.approx([1.0])
    assert (tmp_path / "agreement.svg").read_text().lstrip().startswith("<?xml")


def test_detailmaster_verdict_pools_a_prompts_units_as_cal_eval() -> None:
    from evalkit.benchmarks.detailmaster.agreement import per_prompt

    def unit(key, dim, ok, cls=None, detected=None):
        return {"key": key, "row": "unit", "dimension": dim, "success": ok, "cls": cls,
                "detected": detected}  # fmt: skip

    rows = [
        # key a: 3 of 4 counted units pass; an attribute of class "plant" is not counted
        unit("a", "object_presence", 1),
        unit("a", "character_attributes", 1, "animal", True),
        unit("a", "character_attributes", 0, "person", False),
        unit("a", "scene_light", 1),
        unit("a", "character_attributes", 0, "plant", True),
        unit("b", "scene_spatial", 0),  # key b: 0 of 1
        {"key": "a", "row": "score", "score_s": 2.0},
        {"key": "a", "row": "score", "score_s": 4.0},  # two images: their mean
        {"key": "b", "row": "score", "score_s": 1.0},
        {"key": "c", "row": "score", "score_s": 9.0},  # no counted unit: not a prompt here
        {"key": "a", "row": "call", "dimension": None},
    ]
    got = per_prompt(pd.DataFrame(rows), ["s"]).set_index("key")
    assert got.index.tolist() == ["a", "b"]
    assert got["unit_accuracy"].tolist() == [0.75, 0.0]
    assert got["score_s"].tolist() == [3.0, 1.0]
