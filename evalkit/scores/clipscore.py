"""CLIPScore (torchmetrics' definition) and CLIP-S (Hessel et al. 2021), two names, never mixed.

- ``clipscore``: torchmetrics ``CLIPScore`` per pair: the prompt tokenized with padding (and, as
  torchmetrics does, input ids and mask cut to 77 positions without re-adding the end token),
  the image passed to the processor as a uint8 CHW tensor; features L2-normalised;
  ``100 x max(cos, 0)``. Default weights: torchmetrics' default ``openai/clip-vit-large-patch14``.
  Per image this is torchmetrics' value for that one pair; evalkit's per-model mean is the mean
  of these. torchmetrics' ``compute()`` over a batch clamps the batch mean instead
  (``max(mean(100 x cos), 0)``); the two agree whenever no cosine is negative (as with trained
  CLIPs on image-prompt pairs).
- ``clip_s``: the paper's CLIP-S: ``2.5 x max(cos, 0)`` with the caption prefixed
  ``"A photo depicts "`` and CLIP ViT-B/32 (``openai/clip-vit-base-patch32``), truncated to 77
  tokens keeping the end token (clip.tokenize(truncate=True)). The paper's code uses OpenAI's
  ``clip`` package; evalkit runs the same network through transformers, with the paper's own
  pixels (:func:`paper_pixels`: PIL bicubic resize, centre crop, then RGB), not transformers'
  CLIPImageProcessor, whose resize arithmetic differs (up to 0.04 per feature component on
  random ViT-B/32 weights; tests/scores/test_clips_official.py).

Weights: ``<store>/weights/<repo name>/`` with every file in ``FILES``, else the Hub (unpinned:
the commit is locked on first use). ``-O`` style option ``model_dir=`` loads a local folder
(tests, random weights).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from evalkit.scores import JudgeIdentity, ScoreInfo, info

FILES = (
    "config.json",
    "preprocessor_config.json",
    "tokenizer_config.json",
    "special_tokens_map.json",
    "vocab.json",
    "merges.txt",
    "model.safetensors",
)


@dataclass(frozen=True)
class ClipVariant:
    hub_id: str
    scale: float  # 100 (torchmetrics) or w = 2.5 (the paper)
    prefix: str  # prepended to every prompt
    keep_end_token: bool  # truncate properly (True) or cut as torchmetrics does (False)
    paper_pixels: bool  # jmhessel/clipscore's PIL preprocessing (True) or the HF processor

    @property
    def store_path(self) -> str:
        return f"weights/{self.hub_id.split('/')[-1]}"


VARIANTS = {
    "clipscore": ClipVariant("openai/clip-vit-large-patch14", 100.0, "", False, False),
    "clip_s": ClipVariant("openai/clip-vit-base-patch32", 2.5, "A photo depicts ", True, True),
}


def missing(score_id: str) -> str:
    """'' when the weights can be had (store, cache, online), else one message naming them."""
    from evalkit.judges import hubdir

    v = VARIANTS[score_id]
    return hubdir.check(f"{score_id} weights", v.hub_id, None, v.store_path, FILES)


def load_clip(folder: str | Path, device: str = "cpu") -> tuple[Any, Any]:
    """(CLIPModel, CLIPProcessor) from one local folder; safetensors only, no remote code."""
    from transformers import CLIPModel, CLIPProcessor

    model = CLIPModel.from_pretrained(folder, use_safetensors=True).to(device).eval()
    return model, CLIPProcessor.from_pretrained(folder)


def image_tensors(images: Sequence[Any]) -> list[Any]:
    """PIL images -> uint8 CHW tensors (what torchmetrics hands the processor)."""
    import numpy as np
    import torch

    return [
        torch.from_numpy(np.asarray(im.convert("RGB")).copy()).permute(2, 0, 1) for im in images
    ]


def paper_pixels(images: Sequence[Any], size: int = 224) -> Any:
    """jmhessel/clipscore's ``CLIPImageDataset`` transform on PIL images as opened: torchvision's
    Resize(size, bicubic) (shorter side to ``size``, longer ``int(size x long / short)``, PIL's
    resize), CenterCrop(size) (offsets ``int(round((side - size) / 2))``), then RGB (after the
    resize, as the paper does: RGBA is resized premultiplied), /255, OpenAI's mean and std."""
    import numpy as np
    import torch
    from PIL import Image

    from evalkit.scores.random_clip import MEAN, STD

    mean, std = np.asarray(MEAN, np.float32), np.asarray(STD, np.float32)
    out = []
    for im in images:
        w, h = im.size
        short, long = min(w, h), max(w, h)
        new = (size, int(size * long / short)) if w <= h else (int(size * long / short), size)
        if new != (w, h):
            im = im.resize(new, Image.BICUBIC)
        left, top = int(round((new[0] - size) / 2.0)), int(round((new[1] - size) / 2.0))
        im = im.crop((left, top, left + size, top + size)).convert("RGB")
        arr = np.asarray(im, dtype=np.float32) / np.float32(255)
        out.append(torch.from_numpy(((arr - mean) / std).transpose(2, 0, 1).copy()))
    return torch.stack(out)


