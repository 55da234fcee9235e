"""evaluate() against the OFFICIAL evaluation scripts: the fixture detailmaster_official_eval.json
holds what eval_process.py / eval_process_mini.py + cal_eval.py / cal_eval_mini.py of
modelscope/data-juicer (DetailMaster branch) computed, run unmodified with stand-in judge modules
answering from ScriptedJudge(seed) (scripts/official_fixtures/detailmaster.py). Here the same
judge answers evalkit's protocol on the same records and images: every record-image state, the
counts, cal_eval's accuracies and the set of questions asked must be identical."""

from __future__ import annotations

import hashlib
import json
from typing import Any

import pytest

from evalkit.benchmarks.detailmaster import MINI_KEYS, OFFICIAL_KEYS, evaluate, judgements
from evalkit.benchmarks.detailmaster.protocol import CLASSES, Unit, accuracies, counts
from evalkit.benchmarks.detailmaster.scripted import ScriptedJudge, fingerprint
from tests.detailmaster.helpers import (
    MINI_FILE,
    MINI_SHA256,
    mini_records,
    needs_mini,
    per_record_images,
    random_records,
    synthetic_images,
)
from tests.support import REPO

FIXTURE = json.loads((REPO / "tests" / "fixtures" / "detailmaster_official_eval.json").read_text())
SCENES = ("background", "light", "style", "spatial")


class RecordingJudge(ScriptedJudge):
    """The stand-ins' script; remembers every (kind, image fingerprint, text, answer)."""

    def __init__(self, seed: int) -> None:
        super().__init__(seed=seed)
        self.log: list[tuple[str, str, str, Any]] = []

    def detect(self, image, name):
        got = super().detect(image, name)
        self.log.append(("detect", fingerprint(image), name, got))
        return got

    def ask(self, image, prompt):
        got = super().ask(image, prompt)
        self.log.append(("ask", fingerprint(image), prompt, got))
        return got

    def match(self, image, text):
        got = super().match(image, text)
        self.log.append(("match", fingerprint(image), text, got))
        return got


def _digest(lines: list[str]) -> str:
    return hashlib.sha256("\n".join(sorted(lines)).encode()).hexdigest()


def _inputs(name: str) -> tuple[list[dict], dict[str, list]]:
    low, span = FIXTURE["image_size"]["low"], FIXTURE["image_size"]["span"]
    if name == "mini":
        records = mini_records()
        return records, per_record_images(records, low, span)
    records = random_records()
    return records, synthetic_images(records, pooled_every=3, low=low, span=span)


def condense(units: list[Unit]) -> dict[str, Any]:
    """Our units of one record-image in the recorder's condensed form of an official state."""
    presence = [u for u in units if u.dimension == "object_presence"]
    attrs = [u for u in units if u.dimension == "character_attributes"]
    locations = [u for u in units if u.dimension == "character_locations"]
    attributes = {}
    for cls in CLASSES:
        mine = [u for u in attrs if u.cls == cls]
        row = [len(mine), sum(u.success for u in mine), sum(bool(u.detected) for u in mine)]
        if any(row):
            attributes[cls] = row
    scores: dict[str, str] = {}
    for u in attrs:
        scores[u.character] = scores.get(u.character, "") + str(u.success)
    scene = {}
    for dim in SCENES:
        mine = [u for u in units if u.dimension == f"scene_{dim}"]
        if mine:
            scene[dim] = [len(mine), sum(u.success for u in mine)]
    return {
        "presence": [len(presence), sum(u.success for u in presence)],
        "attributes": attributes,
        "attribute_scores": dict(sorted(scores.items())),
        "locations": [len(locations), sum(u.success for u in locations)],
        "scene": dict(sorted(scene.items())),
    }


