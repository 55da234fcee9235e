"""GenEval's official colour judge: open_clip ViT-L-14 ``openai``, zero-shot over 10 colours.

Not yet wired (weights constants only).
"""

from __future__ import annotations

from evalkit.types import WeightsFile

WEIGHTS = WeightsFile(
    filename="open_clip_model.safetensors", hub_id="timm/vit_large_patch14_clip_224.openai",
    store_path="weights/open_clip/ViT-L-14-openai/open_clip_model.safetensors",
)
