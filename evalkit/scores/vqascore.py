"""VQAScore (Lin et al. 2024): the probability a VQA model answers "Yes" to whether the image
shows the prompt; here the Qwen2.5-VL-7B-Instruct variant of t2v-metrics 3.0.

t2v-metrics' ``Qwen2VLModel.forward`` (qwen2vl_model.py), per (image, text) pair: the question
``Does this image show "{text}"?`` (that model's default template; CLIP-FlanT5's is ``Does this
figure show "{text}"? Please answer yes or no.``) as one user turn after the image, the chat
template's generation prompt, the image RGB and resized by qwen-vl-utils' ``fetch_image``; then
``generate(max_new_tokens=1, do_sample=False, output_scores=True)`` and the softmax of the first
step's scores at the first token of "Yes". Those scores are the logits after the checkpoint's
``generation_config.json`` processors that greedy decoding applies: Qwen2.5-VL-7B-Instruct's asks
for ``repetition_penalty`` 1.05, so every token already in the prompt has its logit divided
(positive) or multiplied (negative) by 1.05 before the softmax. :func:`yes_probability` does the
same arithmetic on one forward pass's last logits; the sampling fields (temperature, top_k,
top_p) do not apply to greedy decoding.

CLIP-FlanT5 (the paper's default): :mod:`evalkit.scores.vqascore_flant5`. Weights: the VLM
judge's store folder
(:mod:`evalkit.judges.vlm`), through the store/hub layer.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from evalkit.scores import JudgeIdentity, ScoreInfo, info

QUESTION = 'Does this image show "{}"?'
ANSWER = "Yes"
#: generation_config.json fields that would add a logits processor this module does not apply
UNSUPPORTED = (
    "no_repeat_ngram_size",
    "encoder_no_repeat_ngram_size",
    "bad_words_ids",
    "suppress_tokens",
    "begin_suppress_tokens",
    "forced_bos_token_id",
    "forced_eos_token_id",
    "sequence_bias",
    "guidance_scale",
    "min_new_tokens",
)


def greedy_penalty(generation_config: Mapping[str, Any]) -> float:
    """The repetition penalty greedy ``generate`` applies from the checkpoint's
    ``generation_config.json``; a field that would add another processor is refused."""
    for key in (*UNSUPPORTED, "min_length"):
        if generation_config.get(key):
            raise ValueError(
                f"generation_config.json sets {key}={generation_config[key]!r}: "
                "VQAScore does not apply that logits processor"
            )
    return float(generation_config.get("repetition_penalty") or 1.0)


def yes_probability(logits: Any, prompt_ids: Any, yes_id: int, penalty: float = 1.0) -> float:
    """softmax(penalised last-step logits)[yes_id], as transformers' RepetitionPenalty
    processor then ``output_scores``: logits of tokens in the prompt, x penalty if negative,
    / penalty otherwise."""
    import torch

    scores = logits.float().clone()
    if penalty != 1.0:
        seen = torch.unique(prompt_ids)
        picked = scores[seen]
        scores[seen] = torch.where(picked < 0, picked * penalty, picked / penalty)
    return float(torch.softmax(scores, dim=-1)[yes_id])


class QwenVQAScorer:
    """The loaded score (the :class:`evalkit.scores.Scorer` contract), one pair per forward
    pass as t2v-metrics runs it (no padding)."""

    def __init__(
        self,
        score_id: str,
        model: Any,
        processor: Any,
        penalty: float,
        judge: JudgeIdentity,
        device: str = "cpu",
    ) -> None:
        self.info: ScoreInfo = info(score_id)
        self.model, self.processor, self.penalty = model, processor, penalty
        self.judge, self.device = judge, device
        self.yes_id = int(processor.tokenizer.encode(ANSWER)[0])

    def score(self, images: Sequence[Any], prompts: Sequence[str]) -> list[float]:
        if len(images) != len(prompts):
            raise ValueError(f"{len(images)} images but {len(prompts)} prompts")
        return [self._one(im, p) for im, p in zip(images, prompts, strict=True)]

    def _one(self, image: Any, prompt: str) -> float:
        import torch

        from evalkit.judges.vlm import chat, lmdeploy_resize

        text = self.processor.apply_chat_template(
            chat(QUESTION.format(prompt)), tokenize=False, add_generation_prompt=True
        )
        pixels = lmdeploy_resize(image.convert("RGB"))  # qwen-vl-utils' fetch_image
        inputs = self.processor(text=[text], images=[pixels], return_tensors="pt").to(self.device)
        with torch.inference_mode():
            logits = self.model(**inputs).logits[0, -1]
        return yes_probability(logits, inputs["input_ids"][0], self.yes_id, self.penalty)


def from_folder(score_id: str, folder: Path, device: str = "cpu") -> QwenVQAScorer:
    """A Qwen2.5-VL checkpoint folder (the store's, or a random one in tests)."""
    import torch
    from transformers import AutoProcessor, Qwen2_5_VLForConditionalGeneration

    processor = AutoProcessor.from_pretrained(folder, trust_remote_code=False)
    dtype = torch.bfloat16 if device.startswith("cuda") else torch.float32  # t2v-metrics: bf16
    model = Qwen2_5_VLForConditionalGeneration.from_pretrained(
        folder, dtype=dtype, use_safetensors=True, trust_remote_code=False
    )
    gen_path = Path(folder) / "generation_config.json"
    gen = json.loads(gen_path.read_text(encoding="utf-8")) if gen_path.is_file() else {}
    from evalkit.judges import vlm
    from evalkit.scores.imagereward import commit_of

    judge = JudgeIdentity(
        name=vlm.HUB_ID,
        weights=f"{vlm.HUB_ID}@{commit_of(Path(folder))}",
        library="transformers Qwen2_5_VLForConditionalGeneration",
    )
    model = model.to(device).eval()
    return QwenVQAScorer(score_id, model, processor, greedy_penalty(gen), judge, device)


def missing(score_id: str = "vqascore_qwen") -> str:
    """'' when the VLM judge's weights can be had, else what to fetch."""
    from evalkit.judges import vlm

    return vlm.missing()


def build(score_id: str, device: str = "cpu", **options: Any) -> QwenVQAScorer:
    """The real scorer: Qwen2.5-VL-7B-Instruct from the VLM judge's store folder or the Hub."""
    from evalkit.judges import hubdir, vlm

    if options:
        raise ValueError(f"{score_id} takes no options, got {sorted(options)}")
    folder = hubdir.local_dir(
        "VLM judge weights", vlm.HUB_ID, vlm.REVISION, vlm.STORE_PATH, vlm.FILES
    )
    return from_folder(score_id, folder, device)
