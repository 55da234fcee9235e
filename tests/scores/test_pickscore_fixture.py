"""PickScore against the official inference snippet (yuvalkirstain/PickScore README) run under
transformers 4.57.1 by scripts/official_fixtures/pickscore.py, on a seeded random CLIP-H of
PickScore_v1's architecture and scikit-image photos; ours runs under the shared transformers."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

pytest.importorskip("transformers")
pytest.importorskip("open_clip")
pytest.importorskip("skimage")

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "pickscore_official_random.json"
TOL = 1e-3  # logit_scale x cos: fp32 noise between transformers versions; measured 4.1e-4


def test_pickscore_matches_the_official_snippet(tmp_path: Path) -> None:
    from PIL import Image
    from skimage import data

    from evalkit.scores import build
    from evalkit.scores.random_clip import state_digest, write_random_pickscore

    recorded = json.loads(FIXTURE.read_text())
    model_dir, proc_dir = write_random_pickscore(tmp_path, seed=recorded["seed"])
    scorer = build("pickscore", model_dir=str(model_dir), processor_dir=str(proc_dir))
    assert state_digest(scorer.model) == recorded["weights_digest"]
    photos = [Image.fromarray(getattr(data, n)()) for n in recorded["photo_names"]]
    worst = 0.0
    for prompt, expected in zip(recorded["prompts"], recorded["scores_prompt_by_photo"]):
        ours = scorer.score(photos, [prompt] * len(photos))
        worst = max(worst, max(abs(a - b) for a, b in zip(ours, expected)))
    assert worst < TOL