class ClipScorer:
    """One CLIP network scoring (image, prompt) pairs; see the module docstring."""

    def __init__(
        self, score_id: str, model: Any, processor: Any, weights: str, device: str = "cpu"
    ) -> None:
        self.info: ScoreInfo = info(score_id)
        self.variant = VARIANTS[score_id]
        self.model, self.processor, self.device = model, processor, device
        self.judge = JudgeIdentity(self.variant.hub_id, weights, "transformers CLIPModel")

    def _text_inputs(self, prompts: Sequence[str]) -> tuple[Any, Any]:
        texts = [self.variant.prefix + p for p in prompts]
        limit = self.model.config.text_config.max_position_embeddings
        if self.variant.keep_end_token:
            enc = self.processor.tokenizer(
                texts, padding=True, truncation=True, max_length=limit, return_tensors="pt"
            )
            return enc["input_ids"], enc["attention_mask"]
        enc = self.processor.tokenizer(texts, padding=True, return_tensors="pt")
        return enc["input_ids"][..., :limit], enc["attention_mask"][..., :limit]

    def image_features(self, images: Sequence[Any]) -> Any:
        """L2-normalised image embeddings (numpy, one row per image)."""
        import torch

        if self.variant.paper_pixels:
            pixels = paper_pixels(images)
        else:
            processed = self.processor.image_processor(
                images=image_tensors(images), return_tensors="pt"
            )
            pixels = processed["pixel_values"]
        with torch.inference_mode():
            img = _features(self.model.get_image_features(pixels.to(self.device)))
        return _unit(img)

    def text_features(self, prompts: Sequence[str]) -> Any:
        """L2-normalised text embeddings of the prefixed prompts (numpy, one row each)."""
        import torch

        ids, mask = self._text_inputs(prompts)
        with torch.inference_mode():
            txt = self.model.get_text_features(
                input_ids=ids.to(self.device), attention_mask=mask.to(self.device)
            )
        return _unit(_features(txt))

    def cosines(self, images: Sequence[Any], prompts: Sequence[str]) -> list[float]:
        """Cosine of each image's and its prompt's CLIP embeddings."""
        if len(images) != len(prompts):
            raise ValueError(f"{len(images)} images but {len(prompts)} prompts")
        products = self.image_features(images) * self.text_features(prompts)
        return [float(c) for c in products.sum(axis=-1)]

    def score(self, images: Sequence[Any], prompts: Sequence[str]) -> list[float]:
        return [self.variant.scale * max(c, 0.0) for c in self.cosines(images, prompts)]


def _unit(features: Any) -> Any:
    """Rows scaled to unit length, as float32 numpy (both references normalise in float32)."""
    features = features / features.norm(p=2, dim=-1, keepdim=True)
    return features.float().cpu().numpy()


def _features(out: Any) -> Any:
    """transformers 5 may return a model output; the projected embeddings either way."""
    return out if hasattr(out, "norm") else out.pooler_output


def build(score_id: str, device: str = "cpu", model_dir: str | None = None) -> ClipScorer:
    """The scorer for ``clipscore`` or ``clip_s``; ``model_dir``: a local CLIP folder instead."""
    variant = VARIANTS[score_id]
    if model_dir is not None:
        folder, weights = Path(model_dir), f"local:{model_dir}"
    else:
        from evalkit.judges import hubdir

        folder = hubdir.local_dir(
            f"{score_id} weights", variant.hub_id, None, variant.store_path, FILES
        )
        weights = f"{variant.hub_id}@{_commit_of(folder)}"
    model, processor = load_clip(folder, device)
    return ClipScorer(score_id, model, processor, weights, device)


def _commit_of(folder: Path) -> str:
    """The Hub snapshot's commit (its folder name), or 'store' for an offline store copy."""
    return folder.name if folder.parent.name == "snapshots" else "store"
