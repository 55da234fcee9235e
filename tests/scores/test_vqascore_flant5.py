"""VQAScore, CLIP-FlanT5, against t2v-metrics 3.0's ``CLIPT5Model.forward``.

tests/fixtures/vqascore_flant5_official_random.json holds the official scores (transformers
4.49.0, its pin; float32 on CPU) on scikit-image photos with a seeded random tiny CLIP-FlanT5;
recorded by scripts/official_fixtures/vqascore_flant5.py. NOT proven here: Flan-T5's real
sentencepiece tokenizer (a word-level stand-in on both sides), bf16 on CUDA, the real weights.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("transformers")
pytest.importorskip("skimage")

from evalkit.scores import vqascore_flant5  # noqa: E402
from evalkit.scores.vqascore_flant5_random import make_checkpoint, weights_sha256  # noqa: E402

FIXTURE = json.loads(
    (
        Path(__file__).resolve().parents[1] / "fixtures" / "vqascore_flant5_official_random.json"
    ).read_text()
)
#: |log score| difference, float32 both sides, two transformers generations' kernels: measured
#: 9.4e-7 over the 16 pairs (5.3e-4 with transformers 5's own CLIPImageProcessor resize)
LOG_TOLERANCE = 1e-5


@pytest.fixture(scope="module")
def scorer(tmp_path_factory: pytest.TempPathFactory) -> vqascore_flant5.CLIPFlanT5Scorer:
    root = make_checkpoint(tmp_path_factory.mktemp("flant5"), FIXTURE["prompts"], FIXTURE["seed"])
    if weights_sha256(root) != FIXTURE["_about"]["weights_sha256"]:
        pytest.fail("the random checkpoint differs from the recorded one: re-record the fixture")
    return vqascore_flant5.from_folder(
        "vqascore", root / "model", root / "vision", root / "tokenizer"
    )


def photos() -> list:
    from PIL import Image
    from skimage import data

    return [Image.fromarray(getattr(data, name)()) for name in FIXTURE["photos"]]


def test_matches_t2v_metrics_on_photos(scorer: vqascore_flant5.CLIPFlanT5Scorer) -> None:
    """Every photo with every prompt (16 pairs); the official values spread far wider than
    the tolerance, so a wrong photo, prompt or head shows."""
    images, prompts = photos(), FIXTURE["prompts"]
    pairs = [(i, j) for i in range(len(images)) for j in range(len(prompts))]
    ours = scorer.score([images[i] for i, _ in pairs], [prompts[j] for _, j in pairs])
    official = [FIXTURE["p_yes"][FIXTURE["photos"][i]][j] for i, j in pairs]
    logs = [math.log(v) for v in official]
    assert max(logs) - min(logs) > 100 * LOG_TOLERANCE
    gap = max(abs(math.log(a) - math.log(b)) for a, b in zip(ours, official, strict=True))
    print(f"max |log ours - log official| over {len(pairs)} pairs = {gap:.2e}")
    assert gap < LOG_TOLERANCE


def test_prompt_chunks_are_t2v_metrics_t5_chat() -> None:
    before, after = vqascore_flant5.chunks("a cat")
    assert before.endswith(" USER: ") and before.startswith("A chat between")
    assert after == '\nDoes this figure show "a cat"? Please answer yes or no. ASSISTANT: '


def test_expand_to_square_pads_with_the_mean_colour() -> None:
    from PIL import Image

    wide = Image.new("RGB", (4, 2), (255, 0, 0))
    square = vqascore_flant5.expand_to_square(wide, [0.5, 0.25, 1.0])
    assert square.size == (4, 4)
    assert square.getpixel((0, 0)) == (127, 63, 255) and square.getpixel((0, 1)) == (255, 0, 0)


def test_registry_builds_it_from_the_store(
    scorer: vqascore_flant5.CLIPFlanT5Scorer, empty_store: Path
) -> None:
    """``evalkit.scores.build("vqascore")`` with the three parts in the store's layout."""
    import shutil

    from evalkit import scores
    from evalkit.scores import vqascore_flant5_weights as w

    assert "zhiqiulin/clip-flant5-xxl" in vqascore_flant5.missing()
    root = make_checkpoint(empty_store / "random", FIXTURE["prompts"], FIXTURE["seed"])
    for part in ("model", "vision", "tokenizer"):
        shutil.copytree(root / part, empty_store / w.STORE_PATH / part)
    assert vqascore_flant5.missing() == ""
    built = scores.build("vqascore")
    assert built.info.units == "P(Yes)" and built.judge.name == w.MODEL_ID
    value = built.score([photos()[1]], [FIXTURE["prompts"][1]])[0]
    assert abs(math.log(value) - math.log(FIXTURE["p_yes"]["chelsea"][1])) < LOG_TOLERANCE


def test_offline_without_the_store_is_one_clear_error(empty_store: Path) -> None:
    from evalkit.assets import MissingAssetError
    from evalkit.scores import build

    with pytest.raises(MissingAssetError, match="google/flan-t5-xxl"):
        build("vqascore")


def test_weight_files_prefer_safetensors() -> None:
    from evalkit.scores.vqascore_flant5_weights import weight_files

    both = ["config.json", "pytorch_model.bin", "model.safetensors", "sub/x.safetensors"]
    assert weight_files(both) == ["model.safetensors"]
    pickles = ["pytorch_model-00001-of-00002.bin", "pytorch_model.bin.index.json", "a.txt"]
    assert weight_files(pickles) == sorted(pickles[:2])
