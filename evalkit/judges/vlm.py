"""Qwen2.5-VL-7B-Instruct as a judge: one image + one question -> the answer text, batched.

DetailMaster's official judge, run there through lmdeploy's ``pipeline`` with no generation
config: lmdeploy's default ``GenerationConfig`` (greedy; its engine then forces top_k=1,
temperature=1 and repetition_penalty=1 and takes only the stop tokens from the checkpoint: the
chat template's ``<|im_end|>``, the tokenizer's eos and ``generation_config.json``'s eos). Every
backend here gets those settings explicitly (the card's ``[judges.vlm.decoding]``, lmdeploy
0.8.0's defaults), never the checkpoint's sampling or penalties: Qwen2.5-VL-7B-Instruct's own
``generation_config.json`` asks for sampling and ``repetition_penalty`` 1.05, which
``transformers.generate`` would otherwise apply.

Backends, chosen by ``backend=``: ``lmdeploy`` or ``vllm`` when installed (``auto`` prefers them,
in that order), else ``transformers``. The backend that ran and its version are part of
:meth:`describe`, of :func:`weights_id` and so of every run id: answers of different runtimes
never share a run. All three get the same chat (one user turn: the image, then the question).

Weights: ``<store>/weights/qwen2.5-vl-7b-instruct/`` (every file listed in ``FILES``), else the
Hub. The revision could not be established here (no Hub access): the files are unpinned, and the
weights id says so. safetensors only; no remote code.
"""

from __future__ import annotations

import json
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
BACKENDS = ("auto", "transformers", "lmdeploy", "vllm")
CARD = "detailmaster"  # the card whose [judges.vlm] describes this judge


def card_entry() -> dict[str, Any]:
    from evalkit.cards import load_card

    return load_card(CARD)["judges"]["vlm"]


def decoding() -> dict[str, Any]:
    """lmdeploy's default ``GenerationConfig`` as the official pipeline ran it (card)."""
    return dict(card_entry()["decoding"])


def stop_token_ids(tokenizer: Any, checkpoint_eos: int | Sequence[int] | None) -> list[int]:
    """lmdeploy's stop set: the chat template's stop words, the tokenizer's eos and the
    checkpoint's ``generation_config.json`` eos (the only setting taken from the checkpoint)."""
    ids = {int(tokenizer.convert_tokens_to_ids(w)) for w in card_entry()["stop_words"]}
    if tokenizer.eos_token_id is not None:
        ids.add(int(tokenizer.eos_token_id))
    if isinstance(checkpoint_eos, int):
        ids.add(checkpoint_eos)
    elif checkpoint_eos is not None:
        ids.update(int(i) for i in checkpoint_eos)
    return sorted(ids)


def transformers_generation_config(stops: Sequence[int], pad_token_id: int | None) -> Any:
    """The decoding of :func:`decoding` as a transformers ``GenerationConfig``: greedy (argmax,
    as lmdeploy with do_sample=False), no penalty, lmdeploy's token limits and stop set; every
    other field at transformers' neutral defaults."""
    from transformers import GenerationConfig

    d = decoding()
    if d["do_sample"] or d["n"] != 1:
        raise ValueError("the official decoding is greedy with n=1; the card says otherwise")
    return GenerationConfig(
        do_sample=False,
        num_beams=1,
        num_return_sequences=1,
        max_new_tokens=int(d["max_new_tokens"]),
        repetition_penalty=1.0,  # lmdeploy forces 1.0 when greedy, whatever was asked
        eos_token_id=list(stops),
        pad_token_id=pad_token_id,
    )


def vllm_sampling_kwargs(stops: Sequence[int]) -> dict[str, Any]:
    """:func:`decoding` as vLLM ``SamplingParams`` keywords (temperature 0 is vLLM's greedy)."""
    d = decoding()
    return dict(
        n=1,
        temperature=0.0,
        top_p=1.0,
        top_k=-1,
        min_p=0.0,
        repetition_penalty=1.0,
        presence_penalty=0.0,
        frequency_penalty=0.0,
        max_tokens=int(d["max_new_tokens"]),
        min_tokens=0,
        stop_token_ids=list(stops),
        ignore_eos=bool(d["ignore_eos"]),
        skip_special_tokens=bool(d["skip_special_tokens"]),
        spaces_between_special_tokens=bool(d["spaces_between_special_tokens"]),
    )


