"""What a TokBench judge is: a named model with a weights hash, batched over many images' crops."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from evalkit.filehash import file_sha256

OFFLINE_OCR_HINT = "or choose an offline OCR judge: ocr_judge='rapidocr' or 'easyocr'"
OFFLINE_FACE_HINT = "or choose the offline face judge: face_judge='dlib'"


class Judge(ABC):
    """A pluggable judge; ``name`` and ``weights`` (sha256 ids) go into every record."""

    name: str
    kind: str  # "ocr" | "face"
    weights_files: tuple[Path, ...] = ()

    @property
    def weights(self) -> str:
        """The sha256 of every weights file, ``file:sha256`` comma-joined."""
        if not self.weights_files:
            return "none"
        return ",".join(f"{p.name}:{file_sha256(str(p))}" for p in self.weights_files)

    def describe(self) -> str:
        return f"{self.name} ({self.weights})"


class OCRJudge(Judge):
    """Reads text from crops; many images' crops go through in one call."""

    kind = "ocr"

    @abstractmethod
    def read(
        self, crops: Sequence[np.ndarray], max_lengths: Sequence[int | None] | None = None
    ) -> list[str]:
        """One string per RGB uint8 HWC crop; an empty crop reads as ''.

        ``max_lengths``: per crop, the longest GT word of its batch in the official run
        (``data.official_batch_lengths``); only PARSeq's official decoding uses it.
        """


class FaceJudge(Judge):
    """Embeds faces aligned from ground-truth 5-point landmarks."""

    kind = "face"
    chip_size: int

    @abstractmethod
    def align(self, img: np.ndarray, kps: Sequence[Sequence[float]]) -> np.ndarray:
        """The aligned chip (RGB uint8) of the face whose 5 landmarks are ``kps``."""

    @abstractmethod
    def embed(self, chips: Sequence[np.ndarray]) -> np.ndarray:
        """(N, D) float embeddings of aligned chips, in one batched pass."""


def cosine(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Row-wise cosine similarity in float64."""
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    return (a * b).sum(-1) / (np.linalg.norm(a, axis=-1) * np.linalg.norm(b, axis=-1))
