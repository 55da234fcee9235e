"""The detector interface shared by GenEval, VISOR, T2I-CompBench and spatial-compare.

A detector turns RGB images into per-class boxes in each image's own pixel frame. Rules apply
their own score thresholds, so a detector returns everything above a low floor, in its raw order.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

import numpy as np

#: ``{class name: float array (n, 5) of [x1, y1, x2, y2, score]}``; boxless classes may be absent.
Detections = dict[str, np.ndarray]


@dataclass(frozen=True)
class DetectorInfo:
    """What a detector is, for the rows: id, weights identity, whether it is the official one."""

    id: str
    weights: str
    official: bool
    masks: bool = False
    notes: str = ""
    extra: dict[str, str] = field(default_factory=dict)


@runtime_checkable
class Detector(Protocol):
    """Batched detection over uint8 HWC RGB images (any sizes)."""

    info: DetectorInfo

    def detect(self, images: Sequence[np.ndarray]) -> list[Detections]: ...


def empty_boxes() -> np.ndarray:
    return np.zeros((0, 5), dtype=np.float64)


def check_detections(dets: Detections, where: str) -> Detections:
    """Reject NaN/Inf scores or coordinates with a message naming the image (``where``).

    Float arrays keep their dtype (a detector's float32 scores are compared with thresholds in
    float32, as the official code does); other arrays become float64.
    """
    for name, arr in dets.items():
        arr = np.asarray(arr)
        if not np.issubdtype(arr.dtype, np.floating):
            arr = arr.astype(np.float64)
        if arr.ndim != 2 or arr.shape[1] != 5:
            raise ValueError(
                f"{where}: detector gave boxes of shape {arr.shape} for {name!r}; "
                "expected (n, 5) [x1, y1, x2, y2, score]"
            )
        if not np.isfinite(arr).all():
            raise ValueError(f"{where}: detector gave NaN/Inf boxes or scores for {name!r}")
        dets[name] = arr
    return dets
