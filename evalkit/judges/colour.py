"""Colour judges for GenEval-style checks: the interface, the crop rule, and the offline namer.

A colour judge names one of GenEval's 10 colours for each object crop of a whole batch at once
(the official code starts a fresh 4-worker DataLoader per check). The crop follows the official:
the object composited through its mask onto #999 grey when a mask exists, then cropped to its box
with PIL's rounding (``Image.crop`` rounds each coordinate to the nearest integer).

``pixels`` (offline, labelled, never comparable): the median of the object's pixels in CIELAB,
nearest of 10 colour prototypes (CIE76). With a mask the object's pixels are the mask's pixels in
the box; without one (YOLOX gives boxes only) the central half of the box (25 % margins) stands
in for the object. It is not CLIP: it has no notion of the class, so a "white" plate on a brown
table or a dark shadow can pull the median, and CLIP's learned naming (e.g. of "orange" vs
"brown") differs from nearest-prototype distances.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

import numpy as np

BACKGROUND = (153, 153, 153)  # "#999"
# GenEval's colour names in the official order (equal to geneval.rules.COLORS; a test checks it)
COLORS = ("red", "orange", "yellow", "green", "blue", "purple", "pink", "brown", "black", "white")

# sRGB prototypes of the 10 colour names (CSS-like, chosen by hand; documented in the card)
PROTOTYPES_RGB = {
    "red": (200, 30, 35),
    "orange": (245, 135, 20),
    "yellow": (240, 215, 40),
    "green": (50, 150, 60),
    "blue": (35, 85, 200),
    "purple": (125, 55, 165),
    "pink": (240, 135, 180),
    "brown": (120, 75, 40),
    "black": (25, 25, 25),
    "white": (240, 240, 240),
}


@dataclass(frozen=True)
class ColourCrop:
    """One object to name: its image (uint8 HWC RGB), class, box row and optional mask."""

    image: np.ndarray
    classname: str
    box: np.ndarray  # [x1, y1, x2, y2, score]
    mask: np.ndarray | None = None  # bool (H, W), aligned with the image


@dataclass(frozen=True)
class ColourInfo:
    id: str
    weights: str
    official: bool


@runtime_checkable
class ColourJudge(Protocol):
    info: ColourInfo

    def name(self, crops: Sequence[ColourCrop]) -> list[str]: ...


def crop_box(box: np.ndarray, width: int, height: int) -> tuple[int, int, int, int]:
    """PIL's crop rectangle for a float box (round half to even, as ``round``), inside the image."""
    x1, y1, x2, y2 = (int(round(float(v))) for v in box[:4])
    x1, x2 = max(0, min(x1, width)), max(0, min(x2, width))
    y1, y2 = max(0, min(y1, height)), max(0, min(y2, height))
    return x1, y1, x2, y2


def composite(crop: ColourCrop) -> np.ndarray:
    """The official colour input: object through its mask on #999, cropped to its box.

    PIL's own crop, so rounding and the black padding of boxes that leave the image are the
    official's.
    """
    from PIL import Image

    image = crop.image
    if crop.mask is not None:
        if crop.mask.shape != image.shape[:2]:
            raise ValueError(f"mask shape {crop.mask.shape} differs from image {image.shape[:2]}")
        image = np.where(crop.mask[..., None], image, np.array(BACKGROUND, np.uint8))
    box = tuple(float(v) for v in crop.box[:4])
    return np.asarray(Image.fromarray(image).crop(box))


def _srgb_to_lab(rgb: np.ndarray) -> np.ndarray:
    from skimage.color import rgb2lab

    return rgb2lab(np.asarray(rgb, np.float64).reshape(-1, 1, 3) / 255.0).reshape(-1, 3)


_PROTOTYPES_LAB = _srgb_to_lab(np.array([PROTOTYPES_RGB[c] for c in COLORS]))


class PixelColour:
    """Offline colour namer: CIELAB median of the object's pixels, nearest prototype."""

    info = ColourInfo("pixels", "none (CIELAB median, 10 hand-set prototypes)", official=False)

    def object_pixels(self, crop: ColourCrop) -> np.ndarray:
        """(n, 3) uint8 pixels standing for the object (mask inside the box, else box centre)."""
        h, w = crop.image.shape[:2]
        x1, y1, x2, y2 = crop_box(crop.box, w, h)
        if crop.mask is not None:
            region = crop.mask[y1:y2, x1:x2]
            pixels = crop.image[y1:y2, x1:x2][region]
            if len(pixels):
                return pixels
        bw, bh = x2 - x1, y2 - y1
        cx1, cy1 = x1 + bw // 4, y1 + bh // 4
        cx2, cy2 = max(cx1 + 1, x2 - bw // 4), max(cy1 + 1, y2 - bh // 4)
        pixels = crop.image[cy1:cy2, cx1:cx2].reshape(-1, 3)
        if not len(pixels):  # a box outside the image: nothing to look at
            raise ValueError(
                f"box {crop.box[:4].tolist()} of {crop.classname!r} lies outside the {w}x{h} image"
            )
        return pixels

    def name(self, crops: Sequence[ColourCrop]) -> list[str]:
        if not crops:
            return []
        medians = np.stack([np.median(_srgb_to_lab(self.object_pixels(c)), axis=0) for c in crops])
        dist = ((medians[:, None, :] - _PROTOTYPES_LAB[None]) ** 2).sum(-1)
        return [COLORS[i] for i in dist.argmin(1)]
