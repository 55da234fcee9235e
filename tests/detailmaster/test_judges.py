"""The official judges' wrappers on tiny random-weight models of the real architectures.

Plumbing only (random weights say nothing): Qwen2.5-VL's tokenizer files cannot be had offline,
so its processor is the real Qwen2_5_VLProcessor (real image processor, the wrapper's chat) with
an in-memory word-level tokenizer; BLIP's processor is the real BlipProcessor with a tiny vocab
file. YOLOE needs ultralytics (optional, AGPL) and its weights: only the missing message is
tested here.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from evalkit.benchmarks.detailmaster import evaluate
from evalkit.benchmarks.detailmaster.protocol import attribute_question, bbox_question
from evalkit.benchmarks.detailmaster.scripted import ScriptedJudge
from tests.detailmaster.helpers import dog_record

pytest.importorskip("transformers")


@pytest.fixture(scope="module")
def tiny_vlm():
    from evalkit.judges.qwen_random import random_init

    words = [
        "Please",
        "analyze",
        "the",
        "main",
        "character",
        "in",
        "this",
        "image",
        "specifically",
        "dog",
        "yes",
        "no",
    ]
    return random_init("tiny", max_new_tokens=5, batch_size=3, words=words)


LIGHT = [{"scene_attribute": "light", "content": "sunny"}]


def _images(n: int) -> list[Image.Image]:
    rng = np.random.default_rng(0)
    return [
        Image.fromarray(rng.integers(0, 255, (36 + 8 * i, 56, 3), dtype=np.uint8)) for i in range(n)
    ]


def test_qwen_batched_equals_one_at_a_time(tiny_vlm) -> None:
    pairs = [(im, attribute_question("dog", f"attr {i}")) for i, im in enumerate(_images(4))]
    pairs.append((Image.new("RGB", (0, 7)), "an empty crop"))
    batched = tiny_vlm.ask_batch(pairs)
    single = [tiny_vlm.ask(im, q) for im, q in pairs]
    assert batched == single
    assert batched[-1] == ""  # a 0-pixel crop is never sent to the model
    assert any(batched[:-1])  # the model did answer (random words)
    assert "transformers" in tiny_vlm.describe() and tiny_vlm.backend == "transformers-random"


def test_qwen_chat_puts_the_image_before_the_question(tiny_vlm) -> None:
    text = tiny_vlm.processor.apply_chat_template(
        __import__("evalkit.judges.vlm", fromlist=["chat"]).chat("is it a dog"),
        add_generation_prompt=True,
        tokenize=False,
    )
    assert text.index("<|image_pad|>") < text.index("is it a dog") < text.index("assistant")


class _VlmJudge(ScriptedJudge):
    """Detection from the table; every question to the tiny Qwen (one by one, or batched)."""

    def __init__(self, vlm) -> None:
        super().__init__()
        self.vlm = vlm
        self.batches: list[int] = []

    def ask(self, image, prompt):
        return self.vlm.ask(image, prompt)

    def ask_batch(self, pairs):
        self.batches.append(len(pairs))
        return self.vlm.ask_batch(pairs)


def _forced(vlm, word: str):
    """The tiny model made to answer ``word`` then <|im_end|> (its lm_head logits overwritten):
    a known answer through the whole wrapper (chat, batching, greedy, stop, decode)."""
    import torch

    tok = vlm.processor.tokenizer
    target, stop = tok.convert_tokens_to_ids(word), tok.convert_tokens_to_ids("<|im_end|>")
    step = {"n": 0}

    def hook(module, args, logits):
        forced = torch.full_like(logits, -1e9)
        forced[..., target if step["n"] == 0 else stop] = 0.0
        step["n"] += 1
        return forced

    generate = vlm._generate

    def fresh(*args, **kwargs):
        step["n"] = 0
        return generate(*args, **kwargs)

    vlm._generate = fresh
    return vlm.model.lm_head.register_forward_hook(hook)


@pytest.mark.parametrize(("word", "light"), [("yes", 1.0), ("no", 0.0)])
def test_protocol_drives_the_vlm(word: str, light: float) -> None:
    from evalkit.benchmarks.detailmaster.engine import answer_many
    from evalkit.benchmarks.detailmaster.protocol import Request
    from evalkit.judges.qwen_random import random_init

    vlm = random_init("tiny", max_new_tokens=5, batch_size=3, words=["yes", "no"])
    handle = _forced(vlm, word)
    try:
        judge = _VlmJudge(vlm)
        judge.table[("detect", "dog")] = [2.0, 3.0, 30.0, 20.0]
        images = {"docci_1": _images(1)}
        acc = evaluate(
            [dog_record(image_id="1", scene_attributes=LIGHT)], images, judge
        )  # single-item path: ask() -> the model
        # the box question answers "yes"/"no": unparseable, so the dog is absent (official)
        assert acc["scene_attrbutes_light"] == light
        assert acc["object_presence"] == 0 and acc["character_attributes_animal"] == 0
        reqs = [
            Request("ask", "rgb", bbox_question("dog"), images["docci_1"][0]),
            Request("ask", "rgb", "is it sunny", images["docci_1"][0].crop((0, 0, 9, 9))),
        ]
        assert answer_many(judge, reqs) == [word, word]  # exactly the word: stopped at im_end
        assert judge.batches == [2]
    finally:
        handle.remove()


@pytest.fixture(scope="module")
def tiny_blip(tmp_path_factory):
    import torch
    from transformers import (
        BertTokenizer,
        BlipConfig,
        BlipForImageTextRetrieval,
        BlipImageProcessor,
        BlipProcessor,
    )

    from evalkit.judges.blip import BlipITM

    vocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "a", "dog", "cup", "red", "the"]
    path: Path = tmp_path_factory.mktemp("blip") / "vocab.txt"
    path.write_text("\n".join(vocab) + "\n")
    tokenizer = BertTokenizer(str(path))
    processor = BlipProcessor(BlipImageProcessor(size={"height": 32, "width": 32}), tokenizer)
    config = BlipConfig(
        text_config=dict(
            vocab_size=len(vocab),
            hidden_size=32,
            num_hidden_layers=2,
            num_attention_heads=2,
            intermediate_size=64,
            encoder_hidden_size=32,
        ),
        vision_config=dict(
            hidden_size=32,
            num_hidden_layers=2,
            num_attention_heads=2,
            intermediate_size=64,
            image_size=32,
            patch_size=8,
        ),
        projection_dim=16,
        image_text_hidden_size=16,
    )
    torch.manual_seed(0)
    return BlipITM(BlipForImageTextRetrieval(config).eval(), processor)


def test_blip_cosine_batched_equals_single(tiny_blip) -> None:
    imgs = _images(3)
    pairs = [(imgs[0], "a dog"), (imgs[1], "the red cup"), (imgs[2], "a dog")]
    batched = tiny_blip.match_batch(pairs)
    single = [tiny_blip.match(im, t) for im, t in pairs]
    assert np.allclose(batched, single, atol=1e-5)


@pytest.mark.parametrize(
    ("text_direction", "cosine"),
    [((1, 0), 1.0), ((-3, 0), -1.0), ((0, 2), 0.0), ((1, 1), 2**-0.5)],
)
def test_blip_score_is_the_cosine_of_the_projections(tiny_blip, text_direction, cosine) -> None:
    """With the projections' weights zeroed, the image feature is vision_proj's bias and the
    text feature text_proj's: the score must be their cosine (not the ITM head's logits, not an
    unnormalised dot product)."""
    import copy

    import torch

    model = copy.deepcopy(tiny_blip.model)
    with torch.no_grad():
        for proj, direction in ((model.vision_proj, (2, 0)), (model.text_proj, text_direction)):
            proj.weight.zero_()
            proj.bias.zero_()
            proj.bias[:2] = torch.tensor(direction, dtype=proj.bias.dtype)
    from evalkit.judges.blip import BlipITM

    itm = BlipITM(model, tiny_blip.processor)
    imgs = _images(2)
    scores = itm.match_batch([(imgs[0], "a dog"), (imgs[1], "the red cup")])
    assert scores == pytest.approx([cosine, cosine], abs=1e-6)


def test_missing_weights_messages_list_every_file(empty_store) -> None:
    from evalkit.judges import blip, vlm, yoloe

    text = vlm.missing()
    assert all(f in text for f in vlm.FILES) and "evalkit fetch" in text
    assert all(f in blip.missing() for f in blip.FILES)
    ytext = yoloe.missing()
    assert "yoloe-11l-seg.pt" in ytext and "mobileclip_blt.ts" in ytext
