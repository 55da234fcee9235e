"""Pluggable TokBench judges: OCR (parseq, easyocr, rapidocr) and face (antelopev2, dlib).

Backends are imported only when a judge is built. ``check_judge`` looks for weights without
loading anything, so a run stops before the first batch with one actionable message.
"""

from __future__ import annotations

import importlib
from typing import Any

from evalkit.benchmarks.tokbench.judges.base import FaceJudge, Judge, OCRJudge, cosine
from evalkit.cards import load_card

OCR_JUDGES: dict[str, str] = {
    "parseq": "evalkit.benchmarks.tokbench.judges.ocr:ParseqJudge",
    "easyocr": "evalkit.benchmarks.tokbench.judges.ocr:EasyOCRJudge",
    "rapidocr": "evalkit.benchmarks.tokbench.judges.ocr:RapidOCRJudge",
}
FACE_JUDGES: dict[str, str] = {
    "antelopev2": "evalkit.benchmarks.tokbench.judges.face:AntelopeV2Judge",
    "dlib": "evalkit.benchmarks.tokbench.judges.face:DlibJudge",
}
# Official judges (tokbench card); the embedded set's offline defaults (tokbench-mini card).
OFFICIAL = {k: str(v["official"]) for k, v in load_card("tokbench")["judges"].items()}
OFFLINE = {k: str(v["default"]) for k, v in load_card("tokbench-mini")["judges"].items()}


def _cls(kind: str, name: str) -> Any:
    table = OCR_JUDGES if kind == "ocr" else FACE_JUDGES
    if name not in table:
        raise ValueError(f"unknown {kind} judge {name!r}; choose one of {sorted(table)}")
    module, attr = table[name].split(":")
    return getattr(importlib.import_module(module), attr)


def check_judge(kind: str, name: str) -> None:
    """Raise MissingAssetError (how to get the weights, which offline judge to use) if absent."""
    _cls(kind, name).check()


def weights_of(kind: str, name: str) -> str:
    """``file:sha256`` of a judge's weights without loading it (for resumed runs)."""
    from evalkit.filehash import file_sha256

    paths = _cls(kind, name).weight_paths()
    return ",".join(f"{p.name}:{file_sha256(str(p))}" for p in paths) or "none"


def build_judge(kind: str, name: str, device: str = "cpu", **options: Any) -> Judge:
    """Load judge ``name`` of ``kind`` ('ocr' | 'face') on ``device``."""
    return _cls(kind, name)(device=device, **options)


__all__ = [
    "FACE_JUDGES",
    "OCR_JUDGES",
    "OFFICIAL",
    "OFFLINE",
    "FaceJudge",
    "Judge",
    "OCRJudge",
    "build_judge",
    "check_judge",
    "weights_of",
    "cosine",
]
