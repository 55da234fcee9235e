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

from evalkit.types import InputFileError

if TYPE_CHECKING:
    import torch

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".webp", ".bmp", ".tif", ".tiff")


class ImageDecodeError(InputFileError):
    """An image file could not be read (corrupt, empty, not an image); the message names the file.
    Bad input: the command line exits 2."""


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


_SIXTEEN_BIT = ("I;16", "I;16B", "I;16L", "I;16N", "I")


def to_rgb8(im: Image.Image) -> Image.Image:
    """Any Pillow mode -> 8-bit RGB, by one stated rule per mode (Pillow's ``convert`` alone
    clips 16-bit values at 255, which turns a 16-bit photo into near-binary noise).

    - 16-bit greyscale (``I;16*``, and ``I``, which Pillow uses for 16-bit PNG/TIFF): the full
      0..65535 range maps to 0..255 by ``round(v / 257)``, grey into all three channels. ``I``
      values outside 0..65535 (a 32-bit image) are refused: their range is unknown.
    - 16-bit RGB(A) PNG: Pillow itself reduces it to 8 bits per channel when decoding.
    - ``F`` (32-bit float): refused; a float image states no range.
    - ``P`` / ``PA`` (palette): each index becomes its palette colour.
    - ``CMYK``: Pillow's uncalibrated conversion ``R = (255 - C)(255 - K) / 255`` (likewise G, B);
      an embedded ICC profile is not applied.
    - ``1``, ``L``, ``LA``, ``YCbCr``, ``LAB``, ``HSV``: Pillow's conversion.
    - Alpha (``RGBA``, ``LA``, ``PA``, palette transparency, premultiplied ``RGBa``/``La``): alpha
      is discarded and every pixel keeps its stored colour (un-premultiplied first), as
      torch-fidelity and clean-fid read images (``convert("RGB")``), so FID matches those tools;
      transparent pixels are not composited onto any background.
    """
    mode = im.mode
    if mode in _SIXTEEN_BIT:
        a = np.asarray(im)
        if a.size and (int(a.min()) < 0 or int(a.max()) > 65535):
            raise ValueError(
                f"mode {mode} values in [{int(a.min())}, {int(a.max())}] are not "
                "16-bit; the range of a 32-bit image is unknown"
            )
        u8 = np.round(a.astype(np.float64) / 257.0).astype(np.uint8)
        return Image.fromarray(np.repeat(u8[..., None], 3, axis=-1), "RGB")
    if mode == "F":
        raise ValueError("mode F (32-bit float) images state no value range; save 8- or 16-bit")
    if mode in ("RGBa", "La"):
        im = im.convert("RGBA" if mode == "RGBa" else "LA")
    return im.convert("RGB")


def read_rgb(path: Path, sample_id: str) -> Image.Image:
    """Decode an image to 8-bit RGB (:func:`to_rgb8`), or raise :class:`ImageDecodeError`
    naming the sample. The one image reader of every benchmark and of ``evalkit fid``."""
    try:
        with Image.open(path) as im:
            im.load()
            return to_rgb8(im)
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
