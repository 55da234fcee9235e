"""Image sources shared by benchmarks: the embedded photo set and plain folders, with manifests.

Listing, decoding and quantising live in :mod:`evalkit.imagefiles` (re-exported here).
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from PIL import Image

from evalkit.filehash import file_sha256
from evalkit.imagefiles import IMAGE_SUFFIXES, ImageDecodeError, list_images, read_rgb, to_uint8
from evalkit.types import DatasetManifest

__all__ = [
    "IMAGE_SUFFIXES",
    "ImageDecodeError",
    "ImageSet",
    "embedded_photos",
    "folder",
    "manifest",
    "read_rgb",
    "resize_center_crop",
    "to_uint8",
]


@dataclass(frozen=True)
class ImageSet:
    """An ordered list of image files with stable ids and a manifest."""

    ids: tuple[str, ...]
    paths: tuple[Path, ...]
    manifest: DatasetManifest


def manifest(
    name: str,
    source: str,
    ids: list[str],
    paths: list[Path],
    license: str,
    revision: str | None = None,
) -> DatasetManifest:
    """A manifest whose sha256 covers (sample id, file sha256) of every sample, in order."""
    h = hashlib.sha256()
    for sample_id, path in zip(ids, paths):
        h.update(sample_id.encode() + b"\0" + bytes.fromhex(file_sha256(path)))
    return DatasetManifest(
        name=name,
        source=source,
        revision=revision,
        sha256=h.hexdigest(),
        n=len(ids),
        license=license,
    )


def embedded_photos(licenses: Mapping[str, str] | None = None) -> ImageSet:
    """Real photos that ship inside scikit-image's wheel: ``licenses`` maps file name -> licence
    (default: the ``recon`` card's ``[dataset.licenses]``)."""
    import skimage
    import skimage.data

    if licenses is None:
        from evalkit.cards import load_card

        licenses = load_card("recon")["dataset"]["licenses"]
    root = Path(skimage.data.__file__).parent
    ids = sorted(licenses)
    paths = [root / i for i in ids]
    missing = [str(p) for p in paths if not p.is_file()]
    if missing:
        raise FileNotFoundError(f"scikit-image {skimage.__version__} lacks photos: {missing}")
    photos = manifest(
        "skimage-photos",
        "skimage.data",
        ids,
        paths,
        "per image: see the recon card's [dataset.licenses]",
        revision=skimage.__version__,
    )
    return ImageSet(tuple(ids), tuple(paths), photos)


def folder(path: str | Path) -> ImageSet:
    """Every image file under ``path`` (recursively), ids = relative paths, sorted."""
    root = Path(path).expanduser().resolve()
    if not root.is_dir():
        raise FileNotFoundError(f"image folder not found: {root}")
    paths = list_images(root)
    if not paths:
        raise FileNotFoundError(f"no images ({', '.join(IMAGE_SUFFIXES)}) under {root}")
    ids = [p.relative_to(root).as_posix() for p in paths]
    sha = manifest(root.name, f"folder:{root}", ids, paths, "unknown")
    return ImageSet(tuple(ids), tuple(paths), sha)


def resize_center_crop(im: Image.Image, size: int) -> Image.Image:
    """Shorter side to ``size`` (bicubic, antialiased by Pillow), then a centred square crop."""
    w, h = im.size
    scale = size / min(w, h)
    nw, nh = max(size, round(w * scale)), max(size, round(h * scale))
    im = im.resize((nw, nh), Image.Resampling.BICUBIC)
    left, top = (nw - size) // 2, (nh - size) // 2
    return im.crop((left, top, left + size, top + size))
