"""CLIP-S against the paper's own code: jmhessel/clipscore's ``get_clip_score`` with OpenAI's
``clip`` package (1.0.1), recorded by scripts/official_fixtures/clips.py on a seeded random CLIP
ViT-B/32 of the real architecture and scikit-image photos (as stored: RGB, greyscale, RGBA).
Ours loads the same weights in transformers' layout (the recorder renamed them to OpenAI's)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("transformers")
pytest.importorskip("skimage")

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
FIXTURE = FIXTURES / "clips_official_random.json"
# float32 noise between OpenAI's CLIP module and transformers' on the same weights, on CLIP-S
# (2.5 x cos) and on each unit feature vector's components
TOL = 1e-6  # measured: 3.7e-8 on CLIP-S, 1.5e-7 on feature components


@pytest.fixture(scope="module")
def recorded() -> dict:
    return json.loads(FIXTURE.read_text())


@pytest.fixture(scope="module")
def scorer(recorded: dict, tmp_path_factory: pytest.TempPathFactory):  # noqa: ANN201
    from transformers import CLIPProcessor

    from evalkit.scores.clipscore import ClipScorer
    from evalkit.scores.random_clip import (
        random_real_clip,
        state_digest,
        write_preprocessor,
        write_tokenizer,
    )

    model = random_real_clip("openai/clip-vit-base-patch32", seed=recorded["seed"])
    assert state_digest(model) == recorded["weights_digest"]
    folder = tmp_path_factory.mktemp("clip_b32")
    write_preprocessor(folder)
    write_tokenizer(folder)
    return ClipScorer("clip_s", model, CLIPProcessor.from_pretrained(folder), "random")


def _photos(names: list[str]) -> list:
    from PIL import Image
    from skimage import data

    return [Image.fromarray(getattr(data, n)()) for n in names]


def test_clip_s_matches_the_papers_code(recorded: dict, scorer) -> None:  # noqa: ANN001
    images, prompts = _photos(recorded["photo_names"]), recorded["prompts"]
    cos = scorer.cosines(images, prompts)
    ours = scorer.score(images, prompts)
    print("max |cos diff|", max(abs(a - b) for a, b in zip(cos, recorded["cos"])))
    print("max |clip_s diff|", max(abs(a - b) for a, b in zip(ours, recorded["clip_s"])))
    assert max(abs(a - b) for a, b in zip(ours, recorded["clip_s"])) < TOL
    assert max(abs(a - b) for a, b in zip(cos, recorded["cos"])) < TOL / 2.5
    assert any(v == 0.0 for v in ours) and any(v > 0 for v in ours)  # both signs of cos


def test_features_match_the_papers_code(recorded: dict, scorer) -> None:  # noqa: ANN001
    arrays = np.load(FIXTURES / recorded["arrays"].split(":")[0])
    images = _photos(recorded["photo_names"])
    img = scorer.image_features(images)
    txt = scorer.text_features(recorded["prompts"])
    print("max |img diff|", np.abs(img - arrays["image_features"]).max())
    print("max |txt diff|", np.abs(txt - arrays["text_features"]).max())
    assert np.abs(txt - arrays["text_features"]).max() < TOL
    assert np.abs(img - arrays["image_features"]).max() < TOL
