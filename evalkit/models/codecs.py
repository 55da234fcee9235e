"""Codec baselines and test doubles: identity, resize, JPEG/WebP at quality N, down-up by N.

They anchor every table: a tokenizer that loses to JPEG q10 at the same benchmark has a problem.
The quantiser is Pillow (libjpeg / libwebp); each card records the codec library version, and the
encoded size of each image of the last batch is kept in ``last_bits`` (the runner records bits
per pixel from it).
"""

from __future__ import annotations

import io
import re
from typing import TYPE_CHECKING

import numpy as np
from PIL import Image, features

from evalkit.imagefiles import to_uint8
from evalkit.types import ModelCard, TokenizerBase

if TYPE_CHECKING:
    import torch

_PATTERNS = {
    "jpeg": re.compile(r"^jpeg-q(\d{1,3})$"),
    "webp": re.compile(r"^webp-q(\d{1,3})$"),
    "resize-x": re.compile(r"^resize-x(\d{1,2})$"),
}


def _parse(model_id: str) -> tuple[str, int]:
    if model_id in ("identity", "resize"):
        return model_id, 0
    for kind, pattern in _PATTERNS.items():
        m = pattern.match(model_id)
        if m:
            n = int(m.group(1))
            if kind in ("jpeg", "webp") and not 1 <= n <= 100:
                raise ValueError(f"{model_id}: quality must be in 1..100")
            if kind == "resize-x" and not 2 <= n <= 64:
                raise ValueError(f"{model_id}: factor must be in 2..64")
            return kind, n
    raise ValueError(f"not a codec id: {model_id!r} (e.g. jpeg-q50, webp-q80, resize-x4)")


def card(model_id: str) -> ModelCard:
    kind, n = _parse(model_id)
    import PIL

    descriptions = {
        "identity": "Returns its input unchanged: a test double (PSNR = inf, FID = 0).",
        "resize": "No tokenizer: TokBench's 'Resize' baseline, the ceiling of each setting.",
        "jpeg": f"JPEG at quality {n} (Pillow {PIL.__version__}, 4:2:0 subsampling).",
        "webp": f"WebP at quality {n} (Pillow {PIL.__version__}, libwebp "
        f"{features.version('webp')}).",
        "resize-x": f"Downsample by {n} (area), upsample bicubic back: a {n}x{n} pixel budget.",
    }
    return ModelCard(
        id=model_id,
        family="codec" if kind != "identity" else "double",
        description=descriptions[kind],
        license="n/a",
        compression=f"{n}x" if kind == "resize-x" else None,
        discrete=None,
        tokbench_name="Resize" if kind == "resize" else None,
        extra={"codec": kind, "param": n, "pillow": PIL.__version__},
    )


class Codec(TokenizerBase):
    """Pillow round trip per image; ``encode`` returns the compressed byte strings."""

    def __init__(self, model_id: str) -> None:
        self.card = card(model_id)
        self.kind, self.param = _parse(model_id)
        self.last_bits: list[int] | None = None  # encoded size of each image, last batch

    def encode(self, images: torch.Tensor) -> list[bytes]:
        fmt = {"jpeg": "JPEG", "webp": "WEBP"}[self.kind]
        out = []
        for arr in to_uint8(images):
            buf = io.BytesIO()
            Image.fromarray(arr).save(buf, format=fmt, quality=self.param)
            out.append(buf.getvalue())
        self.last_bits = [8 * len(b) for b in out]
        return out

    def decode(self, codes: list[bytes]) -> torch.Tensor:
        import torch

        arrs = [np.asarray(Image.open(io.BytesIO(b)).convert("RGB")) for b in codes]
        return torch.from_numpy(np.stack(arrs)).permute(0, 3, 1, 2).float() / 255.0

    def reconstruct(self, images: torch.Tensor) -> torch.Tensor:
        device = images.device
        if self.kind in ("identity", "resize"):
            self.last_bits = None  # lossless pass-through: no rate
            return images
        if self.kind == "resize-x":
            import torch.nn.functional as F

            h, w = images.shape[-2:]
            small = F.interpolate(
                images, size=(max(1, h // self.param), max(1, w // self.param)), mode="area"
            )
            self.last_bits = [24 * small.shape[-2] * small.shape[-1]] * images.shape[0]
            return F.interpolate(small, size=(h, w), mode="bicubic", align_corners=False)
        return self.decode(self.encode(images)).to(device)


def build(model_id: str, **options: object) -> Codec:
    if options:
        raise ValueError(f"{model_id} takes no options, got {sorted(options)}")
    return Codec(model_id)
