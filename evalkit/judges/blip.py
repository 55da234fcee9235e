"""BLIP ITM (``Salesforce/blip-itm-large-flickr``): image-text cosine score, DetailMaster's
tie-break between YOLOE's and Qwen's boxes.

The official code calls it with ``use_itm_head=False`` (the cosine of the projected image and
text features), fp16; its call is never reached there (see the card's quirks), so evalkit loads
it only for ``protocol=fixed``. fp16 on CUDA, fp32 on CPU. Weights: ``<store>/weights/
blip-itm-large-flickr/``, else the Hub, unpinned (the revision, and whether the repo carries
``model.safetensors``, could not be established here; only safetensors are loaded).
"""

from __future__ import annotations

from typing import Any

from evalkit.judges import hubdir

HUB_ID = "Salesforce/blip-itm-large-flickr"
REVISION: str | None = None  # not established here
STORE_PATH = "weights/blip-itm-large-flickr"
FILES = (
    "config.json",
    "preprocessor_config.json",
    "tokenizer_config.json",
    "vocab.txt",
    "special_tokens_map.json",
    "model.safetensors",
)


def missing() -> str:
    return hubdir.check("ITM judge weights", HUB_ID, REVISION, STORE_PATH, FILES)


def weights_id() -> str:
    return f"{HUB_ID}@{REVISION or 'unpinned'}"


class BlipITM:
    name = HUB_ID

    def __init__(self, model: Any, processor: Any, device: str = "cpu") -> None:
        self.model, self.processor, self.device = model, processor, device

    @classmethod
    def from_store(cls, device: str = "cpu") -> BlipITM:
        import torch
        from transformers import BlipForImageTextRetrieval, BlipProcessor

        folder = hubdir.local_dir("ITM judge weights", HUB_ID, REVISION, STORE_PATH, FILES)
        dtype = torch.float16 if device.startswith("cuda") else torch.float32
        model = BlipForImageTextRetrieval.from_pretrained(folder, dtype=dtype, use_safetensors=True)
        return cls(model.to(device).eval(), BlipProcessor.from_pretrained(folder), device)

    def match_batch(self, pairs: list[tuple[Any, str]]) -> list[float]:
        """Cosine (ITM without the head) of each (image, text) pair, in one forward pass."""
        import torch

        images = [im.convert("RGB") for im, _ in pairs]
        inputs = self.processor(
            images=images, text=[t for _, t in pairs], return_tensors="pt", padding=True
        ).to(self.device)
        inputs["pixel_values"] = inputs["pixel_values"].to(self.model.dtype)
        with torch.inference_mode():
            out = self.model(**inputs, use_itm_head=False)
        sims = out.itm_score.float()  # (images, texts): the diagonal pairs each image its text
        return [float(sims[i, i]) for i in range(len(pairs))]

    def match(self, image: Any, text: str) -> float:
        return self.match_batch([(image, text)])[0]

    def describe(self) -> str:
        return f"{HUB_ID} (cosine, use_itm_head=False)"
