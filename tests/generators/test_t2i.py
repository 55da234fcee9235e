"""Text-to-image adapters: cards, per-sample seeds, official seeding, missing weights."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
import torch

pytest.importorskip("diffusers", reason="diffusers (evalkit[t2i]) is not installed")
pytest.importorskip("transformers", reason="transformers (evalkit[t2i]) is not installed")

from evalkit import catalog  # noqa: E402
from evalkit.models import t2i  # noqa: E402
from evalkit.store import MissingAssetError  # noqa: E402
from evalkit.types import Condition, Generator  # noqa: E402
from tests.generators.tiny_pipeline import tiny_sd_pipeline  # noqa: E402

PROMPTS = ["a photo of a cat", "a red car left of a dog", "two cups", "a blue bench"]


@pytest.fixture(scope="module")
def generator(tmp_path_factory: pytest.TempPathFactory) -> t2i.T2IGenerator:
    pipe = tiny_sd_pipeline(tmp_path_factory.mktemp("tiny-sd"))
    return t2i.build("sd15", pipeline=pipe, steps=2, size=16)


def _conditions(seeding: str = "per-sample") -> list[Condition]:
    return [
        Condition(
            seed=1000 + i,
            prompt=p,
            extra={"prompt_index": i // 2, "image_index": i % 2, "seeding": seeding},
        )
        for i, p in enumerate(PROMPTS)
    ]


def test_every_card_is_a_generator_with_settings() -> None:
    for model_id in t2i.VARIANTS:
        c = catalog.models.factory(model_id) and t2i.card(model_id)
        assert c.kind == "generator" and c.extra["steps"] > 0 and c.resolution
        assert c.weights[0].hub_id == t2i.VARIANTS[model_id].hub_id
    assert "sd21" not in catalog.models


def test_images_do_not_depend_on_batch_size(generator: t2i.T2IGenerator) -> None:
    assert isinstance(generator, Generator)
    conds = _conditions()
    together = generator.generate(conds)
    alone = torch.cat([generator.generate([c]) for c in conds])
    assert together.shape == (4, 3, 16, 16)
    assert float(together.min()) >= 0 and float(together.max()) <= 1
    # identical 8-bit images (what is saved and scored); float kernels may differ in the last ulp
    q = lambda x: x.mul(255).round().to(torch.uint8)  # noqa: E731
    assert torch.equal(q(together), q(alone))
    assert not torch.equal(q(together[0]), q(together[1]))  # different seeds, different images


def test_seed_changes_image(generator: t2i.T2IGenerator) -> None:
    a = generator.generate([Condition(seed=1, prompt=PROMPTS[0])])
    b = generator.generate([Condition(seed=2, prompt=PROMPTS[0])])
    assert not torch.allclose(a, b)


def test_official_seeding_replays_the_global_rng(generator: t2i.T2IGenerator) -> None:
    # the condition's seed is the run's --seed (the same for every image); tested against
    # GenEval's own loop end to end in test_official_seeding.py
    conds = [replace(c, seed=42) for c in _conditions("official")]
    in_order = torch.cat([generator.generate([c]) for c in conds])
    # the script: seed 42 before each prompt, the RNG advancing over its images
    torch.manual_seed(42)
    expected0 = generator._call([PROMPTS[0]], None)
    expected1 = generator._call([PROMPTS[1]], None)
    torch.testing.assert_close(in_order[0:1], expected0)
    torch.testing.assert_close(in_order[1:2], expected1)
    # a resumed run starting at image 1 of prompt 0 replays the draw it skipped
    generator._official_state = None
    torch.testing.assert_close(generator.generate([conds[1]]), expected1)
    assert generator.generation_info(conds[1])["gen_seed"] == 42


def test_generation_info_counts_prompt_tokens(generator: t2i.T2IGenerator) -> None:
    long = " ".join(["word"] * 120)
    info = generator.generation_info(Condition(seed=3, prompt=long))
    assert info["prompt_tokens"] > 77 and info["prompt_tokens_seen"] == 77
    assert info["gen_steps"] == 2 and info["gen_width"] == 16 and info["gen_seed"] == 3


def test_geneval_preset_only_for_its_family(tmp_path: Path) -> None:
    pipe = tiny_sd_pipeline(tmp_path)
    g = t2i.build("sd15", pipeline=pipe, preset="geneval")
    assert (g.steps, g.guidance) == (50, 9.0) and g.card.extra["preset"] == "geneval"
    with pytest.raises(ValueError, match="sd15"):
        t2i.build("flux1-schnell", pipeline=pipe, preset="geneval")


@pytest.mark.parametrize("model_id", sorted(t2i.VARIANTS))
def test_missing_pipeline_is_one_message(model_id: str, empty_store: Path) -> None:  # noqa: ARG001
    with pytest.raises(MissingAssetError) as err:
        t2i.build(model_id)
    text = str(err.value)
    v = t2i.VARIANTS[model_id]
    assert f"{len(v.files)} of {len(v.files)} files of {v.hub_id}" in text
    for name in v.files:  # every component's weights and configs
        assert f"\n  {name}\n" in text
    assert f"{empty_store / 'weights' / model_id}/<file>" in text  # where each was sought
    assert f"evalkit fetch --model {model_id} --store <store>" in text
    assert ("gated" in text) == v.gated