def missing() -> str:
    """'' when the weights can be had, else one message listing every missing file."""
    return hubdir.check("VLM judge weights", HUB_ID, REVISION, STORE_PATH, FILES)


def package_version(package: str) -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(package)
    except PackageNotFoundError:
        return "not-installed"


def runtime(backend: str) -> str:
    """``<package>==<version>`` of the runtime behind ``backend`` (in every weights id)."""
    package = "transformers" if backend.startswith("transformers") else backend
    return f"{package}=={package_version(package)}"


def weights_id(backend: str) -> str:
    """The checkpoint, its revision and the runtime that answers (runs of different runtimes
    or versions never share a run id, so their shards never merge)."""
    return f"{HUB_ID}@{REVISION or 'unpinned'}/{runtime(backend)}"


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


def checkpoint_eos(folder: Path) -> int | list[int] | None:
    """``eos_token_id`` of a checkpoint's ``generation_config.json`` (None without one)."""
    path = Path(folder) / "generation_config.json"
    if not path.is_file():
        return None
    return json.loads(path.read_text(encoding="utf-8")).get("eos_token_id")


class QwenVL:
    """Greedy answers of a Qwen2.5-VL model; ``ask_batch`` pads left and decodes new tokens.

    ``model``: a transformers model (``backend`` transformers*), an lmdeploy pipeline or a vLLM
    ``LLM``. ``eos``: the checkpoint's ``generation_config.json`` eos (default: the loaded
    transformers model's). ``max_new_tokens`` other than the card's is for plumbing tests only.
    """

    name = HUB_ID

    def __init__(
        self,
        model: Any,
        processor: Any,
        *,
        backend: str = "transformers",
        device: str = "cpu",
        batch_size: int | None = None,
        max_new_tokens: int | None = None,
        eos: int | Sequence[int] | None = None,
    ) -> None:
        self.model, self.processor, self.backend = model, processor, backend
        self.device = device
        self.max_new_tokens = int(max_new_tokens or decoding()["max_new_tokens"])
        self.batch_size = int(batch_size or (16 if device.startswith("cuda") else 2))
        self.stops: list[int] = []
        self.generation_config: Any = None
        if backend.startswith("transformers"):
            eos = model.generation_config.eos_token_id if eos is None else eos
            self.stops = stop_token_ids(processor.tokenizer, eos)
            gen = transformers_generation_config(self.stops, processor.tokenizer.pad_token_id)
            gen.max_new_tokens = self.max_new_tokens
            self.generation_config = gen
            # Nothing of the checkpoint's generation_config.json may fill a field left unset.
            model.generation_config = gen
        elif backend == "vllm":
            self.stops = stop_token_ids(processor.tokenizer, eos)

    @classmethod
    def from_store(
        cls, device: str = "cpu", backend: str = "auto", batch_size: int | None = None
    ) -> QwenVL:
        folder = hubdir.local_dir("VLM judge weights", HUB_ID, REVISION, STORE_PATH, FILES)
        return cls.from_folder(folder, device=device, backend=backend, batch_size=batch_size)

    @classmethod
    def from_folder(
        cls,
        folder: Path,
        device: str = "cpu",
        backend: str = "auto",
        batch_size: int | None = None,
        max_new_tokens: int | None = None,
    ) -> QwenVL:
        """A Qwen2.5-VL checkpoint folder (the store's, or a random one in tests)."""
        backend = pick_backend(backend)
        opts: dict[str, Any] = dict(backend=backend, device=device, batch_size=batch_size)
        opts["max_new_tokens"] = max_new_tokens
        if backend == "lmdeploy":
            return cls(_lmdeploy(folder), None, **opts)
        from transformers import AutoProcessor

        processor = AutoProcessor.from_pretrained(folder, trust_remote_code=False)
        if backend == "vllm":
            return cls(_vllm(folder), processor, eos=checkpoint_eos(folder), **opts)
        import torch
        from transformers import Qwen2_5_VLForConditionalGeneration

        dtype = torch.bfloat16 if device.startswith("cuda") else torch.float32
        model = (
            Qwen2_5_VLForConditionalGeneration.from_pretrained(
                folder, dtype=dtype, use_safetensors=True, trust_remote_code=False
            )
            .to(device)
            .eval()
        )
        return cls(model, processor, eos=checkpoint_eos(folder), **opts)

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
        """Answer texts as the runtime returns them (lmdeploy does not strip them either)."""
        if self.backend == "lmdeploy":
            from lmdeploy import GenerationConfig

            gen = GenerationConfig(**{**decoding(), "max_new_tokens": self.max_new_tokens})
            return [r.text for r in self.model(list(zip(prompts, images)), gen_config=gen)]
        texts = [
            self.processor.apply_chat_template(chat(p), add_generation_prompt=True, tokenize=False)
            for p in prompts
        ]
        if self.backend == "vllm":
            from vllm import SamplingParams

            kwargs = vllm_sampling_kwargs(self.stops)
            params = SamplingParams(**{**kwargs, "max_tokens": self.max_new_tokens})
            reqs = [
                {"prompt": t, "multi_modal_data": {"image": im}} for t, im in zip(texts, images)
            ]
            return [o.outputs[0].text for o in self.model.generate(reqs, params)]
        import torch

        self.processor.tokenizer.padding_side = "left"
        images = [lmdeploy_resize(im) for im in images]
        inputs = self.processor(text=texts, images=images, padding=True, return_tensors="pt")
        inputs = inputs.to(self.device)
        with torch.inference_mode():
            ids = self.model.generate(**inputs, generation_config=self.generation_config)
        new = ids[:, inputs["input_ids"].shape[1] :]
        return list(self.processor.batch_decode(new, skip_special_tokens=True))

    def describe(self) -> str:
        return (
            f"{HUB_ID} ({runtime(self.backend)}, greedy as lmdeploy's default GenerationConfig, "
            f"max {self.max_new_tokens} new tokens)"
        )


