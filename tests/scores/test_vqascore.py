"""VQAScore, Qwen2.5-VL variant, against t2v-metrics 3.0's ``Qwen2VLModel.forward``.

tests/fixtures/vqascore_qwen_official_random.json holds P("Yes") from the official code path
(transformers 4.49.0, its pin) on scikit-image photos with a seeded random tiny Qwen2.5-VL
checkpoint; recorded by scripts/official_fixtures/vqascore.py. What this does NOT prove: Qwen's
real tokenizer and chat template (the checkpoint's are small stand-ins) and bf16 on CUDA
(CLIP-FlanT5: test_vqascore_flant5.py).
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("transformers")
pytest.importorskip("skimage")

from evalkit.scores import vqascore  # noqa: E402
from evalkit.scores.vqascore_random import make_checkpoint, weights_sha256  # noqa: E402

FIXTURE = json.loads(
    (
        Path(__file__).resolve().parents[1] / "fixtures" / "vqascore_qwen_official_random.json"
    ).read_text()
)
#: |log P(Yes)| difference: float32 on both sides, two transformers generations' kernels
LOG_TOLERANCE = 1e-4


@pytest.fixture(scope="module")
def scorer(tmp_path_factory: pytest.TempPathFactory) -> vqascore.QwenVQAScorer:
    folder = make_checkpoint(
        tmp_path_factory.mktemp("qwen") / "ckpt",
        FIXTURE["prompts"],
        FIXTURE["seed"],
        FIXTURE["generation_config"],
    )
    if weights_sha256(folder) != FIXTURE["_about"]["weights_sha256"]:
        pytest.fail("the random checkpoint differs from the recorded one: re-record the fixture")
    return vqascore.from_folder("vqascore_qwen", folder)


def log_gap(ours: list[float], official: list[float]) -> float:
    return max(abs(math.log(a) - math.log(b)) for a, b in zip(ours, official, strict=True))


def photos() -> list:
    from PIL import Image
    from skimage import data

    return [Image.fromarray(getattr(data, name)()) for name in FIXTURE["photos"]]


def _max_log_difference(scorer: vqascore.QwenVQAScorer, pairs: list[tuple[int, int]]) -> float:
    images, prompts = photos(), FIXTURE["prompts"]
    ours = scorer.score([images[i] for i, _ in pairs], [prompts[j] for _, j in pairs])
    official = [FIXTURE["p_yes"][FIXTURE["photos"][i]][j] for i, j in pairs]
    spread = max(math.log(v) for v in official) - min(math.log(v) for v in official)
    assert spread > 100 * LOG_TOLERANCE  # the values differ well beyond the tolerance
    return log_gap(ours, official)


def test_matches_t2v_metrics_on_photos(scorer: vqascore.QwenVQAScorer) -> None:
    """Each photo with its own prompt (4 pairs)."""
    assert scorer.penalty == pytest.approx(1.05)
    assert _max_log_difference(scorer, [(i, i) for i in range(4)]) < LOG_TOLERANCE


@pytest.mark.slow
def test_matches_t2v_metrics_on_every_pair(scorer: vqascore.QwenVQAScorer) -> None:
    pairs = [(i, j) for i in range(4) for j in range(4)]
    diff = _max_log_difference(scorer, pairs)
    print(f"max |log ours - log official| over {len(pairs)} pairs = {diff:.2e}")
    assert diff < LOG_TOLERANCE


def test_the_checkpoints_repetition_penalty_is_applied(scorer: vqascore.QwenVQAScorer) -> None:
    """Without it the official values differ by more than the tolerance: the penalty is seen."""
    image = photos()[0]
    prompts = FIXTURE["prompts"][:2]
    with_penalty = scorer.score([image] * len(prompts), prompts)
    no_penalty = FIXTURE["p_yes_astronaut_without_penalty"][:2]
    assert log_gap(with_penalty, no_penalty) > 0.005
    scorer.penalty = 1.0
    try:
        ours = scorer.score([image] * len(prompts), prompts)
    finally:
        scorer.penalty = 1.05
    assert log_gap(ours, no_penalty) < LOG_TOLERANCE


def test_yes_probability_closed_form() -> None:
    """Two-token vocabulary: softmax by hand, with and without the penalty on a seen token."""
    logits = torch.tensor([2.0, -1.0, 0.5])
    seen = torch.tensor([0, 1])
    plain = vqascore.yes_probability(logits, seen, 2, 1.0)
    assert plain == pytest.approx(math.exp(0.5) / sum(math.exp(v) for v in (2.0, -1.0, 0.5)))
    penalised = vqascore.yes_probability(logits, seen, 2, 2.0)
    assert penalised == pytest.approx(math.exp(0.5) / sum(math.exp(v) for v in (1.0, -2.0, 0.5)))


def test_generation_configs_it_cannot_follow_are_refused() -> None:
    assert vqascore.greedy_penalty({"repetition_penalty": 1.05, "temperature": 0.1}) == 1.05
    assert vqascore.greedy_penalty({}) == 1.0
    with pytest.raises(ValueError, match="no_repeat_ngram_size"):
        vqascore.greedy_penalty({"no_repeat_ngram_size": 3})


def test_missing_weights_name_every_file(empty_store: Path) -> None:
    text = vqascore.missing("vqascore_qwen")
    assert "model-00001-of-00005.safetensors" in text and "evalkit fetch" in text
