"""The VLM judge decodes as the official lmdeploy pipeline did, on every backend, whatever the
checkpoint's generation_config.json asks for, and its transformers backend hands the model the
pixels lmdeploy's preprocessing makes; the runtime and its version are in the run id.

The reference is tests/fixtures/detailmaster_lmdeploy.json, recorded from the lmdeploy 0.8.0
package (with transformers 4.51.3 and qwen-vl-utils 0.0.11 beside it;
scripts/official_fixtures/detailmaster.py): its GenerationConfig(), the configuration its
AsyncEngine derives for two random checkpoints (one whose generation_config.json asks for
sampling, repetition_penalty 1.05 and more) and its Qwen2.5-VL preprocessing of real photos.
"""

from __future__ import annotations

import hashlib
import json
import sys
import types
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from evalkit.judges import vlm
from tests.detailmaster.helpers import preprocessing_photos
from tests.support import REPO

pytest.importorskip("transformers")

LMDEPLOY = json.loads((REPO / "tests" / "fixtures" / "detailmaster_lmdeploy.json").read_text())
IMAGE = Image.fromarray(np.random.default_rng(1).integers(0, 255, (40, 60, 3), dtype=np.uint8))


@pytest.fixture(scope="module")
def checkpoints(tmp_path_factory) -> dict[str, Path]:
    """The two checkpoints the lmdeploy fixture was recorded on (same seed, same files)."""
    from evalkit.judges.qwen_random import save_random_checkpoint

    root = tmp_path_factory.mktemp("qwen")
    out = {}
    for name, case in LMDEPLOY["checkpoints"].items():
        gen = dict(case["generation_config_json"])
        gen.pop("eos_token_id"), gen.pop("pad_token_id")
        words = LMDEPLOY["checkpoint_words"]
        out[name] = save_random_checkpoint(root / f"qwen2.5-vl-tiny-{name}", gen, words=words)
        written = json.loads((out[name] / "generation_config.json").read_text())
        assert written == case["generation_config_json"]
    return out


class _Captured(Exception):
    pass


def _effective(model, call) -> dict:
    """The GenerationConfig that ``generate`` really runs with (captured, then stopped)."""
    seen = {}
    original = model._prepare_generation_config

    def spy(*args, **kwargs):
        config, rest = original(*args, **kwargs)
        seen["config"] = config.to_dict()
        raise _Captured

    model._prepare_generation_config = spy
    try:
        call()
    except _Captured:
        pass
    finally:
        model._prepare_generation_config = original
    config = seen["config"]
    config.pop("transformers_version", None)
    return config


def test_card_decoding_is_lmdeploys_generation_config() -> None:
    """Every value lmdeploy's GenerationConfig() sets is in the card, with that value."""
    set_by_lmdeploy = {k: v for k, v in LMDEPLOY["defaults"].items() if v is not None}
    assert vlm.decoding() == set_by_lmdeploy
    assert LMDEPLOY["versions"]["lmdeploy"] == "0.8.0"
    for case in LMDEPLOY["checkpoints"].values():
        assert case["chat_template"] == "qwen2d5-vl"
        assert case["template_stop_words"] == vlm.card_entry()["stop_words"]
    assert all(LMDEPLOY["load_image_equals_convert_rgb"].values())


def test_lmdeploy_greedy_ignores_the_checkpoint_except_stop_tokens() -> None:
    """What the official runtime ran: the same configuration for both checkpoints."""
    plain, sampling = (LMDEPLOY["checkpoints"][k]["effective"] for k in ("plain", "sampling"))
    assert plain == sampling
    assert plain["do_sample"] is False and plain["top_k"] == 1
    assert plain["repetition_penalty"] == 1.0 and plain["max_new_tokens"] == 512


