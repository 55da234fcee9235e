"""The TokBench reconstruction protocol: letterbox in, un-letterbox out, as the official code.

Facts from the official ``resize_rec.py`` (commit 855802d): scale = min(S/w, S/h); the resized
size is ``(ceil(w * scale), ceil(h * scale))`` in float arithmetic, LANCZOS; it is pasted centred
on a black S x S canvas at ``((S - w') // 2, (S - h') // 2)``; the reconstruction is cropped back
to that box and resized with LANCZOS to the original (w, h). Tensors are quantised as the official
scripts do: ``round(x * 255)``, NaN -> 128, clamped to [0, 255].
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
from PIL import Image

from evalkit.imagefiles import to_uint8 as _to_uint8

if TYPE_CHECKING:
    import torch


@dataclass(frozen=True)
class Letterbox:
    """Where the scaled image sits on the square canvas, and the size to restore."""

    original_size: tuple[int, int]  # (w, h)
    scaled_size: tuple[int, int]  # (w', h')
    paste_position: tuple[int, int]  # (x, y) of the scaled image on the canvas
    target: int  # canvas side S


def letterbox(img: Image.Image, target: int) -> tuple[Image.Image, Letterbox]:
    """Resize ``img`` (RGB) so it fits ``target`` x ``target`` (LANCZOS, ceil) and pad black."""
    w, h = img.size
    scale = min(target / w, target / h)
    new_size = (math.ceil(w * scale), math.ceil(h * scale))
    resized = img.resize(new_size, Image.LANCZOS)
    canvas = Image.new("RGB", (target, target), (0, 0, 0))
    pos = ((target - new_size[0]) // 2, (target - new_size[1]) // 2)
    canvas.paste(resized, pos)
    return canvas, Letterbox((w, h), new_size, pos, target)


def restore(canvas: Image.Image, meta: Letterbox) -> Image.Image:
    """Cut the image box out of a reconstructed canvas and LANCZOS it back to the original size."""
    x, y = meta.paste_position
    box = (x, y, x + meta.scaled_size[0], y + meta.scaled_size[1])
    return canvas.crop(box).resize(meta.original_size, Image.LANCZOS)


def to_uint8(image: torch.Tensor) -> np.ndarray:
    """CHW float [0, 1] tensor -> HWC uint8 array, quantised as the official scripts."""
    return _to_uint8(image)


def to_tensor(img: Image.Image) -> torch.Tensor:
    """RGB PIL image -> CHW float32 tensor in [0, 1]."""
    import torch

    arr = np.asarray(img.convert("RGB"), dtype=np.uint8)
    return torch.from_numpy(arr.copy()).permute(2, 0, 1).float().div(255.0)
