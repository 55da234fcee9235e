"""evaluate() against the independent re-statement of the official code, on the real mini file's
records (skipped without ../shared) with hashed scripted answers, to 1e-12."""

from __future__ import annotations

import pytest

from evalkit.benchmarks.detailmaster import MINI_KEYS, OFFICIAL_KEYS, evaluate
from evalkit.benchmarks.detailmaster.scripted import ScriptedJudge
from tests.detailmaster.helpers import (
    MINI_FILE,
    MINI_SHA256,
    assert_same,
    mini_records,
    needs_mini,
    synthetic_images,
)
from tests.detailmaster.restatement import official_accuracies, official_counts


@pytest.fixture(scope="module")
def mini_data():
    records = mini_records()
    return records, synthetic_images(records)


@needs_mini
def test_mini_file_is_the_pinned_one() -> None:
    from evalkit.filehash import sha256_file

    assert sha256_file(MINI_FILE) == MINI_SHA256
    assert len(mini_records()) == 800


@needs_mini
@pytest.mark.parametrize(
    ("mini", "protocol", "limit"),
    [
        (False, "official", None),
        (True, "official", None),
        (False, "fixed", 250),
        (True, "fixed", 400),
    ],
)
def test_mini_records_match_restatement(mini_data, mini: bool, protocol: str, limit) -> None:
    records, images = mini_data
    records = records[:limit]
    ours_judge, ref_judge = ScriptedJudge(seed=3), ScriptedJudge(seed=3)
    ours = evaluate(records, images, ours_judge, protocol=protocol, mini=mini)
    ref = official_accuracies(
        official_counts(records, images, ref_judge, fixed=protocol == "fixed", mini=mini), mini
    )
    assert tuple(ours) == (MINI_KEYS if mini else OFFICIAL_KEYS)
    assert_same(ours, ref)
    assert all(0 < v < 1 for v in ours.values())  # every dimension filled, none degenerate
    # The same questions on the same images; ours asks each distinct one once.
    assert set(ours_judge.asked) == set(ref_judge.asked)
    assert len(ours_judge.asked) == len(set(ref_judge.asked)) < len(ref_judge.asked)
    if protocol == "official":
        assert ours_judge.calls["match"] == ref_judge.calls["match"] == 0  # BLIP never reached
    else:
        assert ours_judge.calls["match"] > 0
