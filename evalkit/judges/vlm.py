"""Qwen2.5-VL-7B-Instruct as a judge: one image + one question -> the answer text, batched.

DetailMaster's official judge (run there through LMDeploy with its default generation config:
greedy, at most 512 new tokens). Backends, chosen by ``backend=``: ``lmdeploy`` or ``vllm`` when
installed (``auto`` prefers them, in that order), else ``transformers``; the backend that ran is
part of :meth:`describe` and of the weights id in every row. All three get the same chat
(one user turn: the image, then the question) and greedy decoding.

Weights: ``<store>/weights/qwen2.5-vl-7b-instruct/`` (every file listed in ``FILES``), else the
Hub. The revision could not be established here (no Hub access): the files are unpinned, and the
weights id says so. safetensors only; no remote code.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from evalkit.judges import hubdir

HUB_ID = "Qwen/Qwen2.5-VL-7B-Instruct"
REVISION: str | None = None  # not established here (no Hub access); pin when known
STORE_PATH = "weights/qwen2.5-vl-7b-instruct"
FILES = (
    "config.json",
    "generation_config.json",
    "preprocessor_config.json",
    "chat_template.json",
    "tokenizer.json",
    "tokenizer_config.json",
    "vocab.json",
    "merges.txt",
    "model.safetensors.index.json",
    *(f"model-0000{i}-of-00005.safetensors" for i in range(1, 6)),
)
MAX_NEW_TOKENS = 512  # lmdeploy GenerationConfig default, as the official pipeline ran
BACKENDS = ("auto", "transformers", "lmdeploy", "vllm")


def missing() -> str:
    """'' when the weights can be had, else one message listing every missing file."""
    return hubdir.check("VLM judge weights", HUB_ID, REVISION, STORE_PATH, FILES)


def weights_id(judge: QwenVL | None = None) -> str:
    backend = f"/{judge.backend}" if judge is not None else ""
    return f"{HUB_ID}@{REVISION or 'unpinned'}{backend}"


def chat(prompt: str) -> list[dict[str, Any]]:
    """The one user turn every backend gets: the image first, then the question."""
    return [{"role": "user", "content": [{"type": "image"}, {"type": "text", "text": prompt}]}]


def _installed(module: str) -> bool:
    import importlib.util

    return importlib.util.find_spec(module) is not None


def pick_backend(requested: str = "auto") -> str:
    if requested not in BACKENDS:
        raise ValueError(f"vlm backend must be one of {BACKENDS}, not {requested!r}")
    if requested != "auto":
        if requested != "transformers" and not _installed(requested):
            raise ValueError(f"vlm backend {requested!r} is not installed: pip install {requested}")
        return requested
    for name in ("lmdeploy", "vllm"):
        if _installed(name):
            return name
    return "transformers"


class QwenVL:
    """Greedy answers of a Qwen2.5-VL model; ``ask_batch`` pads left and decodes new tokens."""

    name = HUB_ID

    def __init__(
        self,
        model: Any,
        processor: Any,
        *,
        backend: str = "transformers",
        device: str = "cpu",
        batch_size: int | None = None,
        max_new_tokens: int = MAX_NEW_TOKENS,
    ) -> None:
        self.model, self.processor, self.backend = model, processor, backend
        self.device, self.max_new_tokens = device, int(max_new_tokens)
        self.batch_size = int(batch_size or (16 if device.startswith("cuda") else 2))

    @classmethod
    def from_store(
        cls, device: str = "cpu", backend: str = "auto", batch_size: int | None = None
    ) -> QwenVL:
        folder = hubdir.local_dir("VLM judge weights", HUB_ID, REVISION, STORE_PATH, FILES)
        backend = pick_backend(backend)
        if backend == "lmdeploy":
            return cls(*_lmdeploy(folder), backend=backend, device=device, batch_size=batch_size)
        if backend == "vllm":
            return cls(*_vllm(folder), backend=backend, device=device, batch_size=batch_size)
        import torch
        from transformers import AutoProcessor, Qwen2_5_VLForConditionalGeneration

        dtype = torch.bfloat16 if device.startswith("cuda") else torch.float32
        model = (
            Qwen2_5_VLForConditionalGeneration.from_pretrained(
                folder, dtype=dtype, use_safetensors=True, trust_remote_code=False
            )
            .to(device)
            .eval()
        )
        processor = AutoProcessor.from_pretrained(folder, trust_remote_code=False)
        return cls(model, processor, backend=backend, device=device, batch_size=batch_size)

    def ask_batch(self, pairs: Sequence[tuple[Any, str]]) -> list[str]:
        """One answer per (PIL image, question); an empty image (0-pixel crop) answers ''."""
        out = [""] * len(pairs)
        live = [i for i, (img, _) in enumerate(pairs) if min(img.size) > 0]
        for start in range(0, len(live), self.batch_size):
            idx = live[start : start + self.batch_size]
            images = [pairs[i][0].convert("RGB") for i in idx]
            answers = self._generate(images, [pairs[i][1] for i in idx])
            for i, a in zip(idx, answers):
                out[i] = a
        return out

    def ask(self, image: Any, prompt: str) -> str:
        return self.ask_batch([(image, prompt)])[0]

    def _generate(self, images: list[Any], prompts: list[str]) -> list[str]:
        if self.backend == "lmdeploy":
            from lmdeploy import GenerationConfig

            gen = GenerationConfig(do_sample=False, max_new_tokens=self.max_new_tokens)
            return [r.text for r in self.model(list(zip(prompts, images)), gen_config=gen)]
        texts = [
            self.processor.apply_chat_template(chat(p), add_generation_prompt=True, tokenize=False)
            for p in prompts
        ]
        if self.backend == "vllm":
            from vllm import SamplingParams

            params = SamplingParams(temperature=0.0, max_tokens=self.max_new_tokens)
            reqs = [
                {"prompt": t, "multi_modal_data": {"image": im}} for t, im in zip(texts, images)
            ]
            return [o.outputs[0].text for o in self.model.generate(reqs, params)]
        import torch

        self.processor.tokenizer.padding_side = "left"
        inputs = self.processor(text=texts, images=images, padding=True, return_tensors="pt")
        inputs = inputs.to(self.device)
        with torch.inference_mode():
            ids = self.model.generate(**inputs, do_sample=False, max_new_tokens=self.max_new_tokens)
        new = ids[:, inputs["input_ids"].shape[1] :]
        return [t.strip() for t in self.processor.batch_decode(new, skip_special_tokens=True)]

    def describe(self) -> str:
        return f"{HUB_ID} ({self.backend}, greedy, max {self.max_new_tokens} new tokens)"


def _lmdeploy(folder: Path) -> tuple[Any, Any]:
    from lmdeploy import pipeline

    return pipeline(str(folder)), None  # the official mini script's default engine config


def _vllm(folder: Path) -> tuple[Any, Any]:
    from transformers import AutoProcessor
    from vllm import LLM

    llm = LLM(model=str(folder), limit_mm_per_prompt={"image": 1}, trust_remote_code=False)
    return llm, AutoProcessor.from_pretrained(folder, trust_remote_code=False)


# --- random-weight builds of the real architecture (plumbing tests and perf only) ---------------

SPECIALS = (
    "<|endoftext|>",
    "<|im_start|>",
    "<|im_end|>",
    "<|vision_start|>",
    "<|vision_end|>",
    "<|image_pad|>",
    "<|video_pad|>",
)
CHAT_TEMPLATE = (
    "{% for m in messages %}<|im_start|>{{ m['role'] }}\n{% for c in m['content'] %}"
    "{% if c['type'] == 'image' %}<|vision_start|><|image_pad|><|vision_end|>"
    "{% else %}{{ c['text'] }}{% endif %}{% endfor %}<|im_end|>\n{% endfor %}"
    "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)
# Qwen2.5-VL-7B-Instruct's architecture (its config.json, as recalled; a store copy wins).
ARCH_7B = {
    "text": dict(
        hidden_size=3584,
        intermediate_size=18944,
        num_hidden_layers=28,
        num_attention_heads=28,
        num_key_value_heads=4,
        vocab_size=152064,
        rope_theta=1000000.0,
        max_position_embeddings=128000,
        rope_scaling={"type": "mrope", "mrope_section": [16, 24, 24]},
    ),
    "vision": dict(
        depth=32,
        hidden_size=1280,
        intermediate_size=3420,
        num_heads=16,
        out_hidden_size=3584,
        fullatt_block_indexes=[7, 15, 23, 31],
        window_size=112,
    ),
}
ARCH_TINY = {
    "text": dict(
        hidden_size=64,
        intermediate_size=128,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=2,
        vocab_size=512,
        max_position_embeddings=4096,
        rope_scaling={"type": "mrope", "mrope_section": [2, 3, 3]},
    ),
    "vision": dict(
        depth=2,
        hidden_size=32,
        intermediate_size=64,
        num_heads=2,
        out_hidden_size=64,
        fullatt_block_indexes=[1],
        window_size=112,
    ),
}


def offline_processor(words: Sequence[str] = ()) -> Any:
    """A real Qwen2_5_VLProcessor (real image processor) with a small in-memory word-level
    tokenizer: Qwen's tokenizer files cannot be had offline, so token ids differ from Qwen's."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers
    from transformers import (
        PreTrainedTokenizerFast,
        Qwen2_5_VLProcessor,
        Qwen2VLImageProcessor,
        Qwen2VLVideoProcessor,
    )

    vocab = {t: i for i, t in enumerate(SPECIALS)}
    for w in [*"abcdefghijklmnopqrstuvwxyz0123456789", *words, "\n", "user", "assistant"]:
        vocab.setdefault(w, len(vocab))
    tok = Tokenizer(models.WordLevel(vocab, unk_token="<|endoftext|>"))
    tok.pre_tokenizer = pre_tokenizers.Sequence([pre_tokenizers.Whitespace()])
    tok.decoder = decoders.WordPiece()
    fast = PreTrainedTokenizerFast(
        tokenizer_object=tok,
        eos_token="<|im_end|>",
        pad_token="<|endoftext|>",
        additional_special_tokens=list(SPECIALS[1:]),
    )
    fast.padding_side = "left"
    return Qwen2_5_VLProcessor(
        image_processor=Qwen2VLImageProcessor(),
        tokenizer=fast,
        video_processor=Qwen2VLVideoProcessor(),
        chat_template=CHAT_TEMPLATE,
    )


