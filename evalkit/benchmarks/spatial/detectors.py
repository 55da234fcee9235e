"""Detector choice for the spatial benchmarks: the official one per rule, or a labelled stand-in.

``owlvit`` (VISOR's), ``unidet`` (T2I-CompBench's), ``mask2former`` (GenEval's) and the offline
``yolox-nano``. Without the official detector a run stops with one message that says what is
missing and suggests ``-O detector=yolox-nano`` (rows then comparable = false).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from evalkit.judges.detection import Detections, check_detections

CHOICES = ("owlvit", "yolox-nano", "unidet", "mask2former")
OFFLINE_HINT = (
    "run offline with the labelled stand-in detector: -O detector=yolox-nano "
    "(rows are then not comparable with published numbers)"
)


def check_available(name: str, benchmark: str) -> None:
    """Raise MissingAssetError (one message) when detector ``name`` cannot run here."""
    from evalkit.store import MissingAssetError

    if name not in CHOICES:
        raise ValueError(f"{benchmark}: unknown detector {name!r}; choose one of {CHOICES}")
    if name == "owlvit":
        try:
            import transformers  # noqa: F401
        except ImportError:
            raise MissingAssetError(
                "the OWL-ViT detector needs transformers: pip install "
                f"'evalkit[spatial]'; or {OFFLINE_HINT}"
            ) from None
        from evalkit.judges.owlvit import weights_dir

        weights_dir()
    elif name == "yolox-nano":
        from evalkit.judges.yolox import WEIGHTS
        from evalkit.store import resolve

        resolve(WEIGHTS, "YOLOX-Nano detector weights (-O detector=yolox-nano)")
    elif name == "unidet":
        raise MissingAssetError(
            f"{benchmark}: the official detector UniDet (Unified_learned_OCIM_RS200_6x+2x.pth, "
            "HF shikunl/prismer expert_weights/, run through detectron2 with T2I-CompBench's "
            "UniDet code) is not available in evalkit: no adapter is implemented, since "
            f"detectron2 does not install here.\nTo score anyway, {OFFLINE_HINT}, or "
            "-O detector=owlvit"
        )
    elif name == "mask2former":  # GenEval's judge: the official mmdet checkpoint via transformers
        from evalkit.judges.mask2former import CHECKPOINT
        from evalkit.store import resolve

        try:
            resolve(CHECKPOINT, "GenEval's official detector (Mask2Former Swin-S checkpoint)")
        except MissingAssetError as exc:
            message = f"{benchmark}: {exc}\nTo score anyway, {OFFLINE_HINT}"
            raise MissingAssetError(message) from None


def vocabulary(name: str) -> frozenset[str] | None:
    """Class names detector ``name`` can report; None for open vocabulary (OWL-ViT takes any
    text query) and for UniDet, whose label space is not shipped here."""
    if name in ("yolox-nano", "mask2former"):  # COCO-80 with COCO's (GenEval's) spellings
        from evalkit.judges.yolox import COCO80

        return frozenset(COCO80)
    return None


def build(name: str, device: str = "cpu") -> Any:
    if name == "owlvit":
        from evalkit.judges.owlvit import OwlVit

        return OwlVit(device=device)
    if name == "yolox-nano":
        from evalkit.judges.yolox import YoloxNano

        return YoloxNano()
    if name == "mask2former":  # pragma: no cover - needs the official checkpoint
        from evalkit.judges.mask2former import Mask2FormerOfficial

        return Mask2FormerOfficial(device=device)
    raise ValueError(f"detector {name!r} cannot be built here")


def detect(
    detector: Any,
    images: Sequence[np.ndarray],
    queries: Sequence[Sequence[str]],
    ids: Sequence[str],
) -> list[Detections]:
    """Run any detector (open-vocabulary ones get the objects as queries); check the output."""
    if hasattr(detector, "detect_queries"):
        found = detector.detect_queries(images, queries)
    else:
        found = detector.detect(images)
    if len(found) != len(images):
        raise ValueError(f"detector returned {len(found)} results for {len(images)} images")
    return [check_detections(dict(d), f"image {sid!r}") for d, sid in zip(found, ids)]