def test_transformers_decodes_the_same_whatever_the_checkpoint_says(checkpoints) -> None:
    from transformers import Qwen2_5_VLForConditionalGeneration

    configs, answers = {}, {}
    for name, folder in checkpoints.items():
        judge = vlm.QwenVL.from_folder(folder, backend="transformers")
        configs[name] = _effective(judge.model, lambda j=judge: j.ask(IMAGE, "is it a dog"))
        tokens = judge.processor.tokenizer.convert_ids_to_tokens(configs[name]["eos_token_id"])
        official = LMDEPLOY["checkpoints"][name]["effective"]
        assert sorted(tokens) == official["stop_token_ids"]  # lmdeploy's stop set
        assert configs[name]["do_sample"] is False and configs[name]["num_beams"] == 1  # argmax
        assert configs[name]["repetition_penalty"] == official["repetition_penalty"] == 1.0
        assert configs[name]["max_new_tokens"] == official["max_new_tokens"] == 512
        assert configs[name]["min_new_tokens"] in (None, 0) and official["min_new_tokens"] is None
        assert configs[name]["no_repeat_ngram_size"] in (None, 0)
        short = vlm.QwenVL.from_folder(folder, backend="transformers", max_new_tokens=6)
        answers[name] = short.ask_batch([(IMAGE, "is it a dog"), (IMAGE.crop((0, 0, 30, 20)), "x")])
    assert configs["plain"] == configs["sampling"]
    assert answers["plain"] == answers["sampling"] and any(answers["plain"])

    # The control: transformers' own generate(do_sample=False) takes the checkpoint's penalties.
    model = Qwen2_5_VLForConditionalGeneration.from_pretrained(checkpoints["sampling"])
    judge = vlm.QwenVL.from_folder(checkpoints["plain"], backend="transformers")
    inputs = judge.processor(
        text=[judge.processor.apply_chat_template(vlm.chat("q"), add_generation_prompt=True)],
        images=[IMAGE],
        return_tensors="pt",
    )
    naive = _effective(model, lambda: model.generate(**inputs, do_sample=False))
    assert naive["repetition_penalty"] == 1.05 and naive["no_repeat_ngram_size"] == 3


def test_lmdeploy_backend_is_handed_every_default(monkeypatch) -> None:
    handed = []

    class GenerationConfig:
        def __init__(self, **kwargs):
            handed.append(kwargs)

    class Pipeline:
        def __call__(self, prompts, gen_config=None):
            return [types.SimpleNamespace(text="yes") for _ in prompts]

    monkeypatch.setitem(
        sys.modules, "lmdeploy", types.SimpleNamespace(GenerationConfig=GenerationConfig)
    )
    judge = vlm.QwenVL(Pipeline(), None, backend="lmdeploy")
    assert judge.ask(IMAGE, "is it a dog") == "yes"
    assert handed == [{k: v for k, v in LMDEPLOY["defaults"].items() if v is not None}]


def test_vllm_backend_is_greedy_with_lmdeploys_stop_set(monkeypatch, checkpoints) -> None:
    from transformers import AutoProcessor

    handed = []

    class LLM:
        def generate(self, requests, params):
            out = types.SimpleNamespace(text="no")
            return [types.SimpleNamespace(outputs=[out]) for _ in requests]

    def sampling_params(**kwargs):
        handed.append(kwargs)

    monkeypatch.setitem(sys.modules, "vllm", types.SimpleNamespace(SamplingParams=sampling_params))
    folder = checkpoints["sampling"]
    processor = AutoProcessor.from_pretrained(folder)
    judge = vlm.QwenVL(LLM(), processor, backend="vllm", eos=vlm.checkpoint_eos(folder))
    assert judge.ask(IMAGE, "is it a dog") == "no"
    (params,) = handed
    official = LMDEPLOY["checkpoints"]["sampling"]["effective"]
    stops = processor.tokenizer.convert_ids_to_tokens(params.pop("stop_token_ids"))
    assert sorted(stops) == official["stop_token_ids"]
    assert params["temperature"] == 0.0  # vLLM's greedy
    assert params["repetition_penalty"] == 1.0 and params["max_tokens"] == 512
    assert params["presence_penalty"] == params["frequency_penalty"] == 0.0
    assert params["skip_special_tokens"] is official["skip_special_tokens"] is True