def random_init(
    arch: str = "tiny",
    device: str = "cpu",
    dtype: Any = None,
    seed: int = 0,
    max_new_tokens: int = 8,
    batch_size: int | None = None,
    words: Sequence[str] = (),
) -> QwenVL:
    """A random-weight Qwen2.5-VL of the real architecture (``tiny`` or ``7b``): for plumbing
    tests and speed measurements, never for numbers."""
    import torch
    from transformers import Qwen2_5_VLConfig, Qwen2_5_VLForConditionalGeneration

    processor = offline_processor(words)
    ids = processor.tokenizer.convert_tokens_to_ids
    spec = ARCH_7B if arch == "7b" else ARCH_TINY
    text = dict(
        spec["text"],
        bos_token_id=ids("<|endoftext|>"),
        eos_token_id=ids("<|im_end|>"),
        pad_token_id=ids("<|endoftext|>"),
    )
    text["vocab_size"] = (
        max(text["vocab_size"], len(processor.tokenizer))
        if arch == "7b"
        else len(processor.tokenizer)
    )
    config = Qwen2_5_VLConfig(
        text_config=text,
        vision_config=dict(spec["vision"]),
        image_token_id=ids("<|image_pad|>"),
        video_token_id=ids("<|video_pad|>"),
        vision_start_token_id=ids("<|vision_start|>"),
        vision_end_token_id=ids("<|vision_end|>"),
    )
    torch.manual_seed(seed)
    dtype = dtype or torch.float32
    with torch.device(device):
        model = Qwen2_5_VLForConditionalGeneration(config).to(dtype).eval()
    model.generation_config.eos_token_id = ids("<|im_end|>")
    model.generation_config.pad_token_id = ids("<|endoftext|>")
    return QwenVL(
        model,
        processor,
        backend="transformers-random",
        device=device,
        batch_size=batch_size,
        max_new_tokens=max_new_tokens,
    )
