"""PickScore (Kirstain et al. 2023): CLIP-H fine-tuned on Pick-a-Pic, through transformers.

As the official inference snippet (yuvalkirstain/PickScore README): the processor of
``laion/CLIP-ViT-H-14-laion2B-s32B-b79K`` (images as PIL; text padded, truncated to 77), the
model ``yuvalkirstain/PickScore_v1``; image and text embeddings L2-normalised; the score is
``logit_scale.exp() x cos`` (about 100 x cos). The snippet's softmax over one prompt's images
(a preference probability between candidates) is not a per-image score and is not reported.

Weights: ``<store>/weights/PickScore_v1/`` (config.json, model.safetensors) and
``<store>/weights/CLIP-ViT-H-14-laion2B-s32B-b79K/`` (processor and tokenizer files), else the
Hub (unpinned: commits locked on first use). ``model_dir=``/``processor_dir=``: local folders.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from evalkit.scores import JudgeIdentity, ScoreInfo, info

MODEL_ID = "yuvalkirstain/PickScore_v1"
PROCESSOR_ID = "laion/CLIP-ViT-H-14-laion2B-s32B-b79K"
MODEL_FILES = ("config.json", "model.safetensors")
PROCESSOR_FILES = (
    "preprocessor_config.json",
    "tokenizer_config.json",
    "special_tokens_map.json",
    "vocab.json",
    "merges.txt",
)


def _store_path(hub_id: str) -> str:
    return f"weights/{hub_id.split('/')[-1]}"


def missing(score_id: str = "pickscore") -> str:
    """'' when both folders can be had, else the messages naming what is missing."""
    from evalkit.judges import hubdir

    return "\n".join(
        m
        for m in (
            hubdir.check("PickScore model", MODEL_ID, None, _store_path(MODEL_ID), MODEL_FILES),
            hubdir.check(
                "PickScore processor",
                PROCESSOR_ID,
                None,
                _store_path(PROCESSOR_ID),
                PROCESSOR_FILES,
            ),
        )
        if m
    )


class PickScorer:
    """PickScore per (image, prompt) pair."""

    def __init__(self, model: Any, processor: Any, weights: str, device: str = "cpu") -> None:
        self.info: ScoreInfo = info("pickscore")
        self.model, self.processor, self.device = model, processor, device
        self.judge = JudgeIdentity(MODEL_ID, weights, "transformers CLIPModel")

    def score(self, images: Sequence[Any], prompts: Sequence[str]) -> list[float]:
        import torch

        if len(images) != len(prompts):
            raise ValueError(f"{len(images)} images but {len(prompts)} prompts")
        rgb = [im.convert("RGB") for im in images]
        pixels = self.processor(images=rgb, return_tensors="pt")["pixel_values"]
        text = self.processor(
            text=list(prompts), padding=True, truncation=True, max_length=77, return_tensors="pt"
        )
        with torch.inference_mode():
            img = _embeds(self.model.get_image_features(pixel_values=pixels.to(self.device)))
            txt = _embeds(
                self.model.get_text_features(
                    input_ids=text["input_ids"].to(self.device),
                    attention_mask=text["attention_mask"].to(self.device),
                )
            )
            img = img / torch.norm(img, dim=-1, keepdim=True)
            txt = txt / torch.norm(txt, dim=-1, keepdim=True)
            scores = self.model.logit_scale.exp() * (img * txt).sum(dim=-1)
        return [float(s) for s in scores.float().cpu()]


def _embeds(out: Any) -> Any:
    """transformers 5 may return a model output; the projected embeddings either way."""
    return out if hasattr(out, "norm") else out.pooler_output


def build(
    score_id: str,
    device: str = "cpu",
    model_dir: str | None = None,
    processor_dir: str | None = None,
) -> PickScorer:
    """PickScore from the store/Hub, or from local folders (tests)."""
    from transformers import CLIPModel, CLIPProcessor

    from evalkit.judges import hubdir

    if model_dir is not None:
        mfolder, weights = Path(model_dir), f"local:{model_dir}"
    else:
        mfolder = hubdir.local_dir(
            "PickScore model", MODEL_ID, None, _store_path(MODEL_ID), MODEL_FILES
        )
        weights = f"{MODEL_ID}@{mfolder.name if mfolder.parent.name == 'snapshots' else 'store'}"
    pfolder = (
        Path(processor_dir)
        if processor_dir is not None
        else hubdir.local_dir(
            "PickScore processor",
            PROCESSOR_ID,
            None,
            _store_path(PROCESSOR_ID),
            PROCESSOR_FILES,
        )
    )
    model = CLIPModel.from_pretrained(mfolder, use_safetensors=True).to(device).eval()
    return PickScorer(model, CLIPProcessor.from_pretrained(pfolder), weights, device)
