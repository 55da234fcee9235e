"""HPSv2.1 against the hpsv2 package 1.2.0 (``hpsv2.img_score.score``, hps_version="v2.1"),
recorded by scripts/official_fixtures/hpsv2.py on a seeded random small ViT-H-14 checkpoint and
scikit-image photos; ours runs on open_clip (the shared venv's)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

pytest.importorskip("open_clip")
pytest.importorskip("skimage")

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "hpsv2_official_random.json"
TOL = 1e-5  # cosine; measured 1.0e-7 (fp32 noise: the official scores one image per pass)


@pytest.fixture(scope="module")
def recorded() -> dict:
    return json.loads(FIXTURE.read_text())


@pytest.fixture(scope="module")
def checkpoint(recorded: dict, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    import open_clip

    from evalkit.scores.random_clip import write_random_hps_checkpoint, write_small_vit_h14_config

    folder = tmp_path_factory.mktemp("hps")
    open_clip.add_model_config(write_small_vit_h14_config(folder))
    path = folder / "hps_random.pt"
    digest = write_random_hps_checkpoint(
        path, lambda n, p: open_clip.create_model(n, pretrained=p), recorded["seed"]
    )
    return path, digest


def test_same_random_weights_as_the_recording(recorded: dict, checkpoint: tuple) -> None:
    assert checkpoint[1] == recorded["weights_digest"]


def test_hpsv2_matches_the_hpsv2_package(recorded: dict, checkpoint: tuple) -> None:
    from PIL import Image
    from skimage import data

    from evalkit.scores import build
    from evalkit.scores.random_clip import SMALL_VIT_H_14_NAME

    scorer = build("hpsv2", checkpoint=str(checkpoint[0]), arch=SMALL_VIT_H_14_NAME)
    photos = [Image.fromarray(getattr(data, n)()) for n in recorded["photo_names"]]
    ours = scorer.score(photos, recorded["prompts"])
    assert max(abs(a - b) for a, b in zip(ours, recorded["hpsv2"])) < TOL
    # the letterbox matters: a centre crop (open_clip's usual eval transform) gives other values
    assert len({round(v, 4) for v in ours}) == len(ours)


def test_hpsv2_transform_letterboxes_with_black() -> None:
    from PIL import Image

    from evalkit.scores.hpsv2 import MEAN, STD, preprocess

    x = preprocess(Image.new("RGB", (448, 224), (255, 255, 255)))
    assert tuple(x.shape) == (3, 224, 224)
    black = [(0 - m) / s for m, s in zip(MEAN, STD)]
    white = [(1 - m) / s for m, s in zip(MEAN, STD)]
    for c in range(3):  # rows 0..55 and 168..223 padded, 56..167 the image
        assert float(x[c, 0, 100]) == pytest.approx(black[c], abs=1e-6)
        assert float(x[c, 223, 100]) == pytest.approx(black[c], abs=1e-6)
        assert float(x[c, 112, 100]) == pytest.approx(white[c], abs=1e-3)