def test_runtime_and_version_are_in_the_judge_id_and_the_run_id(monkeypatch) -> None:
    """transformers, lmdeploy 0.8.0 and lmdeploy 0.9.0 answers never share a run (or merge); the
    detector's ultralytics version is named too."""
    from evalkit.benchmarks.detailmaster.benchmark import DetailMaster
    from evalkit.cache import content_hash
    from evalkit.records import run_identity
    from evalkit.types import ModelCard

    card = ModelCard(id="toy", family="toy", kind="generator")
    installed = {"lmdeploy": "0.8.0", "transformers": "5.0.0", "ultralytics": "8.3.99"}
    monkeypatch.setattr(vlm, "_installed", lambda name: name in installed)
    monkeypatch.setattr(vlm, "package_version", lambda name: installed.get(name, "not-installed"))

    def run_id(backend: str) -> tuple[str, str]:
        bench = DetailMaster("detailmaster-mini", vlm_backend=backend)
        judges = bench.describe_judges()
        return judges[vlm.HUB_ID], content_hash(
            run_identity(bench.spec, card, {}, "fp32", 0, judges=judges)
        )

    tf_judge, tf_run = run_id("transformers")
    lm_judge, lm_run = run_id("lmdeploy")
    assert tf_judge.endswith("/transformers==5.0.0") and lm_judge.endswith("/lmdeploy==0.8.0")
    assert run_id("auto") == (lm_judge, lm_run)  # auto prefers lmdeploy when installed
    installed["lmdeploy"] = "0.9.0"
    assert len({tf_run, lm_run, run_id("lmdeploy")[1]}) == 3
    bench = DetailMaster("detailmaster-mini")
    assert bench.describe_judges()["yoloe-11l-seg"].endswith("/ultralytics==8.3.99")


@pytest.fixture(scope="module")
def plain_judge(checkpoints):
    return vlm.QwenVL.from_folder(checkpoints["plain"], backend="transformers")


class _ProcessorSpy:
    """Stands in for the judge's processor: remembers the images, stops the call."""

    def __init__(self, inner) -> None:
        self.inner, self.tokenizer, self.images = inner, inner.tokenizer, []

    def apply_chat_template(self, *args, **kwargs):
        return self.inner.apply_chat_template(*args, **kwargs)

    def __call__(self, *, images, **kwargs):
        self.images += images
        raise _Captured


def _handed_to_processor(judge, photo):
    """The image the transformers backend hands its processor for ``photo``."""
    inner, judge.processor = judge.processor, _ProcessorSpy(judge.processor)
    try:
        judge.ask(photo, "is it a dog")
    except _Captured:
        pass
    finally:
        spy, judge.processor = judge.processor, inner
    (image,) = spy.images
    return image


@pytest.mark.parametrize("name", list(LMDEPLOY["preprocessing"]))
def test_transformers_backend_sees_lmdeploys_pixels(checkpoints, plain_judge, name: str) -> None:
    """The image handed to the image processor is lmdeploy's, byte for byte (qwen-vl-utils' PIL
    resize to the frame); pixel_values then agree to float32 rounding of the normalisation
    (transformers 5 here, 4.51.3 beside lmdeploy). Resizing inside the transformers 5 processor
    instead (the former path) is off by a grey level (0.015) at some pixels."""
    from transformers import AutoProcessor

    official = LMDEPLOY["preprocessing"][name]
    photo = preprocessing_photos()[name]
    assert [list(photo.size), photo.mode] == [official["image_size"], official["mode"]]
    handed = _handed_to_processor(plain_judge, photo)
    seen = official["processor_input"]
    assert [handed.mode, list(handed.size)] == [seen["mode"], seen["size"]]
    assert hashlib.sha256(handed.tobytes()).hexdigest() == seen["sha256"]
    processor = AutoProcessor.from_pretrained(checkpoints["plain"]).image_processor
    out = processor(images=[handed], return_tensors="pt")
    _, rows, cols = (int(v) for v in out["image_grid_thw"][0])
    assert [cols * 14, rows * 14] == official["frame"] == list(vlm.frame_size(*photo.size))
    pixels = out["pixel_values"].numpy().astype(np.float64)
    assert list(pixels.shape) == official["pixel_values_shape"]
    assert np.abs(pixels.ravel()[::997] - official["pixel_sample"]).max() < 2e-6
    assert abs(pixels.sum() - official["pixel_sum"]) < 1e-6 * pixels.size
    assert abs((pixels**2).sum() - official["pixel_sumsq"]) < 1e-6 * pixels.size
