"""Image files: the one folder lister, the one decoder and the one uint8 quantiser.

``evalkit fid DIR``, ``recon --data DIR`` and ``imagenet-rfid --data DIR`` all list a folder with
:func:`list_images`, so they see the same files in the same order. torch is imported only inside
:func:`to_uint8`, so listing and decoding stay light.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from PIL import Image

if TYPE_CHECKING:
    import torch

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".webp", ".bmp", ".tif", ".tiff")


class ImageDecodeError(RuntimeError):
    """An image file could not be read; the message names the file."""


def list_images(folder: str | Path) -> list[Path]:
    """Every image file under ``folder``, recursively (class sub-folders of ImageNet val
    included), sorted by relative path; hidden files and folders (``.name``) are skipped."""
    root = Path(folder)
    out = []
    for p in root.rglob("*"):
        rel = p.relative_to(root)
        if any(part.startswith(".") for part in rel.parts):
            continue
        if p.suffix.lower() in IMAGE_SUFFIXES and p.is_file():
            out.append(p)
    return sorted(out, key=lambda p: p.relative_to(root).as_posix())


def read_rgb(path: Path, sample_id: str) -> Image.Image:
    """Decode an image to RGB, or raise :class:`ImageDecodeError` naming the sample."""
    try:
        with Image.open(path) as im:
            im.load()
            return im.convert("RGB")
    except Exception as exc:  # PIL raises several types for bad files
        raise ImageDecodeError(f"sample {sample_id!r}: cannot decode {path}: {exc}") from exc


def to_uint8(images: torch.Tensor) -> np.ndarray:
    """Float CHW / NCHW in [0, 1] -> uint8 HWC / NHWC, as a saved image would hold it.

    ``round(x * 255)`` (round half to even, as torch rounds), NaN -> 128, clamped to [0, 255]:
    the rule of TokBench's official scripts, identical to clamp-then-round for finite values.
    """
    import torch

    x = images.detach().float().mul(255).round().nan_to_num(128, 0, 255).clamp(0, 255)
    return np.moveaxis(x.to(torch.uint8).cpu().numpy(), -3, -1)