def _lmdeploy(folder: Path) -> Any:
    from lmdeploy import pipeline

    return pipeline(str(folder))  # the official mini script's default engine config


def _vllm(folder: Path) -> Any:
    from vllm import LLM

    return LLM(model=str(folder), limit_mm_per_prompt={"image": 1}, trust_remote_code=False)


def frame_size(width: int, height: int) -> tuple[int, int]:
    """(width, height) of the image Qwen2.5-VL sees, and answers boxes in: ``smart_resize`` of
    qwen-vl-utils (what lmdeploy's Qwen2.5-VL preprocessing calls; the transformers processor
    resizes the same way), multiples of ``factor`` px within [min_pixels, max_pixels]."""
    import math

    f = card_entry()["frame"]
    factor, lo, hi = int(f["factor"]), int(f["min_pixels"]), int(f["max_pixels"])
    if max(width, height) / max(1, min(width, height)) > float(f["max_ratio"]):
        raise ValueError(f"aspect ratio of a {width}x{height} image exceeds {f['max_ratio']}")
    h_bar = max(factor, round(height / factor) * factor)
    w_bar = max(factor, round(width / factor) * factor)
    if h_bar * w_bar > hi:
        beta = math.sqrt(height * width / hi)
        h_bar = math.floor(height / beta / factor) * factor
        w_bar = math.floor(width / beta / factor) * factor
    elif h_bar * w_bar < lo:
        beta = math.sqrt(lo / (height * width))
        h_bar = math.ceil(height * beta / factor) * factor
        w_bar = math.ceil(width * beta / factor) * factor
    return w_bar, h_bar


def lmdeploy_resize(image: Any) -> Any:
    """The image as lmdeploy's Qwen2.5-VL preprocessing hands it to the image processor: RGB,
    resized by PIL (bicubic) to :func:`frame_size` (qwen-vl-utils' ``fetch_image``). The image
    processor then keeps that size; resizing the original inside it (torchvision, in
    transformers 5) would differ by a grey level here and there."""
    from PIL import Image

    rgb = image.convert("RGB")
    return rgb.resize(frame_size(*rgb.size), Image.Resampling.BICUBIC)
