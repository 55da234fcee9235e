"""ImageReward on transformers' BLIP against the official package (image-reward 1.5).

tests/fixtures/imagereward_official_random.json holds ``ImageReward.score(prompt, image)`` of the
official code on scikit-image photos and prompts with a seeded random checkpoint of the small
architecture (real widths, 2 + 2 layers); imagereward_official_keys.json holds the real-size
official model's keys and shapes. Recorded by scripts/official_fixtures/imagereward.py.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("transformers")
pytest.importorskip("skimage")

from evalkit.scores import imagereward  # noqa: E402
from evalkit.scores.imagereward_random import (  # noqa: E402
    MED_CONFIG,
    SMALL_MED_CONFIG,
    SMALL_VISION_DEPTH,
    random_state_dict,
)

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
FIXTURE = json.loads((FIXTURES / "imagereward_official_random.json").read_text())
REAL_KEYS: dict[str, list[int]] = json.loads(
    (FIXTURES / "imagereward_official_keys.json").read_text()
)["keys"]
VOCAB = FIXTURES / "imagereward_vocab.txt"
#: float32 on both sides; the two attention implementations differ by rounding only
TOLERANCE = 1e-4


def small_shapes() -> dict[str, list[int]]:
    """The small official model's keys: the real list without blocks/layers >= 2, same order."""
    vision = SMALL_VISION_DEPTH
    text = SMALL_MED_CONFIG["num_hidden_layers"]

    def kept(key: str) -> bool:
        found = re.match(r"blip\.visual_encoder\.blocks\.(\d+)\.", key)
        if found:
            return int(found[1]) < vision
        found = re.match(r"blip\.text_encoder\.encoder\.layer\.(\d+)\.", key)
        return not found or int(found[1]) < text

    return {k: v for k, v in REAL_KEYS.items() if kept(k)}


def photos() -> list:
    from PIL import Image
    from skimage import data

    return [Image.fromarray(getattr(data, name)()) for name in FIXTURE["photos"]]


def official_checkpoint() -> dict[str, torch.Tensor]:
    return random_state_dict(small_shapes(), FIXTURE["_about"]["seed"])


def test_every_real_checkpoint_key_has_its_place() -> None:
    """The real-size official keys (ImageReward.pt's layout) fill our real-size model exactly."""
    with torch.device("meta"):
        model = imagereward.ImageRewardNet(MED_CONFIG)
        state = {k: torch.empty(v) for k, v in REAL_KEYS.items()}
    converted = imagereward.convert_official(state, model)
    assert imagereward.vision_depth(state) == 24
    assert set(converted) == {k for k in model.state_dict() if not k.endswith("position_ids")}
    skipped = {k for k in REAL_KEYS if imagereward.our_key(k) is None}
    assert skipped == {
        "blip.text_encoder.embeddings.position_ids",
        "blip.vision_proj.weight",
        "blip.vision_proj.bias",
        "blip.text_proj.weight",
        "blip.text_proj.bias",
    }


def test_unknown_or_missing_keys_are_refused() -> None:
    with torch.device("meta"):
        model = imagereward.ImageRewardNet(MED_CONFIG)
        state = {k: torch.empty(v) for k, v in REAL_KEYS.items()}
    with pytest.raises(KeyError, match="blip.itm_head.weight"):
        imagereward.convert_official({**state, "blip.itm_head.weight": torch.empty(2, 768)}, model)
    del state["mlp.layers.7.bias"]
    with pytest.raises(ValueError, match="lacks 1 keys"):
        imagereward.convert_official(state, model)


def _store(root: Path) -> None:
    """A store folder laid out as the Hub's: the random checkpoint saved as ImageReward.pt is."""
    weights = root / imagereward.STORE_PATH
    weights.mkdir(parents=True)
    torch.save(official_checkpoint(), weights / "ImageReward.pt")
    (weights / "med_config.json").write_text(json.dumps(SMALL_MED_CONFIG))
    tok = root / imagereward.TOKENIZER_STORE_PATH
    tok.mkdir(parents=True)
    (tok / "vocab.txt").write_text(VOCAB.read_text())
    (tok / "tokenizer_config.json").write_text(json.dumps({"do_lower_case": True}))


def _compare(store: Path, pairs: list[tuple[int, int]]) -> float:
    """build() through the store (weights_only load, strict conversion), then the largest
    difference from image-reward 1.5 over the (photo index, prompt index) pairs."""
    _store(store)
    scorer = imagereward.build("imagereward")
    images, prompts = photos(), FIXTURE["prompts"]
    ids = scorer.tokenizer(prompts, padding="max_length", truncation=True, max_length=35)
    assert ids.input_ids == FIXTURE["token_ids"]
    ours = scorer.score([images[i] for i, _ in pairs], [prompts[j] for _, j in pairs])
    names = FIXTURE["photos"]
    official = [FIXTURE["rewards"][names[i]][j] for i, j in pairs]
    assert max(official) - min(official) > 0.1  # the values differ: a constant would not pass
    return max(abs(a - b) for a, b in zip(ours, official, strict=True))


def test_matches_the_official_package_on_photos(empty_store: Path) -> None:
    """Each photo with its own prompt, the astronaut with the truncated long one (6 pairs)."""
    pairs = [(i, i) for i in range(5)] + [(0, 5)]
    assert _compare(empty_store, pairs) < TOLERANCE


@pytest.mark.slow
def test_matches_the_official_package_on_every_pair(empty_store: Path) -> None:
    """All 30 (photo, prompt) pairs of the fixture."""
    pairs = [(i, j) for i in range(5) for j in range(6)]
    diff = _compare(empty_store, pairs)
    print(f"max |ours - official| over {len(pairs)} pairs = {diff:.2e}")
    assert diff < TOLERANCE


def test_missing_weights_name_every_file(empty_store: Path) -> None:
    text = imagereward.missing("imagereward")
    assert "ImageReward.pt" in text and "med_config.json" in text and "evalkit fetch" in text
