"""GenEval's official colour judge: open_clip ViT-L-14 ``openai``, zero-shot over 10 colours.

As evaluate_images.py with clip_benchmark's zero-shot helpers: per class, a classifier from the
3 templates ("a photo of a {c} {class}", "a photo of a {c}-colored {class}", "a photo of a {c}
object"), each colour's text embeddings normalised, averaged and renormalised; each object
composited through its mask onto #999 grey and cropped to its box (PIL rounding), open_clip's
eval transform, normalised image features, logits = 100 x features @ classifier, argmax. fp16
autocast on CUDA (clip_benchmark's default), fp32 on CPU. Unlike the official (a fresh 4-worker
DataLoader per check), every crop of a batch is classified in one pass, in chunks.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from evalkit.judges.colour import COLORS, ColourCrop, ColourInfo, composite
from evalkit.types import WeightsFile

ARCH = "ViT-L-14"
WEIGHTS = WeightsFile(
    filename="open_clip_model.safetensors",
    hub_id="timm/vit_large_patch14_clip_224.openai",
    store_path="weights/open_clip/ViT-L-14-openai/open_clip_model.safetensors",
)
TEMPLATES = (
    "a photo of a {{c}} {classname}",
    "a photo of a {{c}}-colored {classname}",
    "a photo of a {{c}} object",
)
CHUNK = 64  # crops per forward pass


class ClipColour:
    """Official colour judge; ``model``/``preprocess``/``tokenizer`` may be given (tests), or
    ``checkpoint``: an open_clip ViT-L-14 state dict loaded instead of the store's weights."""

    def __init__(
        self,
        device: str = "cpu",
        model: Any = None,
        preprocess: Any = None,
        tokenizer: Any = None,
        checkpoint: Path | None = None,
    ) -> None:
        import open_clip

        if model is None:
            from evalkit.store import resolve

            path = checkpoint or resolve(
                WEIGHTS, "GenEval's colour judge (open_clip ViT-L-14, openai)"
            )
            # the OpenAI weights use QuickGELU; open_clip knows that only for pretrained="openai"
            model, _, preprocess = open_clip.create_model_and_transforms(
                ARCH, pretrained=str(path), force_quick_gelu=True, device=device
            )
        self.model = model.to(device).eval()
        self.preprocess = preprocess
        self.tokenizer = tokenizer or open_clip.get_tokenizer(ARCH)
        self.device = device
        self.classifiers: dict[str, Any] = {}
        self.info = ColourInfo("clip", f"{ARCH}:{WEIGHTS.describe()}", official=True)

    def _autocast(self) -> Any:
        import contextlib

        import torch

        if str(self.device).startswith("cuda"):
            return torch.autocast("cuda", dtype=torch.float16)
        return contextlib.nullcontext()

    def classifier(self, classname: str) -> Any:
        """(d, 10) zero-shot weights for one class, as clip_benchmark's zero_shot_classifier."""
        import torch
        import torch.nn.functional as F

        if classname not in self.classifiers:
            templates = [t.format(classname=classname) for t in TEMPLATES]
            columns = []
            with torch.no_grad(), self._autocast():
                for c in COLORS:
                    tokens = self.tokenizer([t.format(c=c) for t in templates]).to(self.device)
                    emb = F.normalize(self.model.encode_text(tokens), dim=-1).mean(dim=0)
                    columns.append(emb / emb.norm())
            self.classifiers[classname] = torch.stack(columns, dim=1)
        return self.classifiers[classname]

    def pixels(self, crops: Sequence[ColourCrop]) -> Any:
        """(n, 3, 224, 224) float32 CPU tensor: each crop composited on #999, then open_clip's
        eval transform (what the official DataLoader hands to ``encode_image``)."""
        import torch
        from PIL import Image

        return torch.stack([self.preprocess(Image.fromarray(composite(c))) for c in crops])

    def logits(self, crops: Sequence[ColourCrop]) -> np.ndarray:
        """(n, 10) float32: 100 x cosine of each crop with its class's colour classifier."""
        import torch
        import torch.nn.functional as F

        out = np.zeros((len(crops), len(COLORS)), np.float32)
        for start in range(0, len(crops), CHUNK):
            part = list(range(start, min(start + CHUNK, len(crops))))
            pixels = self.pixels([crops[i] for i in part]).to(self.device)
            with torch.no_grad(), self._autocast():
                feats = F.normalize(self.model.encode_image(pixels), dim=-1)
                for row, i in enumerate(part):
                    logits = 100.0 * feats[row] @ self.classifier(crops[i].classname)
                    out[i] = logits.float().cpu().numpy()
        return out

    def name(self, crops: Sequence[ColourCrop]) -> list[str]:
        return [COLORS[int(i)] for i in self.logits(crops).argmax(1)] if crops else []
