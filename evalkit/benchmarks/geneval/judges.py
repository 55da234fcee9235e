"""Which detector and colour judge a GenEval run uses, found before any work starts.

Official: Mask2Former Swin-S COCO (mmdet 2.x checkpoint) through mmdet 2.x when installed, else
the same checkpoint through transformers (``m2f-hf``); colour by open_clip ViT-L-14 ``openai``.
Offline stand-ins are chosen explicitly (``-O detector=yolox-nano -O colour=pixels``) and make
rows not comparable. Missing official weights stop the run with one message; nothing falls back.
"""

from __future__ import annotations

import importlib.util
from typing import Any

from evalkit.store import MissingAssetError

DETECTORS = ("auto", "mmdet", "m2f-hf", "yolox-nano", "hf-swin-small-coco")
OFFICIAL_DETECTORS = ("mmdet", "m2f-hf")  # the official checkpoint, two runtimes
# Whether a runtime's rows are comparable is its parity record in the card ([[judges.detector.
# parity]], read by evalkit.flags); m2f-hf's parity with mmdet is measured by
# scripts/check_geneval_detector.py on a GPU machine.
COLOURS = ("clip", "pixels")
OFFLINE_HINT = (
    "to judge offline with labelled stand-ins (rows not comparable), add:\n"
    "  -O detector=yolox-nano -O colour=pixels"
)


def mmdet2_available() -> bool:
    """mmdet 2.x (the official runtime) importable, without importing it."""
    if importlib.util.find_spec("mmdet") is None:
        return False
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("mmdet").startswith("2.")
    except PackageNotFoundError:
        return False


def resolve_detector(name: str) -> str:
    if name not in DETECTORS:
        raise ValueError(f"geneval: detector must be one of {list(DETECTORS)}, not {name!r}")
    if name == "auto":
        return "mmdet" if mmdet2_available() else "m2f-hf"
    if name == "mmdet" and not mmdet2_available():
        raise MissingAssetError(
            "geneval: -O detector=mmdet needs mmdet 2.x and mmcv-full "
            "(not found); -O detector=m2f-hf runs the same checkpoint "
            "through transformers"
        )
    return name


def check(detector: str, colour: str) -> None:
    """Resolve every judge weight now; one message names all that are missing."""
    if colour not in COLOURS:
        raise ValueError(f"geneval: colour must be one of {list(COLOURS)}, not {colour!r}")
    problems = []
    for label, weights in _weights(detector, colour):
        from evalkit.store import resolve

        try:
            resolve(weights, label)
        except MissingAssetError as exc:
            problems.append(str(exc))
    if problems:
        raise MissingAssetError(
            "GenEval's judges are missing:\n\n" + "\n\n".join(problems) + "\n\n" + OFFLINE_HINT
        )


def _weights(detector: str, colour: str) -> list[tuple[str, Any]]:
    out = []
    if detector in OFFICIAL_DETECTORS:
        from evalkit.judges.mask2former import CHECKPOINT

        out.append(
            ("GenEval's official detector (Mask2Former Swin-S COCO, mmdet checkpoint)", CHECKPOINT)
        )
    elif detector == "yolox-nano":
        from evalkit.judges.yolox import WEIGHTS

        out.append(("YOLOX-Nano detector weights (-O detector=yolox-nano)", WEIGHTS))
    elif detector == "hf-swin-small-coco":
        from evalkit.judges.mask2former import HF_ALTERNATIVE

        out.append(("transformers' Mask2Former Swin-S COCO (another training run)", HF_ALTERNATIVE))
    if colour == "clip":
        from evalkit.judges.clip_colour import WEIGHTS as CLIP_WEIGHTS

        out.append(("GenEval's colour judge (open_clip ViT-L-14, openai)", CLIP_WEIGHTS))
    return out


def make_detector(detector: str, device: str) -> Any:
    if detector == "yolox-nano":
        from evalkit.judges.yolox import YoloxNano

        return YoloxNano()
    if detector == "m2f-hf":
        from evalkit.judges.mask2former import Mask2FormerOfficial

        return Mask2FormerOfficial(device=device)
    if detector == "mmdet":
        from evalkit.judges.mask2former import MmdetMask2Former

        return MmdetMask2Former(device=device)
    raise NotImplementedError(
        f"geneval: -O detector={detector} is not implemented in this evalkit version; "
        + OFFLINE_HINT.replace("\n", " ")
    )


def make_colour(colour: str, device: str) -> Any:
    if colour == "pixels":
        from evalkit.judges.colour import PixelColour

        return PixelColour()
    from evalkit.judges.clip_colour import ClipColour

    return ClipColour(device=device)
