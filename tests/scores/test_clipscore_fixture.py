"""CLIPScore against torchmetrics' CLIPScore (1.9.0, under transformers 4.57.1), recorded by
scripts/official_fixtures/clipscore.py on a seeded random CLIP of the real architecture and
scikit-image photos; ours runs under the shared venv's transformers. CLIP-S (the paper's pixels,
not torchmetrics') is checked against the paper's own code in test_clips_official.py."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

pytest.importorskip("transformers")
pytest.importorskip("open_clip")
pytest.importorskip("skimage")

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "clipscore_torchmetrics_random.json"
# on 100 x cos: fp32 noise between transformers 4.57.1 (reference) and ours; measured 4.0e-4
TOL = 1e-3


@pytest.fixture(scope="module")
def recorded() -> dict:
    return json.loads(FIXTURE.read_text())


@pytest.fixture(scope="module")
def clip_folder(recorded: dict, tmp_path_factory: pytest.TempPathFactory) -> Path:
    from evalkit.scores.random_clip import write_random_clip

    folder = tmp_path_factory.mktemp("clip") / "openai" / "clip-vit-large-patch14"
    return write_random_clip(folder, seed=recorded["seed"])


def _photos(names: list[str]) -> list:
    from PIL import Image
    from skimage import data

    return [Image.fromarray(getattr(data, n)()).convert("RGB") for n in names]


def test_same_random_weights_as_the_recording(recorded: dict, clip_folder: Path) -> None:
    from evalkit.scores.clipscore import load_clip
    from evalkit.scores.random_clip import state_digest

    model, _ = load_clip(clip_folder)
    assert state_digest(model) == recorded["weights_digest"]


def test_clipscore_matches_torchmetrics(recorded: dict, clip_folder: Path) -> None:
    from evalkit.scores import build

    scorer = build("clipscore", model_dir=str(clip_folder))
    images = _photos(recorded["photo_names"])
    cos = scorer.cosines(images, recorded["prompts"])
    unclamped = [100 * c for c in cos]
    assert max(abs(a - b) for a, b in zip(unclamped, recorded["clipscore_unclamped"])) < TOL
    ours = scorer.score(images, recorded["prompts"])
    assert max(abs(a - b) for a, b in zip(ours, recorded["clipscore"])) < TOL
    assert sum(v == 0.0 for v in ours) == sum(v == 0.0 for v in recorded["clipscore"]) >= 1
    # torchmetrics' compute() over a batch clamps the mean, not each pair (see the module doc)
    corpus = max(sum(unclamped) / len(unclamped), 0.0)
    assert corpus == pytest.approx(recorded["clipscore_batch_mean"], abs=TOL)
    assert sum(ours) / len(ours) > corpus  # here some cosines are negative: the two differ


def test_random_clip_has_the_real_key_names() -> None:
    import torch
    from transformers import CLIPModel

    from evalkit.scores.random_clip import REAL_CONFIGS, real_config, small_config

    def shape_free(names: set[str]) -> set[str]:
        return {re.sub(r"\.layers\.\d+\.", ".layers.N.", k) for k in names}

    for real in REAL_CONFIGS:
        with torch.device("meta"):
            big = CLIPModel(real_config(real))
        small = CLIPModel(small_config(real))
        assert shape_free(set(big.state_dict())) == shape_free(set(small.state_dict())), real
        assert small.config.vision_config.patch_size == big.config.vision_config.patch_size
