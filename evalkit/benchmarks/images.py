"""Image sources shared by benchmarks: the embedded photo set and plain folders, with manifests."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

from evalkit.benchmarks.base import DatasetManifest
from evalkit.filehash import file_sha256

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".webp", ".bmp", ".tif", ".tiff")

# Real photos bundled in the scikit-image wheel, with the licence its docstrings state.
# Left out: photos without a stated licence (moon, motorcycle) and synthetic images.
EMBEDDED_PHOTOS: dict[str, str] = {
    "astronaut.png": "public domain (NASA)",
    "chelsea.png": "CC0 (Stefan van der Walt)",
    "coffee.png": "CC0 (Rachel Michetti)",
    "rocket.jpg": "public domain (SpaceX)",
    "hubble_deep_field.jpg": "public domain (NASA)",
    "retina.jpg": "CC0 (Häggström)",
    "ihc.png": "no known copyright restrictions",
    "camera.png": "CC0 (Lav Varshney)",
    "coins.png": "no known copyright restrictions",
    "brick.png": "CC0 (CC0Textures)",
    "grass.png": "CC0 (CC0Textures)",
    "gravel.png": "CC0 (CC0Textures)",
}


class ImageDecodeError(RuntimeError):
    """An image file could not be read; the message names the file."""


@dataclass(frozen=True)
class ImageSet:
    """An ordered list of image files with stable ids and a manifest."""

    ids: tuple[str, ...]
    paths: tuple[Path, ...]
    manifest: DatasetManifest


def _manifest(name: str, source: str, ids: list[str], paths: list[Path], license: str,
              revision: str | None = None) -> DatasetManifest:
    h = hashlib.sha256()
    for sample_id, path in zip(ids, paths):
        h.update(sample_id.encode() + b"\0" + bytes.fromhex(file_sha256(path)))
    return DatasetManifest(name=name, source=source, revision=revision, sha256=h.hexdigest(),
                           n=len(ids), license=license)


def embedded_photos() -> ImageSet:
    """The default photo set: real photos that ship inside scikit-image's wheel."""
    import skimage
    import skimage.data

    root = Path(skimage.data.__file__).parent
    ids = sorted(EMBEDDED_PHOTOS)
    paths = [root / i for i in ids]
    missing = [str(p) for p in paths if not p.is_file()]
    if missing:
        raise FileNotFoundError(f"scikit-image {skimage.__version__} lacks photos: {missing}")
    manifest = _manifest("skimage-photos", "skimage.data", ids, paths,
                         "per image: see evalkit.benchmarks.images.EMBEDDED_PHOTOS",
                         revision=skimage.__version__)
    return ImageSet(tuple(ids), tuple(paths), manifest)


def folder(path: str | Path) -> ImageSet:
    """Every image file under ``path`` (recursively), ids = relative paths, sorted."""
    root = Path(path).expanduser().resolve()
    if not root.is_dir():
        raise FileNotFoundError(f"image folder not found: {root}")
    paths = sorted(p for p in root.rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES)
    if not paths:
        raise FileNotFoundError(f"no images ({', '.join(IMAGE_SUFFIXES)}) under {root}")
    ids = [p.relative_to(root).as_posix() for p in paths]
    return ImageSet(tuple(ids), tuple(paths), _manifest(root.name, f"folder:{root}", ids, paths,
                                                         "unknown"))


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
            raise ValueError(f"mode {mode} values in [{int(a.min())}, {int(a.max())}] are not "
                             "16-bit; the range of a 32-bit image is unknown")
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


def resize_center_crop(im: Image.Image, size: int) -> Image.Image:
    """Shorter side to ``size`` (bicubic, antialiased by Pillow), then a centred square crop."""
    w, h = im.size
    scale = size / min(w, h)
    nw, nh = max(size, round(w * scale)), max(size, round(h * scale))
    im = im.resize((nw, nh), Image.Resampling.BICUBIC)
    left, top = (nw - size) // 2, (nh - size) // 2
    return im.crop((left, top, left + size, top + size))


def to_uint8(images: np.ndarray | object) -> np.ndarray:
    """Float CHW/NCHW tensor in [0,1] -> uint8 HWC/NHWC array, round-half-even as torch does."""
    import torch

    assert isinstance(images, torch.Tensor)
    arr = images.detach().clamp(0, 1).mul(255).round().to(torch.uint8).cpu().numpy()
    return np.moveaxis(arr, -3, -1)
