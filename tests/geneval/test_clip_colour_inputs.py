"""GenEval's colour judge, fast: its inputs and its zero-shot arithmetic against the official.

tests/fixtures/geneval_colour_inputs_official.{json,npz} holds, for every crop the official
evaluate_images.py (GenEval af4902f; open_clip_torch 2.20.0, clip-benchmark 1.4.0, Pillow 9.4.0)
asked about on the cases of geneval_colour_official.json: the ImageCrops crop (mask on #999, PIL
crop) and the ViT-L-14 eval-transform tensor its DataLoader handed to ``encode_image``, and the
logits of clip_benchmark's zero_shot_classifier / run_classification with a SMALL seeded open_clip
CLIP (scripts/record_official_fixtures.py geneval_colour_inputs). Here: our crop (``composite``)
and our judge's ``pixels`` (open_clip 3.x transform, our Pillow) must be BITWISE equal (sha256 of
uint8 crop / float32 tensor); our ``ClipColour.logits`` with the same small model (built by our
open_clip from the same config, same seeded weights) within LOGIT_ATOL. The ViT-L-14 forward
itself is compared in the slow test_clip_colour_parity.py.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest

pytest.importorskip("open_clip")
pytest.importorskip("skimage")

from evalkit.judges.clip_colour import ClipColour  # noqa: E402
from evalkit.judges.colour import composite  # noqa: E402
from evalkit.judges.random_weights import digest, seeded_state_dict, to_torch  # noqa: E402
from tests.geneval.colour_cases import (  # noqa: E402
    FIXTURE,
    FIXTURES,
    case_crops,
    vit_l14_transform,  # noqa: E402
)

INPUTS = json.loads((FIXTURES / "geneval_colour_inputs_official.json").read_text())
LOGITS = np.load(FIXTURES / "geneval_colour_inputs_official.npz")
CASES = {c["id"]: c for c in FIXTURE["cases"]}
# float32 CPU, the same inputs (checked bitwise above), another open_clip and torch kernels: the
# logits (100 x cosine, about -25 here) agreed to 7.6e-6 (4 float32 ulps) when measured; 1e-4
# leaves room for other CPU kernels, is below the smallest recorded gap between two colours of a
# crop (7.6e-3), and 50x below what averaging unnormalised text embeddings changes (>= 5e-3).
LOGIT_ATOL = 1e-4


def sha256(array: np.ndarray, dtype: Any) -> str:
    return hashlib.sha256(np.ascontiguousarray(array, dtype).tobytes()).hexdigest()


@pytest.fixture(scope="module")
def judge() -> Iterator[ClipColour]:
    """ClipColour with the recording's small CLIP (our open_clip) and our ViT-L-14 transform."""
    import open_clip
    from open_clip import factory

    factory._MODEL_CONFIGS[INPUTS["tiny_name"]] = INPUTS["tiny_config"]
    try:
        model = open_clip.create_model(INPUTS["tiny_name"], device="cpu")
    finally:
        del factory._MODEL_CONFIGS[INPUTS["tiny_name"]]
    state = seeded_state_dict(INPUTS["recipes"], INPUTS["seed"], fp16=True)
    model.load_state_dict(to_torch(state))
    assert digest(model.state_dict(), list(INPUTS["recipes"])) == INPUTS["digest"]
    yield ClipColour(
        device="cpu",
        model=model,
        preprocess=vit_l14_transform(),
        tokenizer=open_clip.get_tokenizer("ViT-L-14"),
    )


def test_fixture_is_the_official_recording() -> None:
    assert INPUTS["versions"]["open_clip_torch"] == "2.20.0"
    assert INPUTS["versions"]["clip-benchmark"] == "1.4.0"
    assert INPUTS["versions"]["pillow"] == "9.4.0"
    assert INPUTS["transform"]["architecture"] == "ViT-L-14"
    assert [c["id"] for c in INPUTS["cases"]] == list(CASES)
    for case in INPUTS["cases"]:  # one logit row per crop, as many crops as the ViT-L-14 run
        rows = LOGITS[f"{case['id']}/logits"]
        assert rows.shape == (len(case["crops"]), 10)
        assert len(case["crops"]) == len(case_crops(CASES[case["id"]]))


@pytest.mark.parametrize("case", INPUTS["cases"], ids=[c["id"] for c in INPUTS["cases"]])
def test_crops_and_pixels_are_the_officials(judge: ClipColour, case: dict[str, Any]) -> None:
    crops = case_crops(CASES[case["id"]])
    pixels = judge.pixels(crops).numpy()
    for k, (crop, official) in enumerate(zip(crops, case["crops"], strict=True)):
        ours = composite(crop)
        assert (list(ours.shape), sha256(ours, np.uint8)) == (
            official["shape"],
            official["sha256"],
        ), (case["id"], k, "crop")
        want = official["pixels"]
        got = pixels[k]
        assert list(got.shape) == want["shape"]
        flat = got.reshape(-1)
        detail = (
            case["id"],
            k,
            float(np.abs(flat[want["sample_index"]] - want["sample_value"]).max()),
            float(flat.astype(np.float64).sum() - want["sum"]),
        )
        assert sha256(got, np.float32) == want["sha256"], detail


@pytest.mark.parametrize("case", INPUTS["cases"], ids=[c["id"] for c in INPUTS["cases"]])
def test_zero_shot_logits_match_clip_benchmark(judge: ClipColour, case: dict[str, Any]) -> None:
    logits = judge.logits(case_crops(CASES[case["id"]]))
    official = LOGITS[f"{case['id']}/logits"]
    worst = float(np.abs(logits - official).max())
    assert worst <= LOGIT_ATOL, (case["id"], worst)