def _official_counts(overall: dict[str, Any], mini: bool) -> dict[str, tuple[int, int]]:
    """*_overall_eval.json as official key -> (successes, denominator)."""
    out = {}
    if not mini:
        out["object_presence"] = (
            overall["object_presence_success_count"],
            overall["object_presence_all_count"],
        )
    for cls in CLASSES:
        ok = overall["character_attributes_success_count"].get(cls, 0)
        out[f"character_attributes_{cls}"] = (
            ok,
            overall["character_attributes_all_count"].get(cls, 0),
        )
        out[f"character_attributes_{cls}_detect"] = (
            ok,
            overall["character_attributes_detect_count"].get(cls, 0),
        )
    out["character_locations"] = (
        overall["character_locations_success_count"],
        overall["character_locations_all_count"],
    )
    for dim in SCENES:
        out[f"scene_attrbutes_{dim}"] = (
            overall["scene_attrbutes_success_count"][dim],
            overall["scene_attrbutes_all_count"][dim],
        )
    return out


CASES = [
    "shapes/full",
    "shapes/mini",
    pytest.param("mini/full", marks=needs_mini),
    pytest.param("mini/mini", marks=needs_mini),
]


@pytest.mark.parametrize("case", CASES)
def test_evaluate_equals_the_official_scripts(case: str) -> None:
    name, mode = case.split("/")
    mini = mode == "mini"
    official = FIXTURE["cases"][case]
    records, images = _inputs(name)
    # the very inputs the official scripts were run on
    assert hashlib.sha256(json.dumps(records).encode()).hexdigest() == official["records_sha256"]
    shots = [f"{k}|{fingerprint(im)}" for k, ims in images.items() for im in ims]
    assert _digest(shots) == official["images_sha256"]

    judge = RecordingJudge(FIXTURE["seed"])
    found = judgements(records, images, judge, "official", mini)
    assert len(found) == official["judgements"]
    assert [(j.record, j.image) for j in found] == [
        (s["record"], s["image"]) for s in official["states"]
    ]
    ours = [condense(j.units) for j in found]
    theirs = [
        {k: v for k, v in s.items() if k not in ("record", "image")} for s in official["states"]
    ]
    differ = [
        (s["record"], s["image"]) for o, t, s in zip(ours, theirs, official["states"]) if o != t
    ]
    assert not differ, f"{len(differ)} record-image states differ, e.g. {differ[:5]}"

    # The same distinct questions on the same pixels, and the same answers; BLIP never asked.
    assert len({(k, fp, t) for k, fp, t, _ in judge.log}) == official["distinct_questions"]
    assert _digest([f"{k}|{fp}|{t}" for k, fp, t, _ in judge.log]) == official["questions_sha256"]
    answers = {json.dumps([k, fp, t, a]) for k, fp, t, a in judge.log}
    assert _digest(list(answers)) == official["answers_sha256"]
    assert "match" not in official["calls"] and "blip_called" not in official["notes"]
    assert judge.calls["match"] == 0

    # Totals and cal_eval's accuracies (it rounds to 4 decimals; ours are the exact ratios).
    count = counts([u for j in found for u in j.units])
    for key, pair in _official_counts(official["overall"], mini).items():
        assert count[key] == pair, key
    acc = evaluate(records, images, ScriptedJudge(seed=FIXTURE["seed"]), "official", mini)
    assert acc == accuracies(count, mini)
    assert tuple(acc) == (MINI_KEYS if mini else OFFICIAL_KEYS)
    assert official["cal_eval"].keys() == acc.keys()
    for key, value in official["cal_eval"].items():
        ok, n = count[key]
        assert acc[key] == ok / n and round(acc[key], 4) == value, key


def test_the_official_pipeline_gets_no_generation_config() -> None:
    """pipe((prompt, image)) with no gen_config: lmdeploy's defaults decide the decoding."""
    for case in FIXTURE["cases"].values():
        assert case["notes"]["pipeline_call"] == {"positional_args": 0, "keywords": []}
    assert FIXTURE["cases"]["mini/full"]["notes"]["pipeline_0"]["backend_config"] == {
        "cache_max_entry_count": 0.1
    }
    assert FIXTURE["cases"]["mini/mini"]["notes"]["pipeline_0"]["backend_config"] is None


@needs_mini
def test_mini_file_is_the_pinned_one() -> None:
    from evalkit.filehash import sha256_file

    assert sha256_file(MINI_FILE) == MINI_SHA256
    assert len(mini_records()) == 800
