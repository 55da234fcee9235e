"""GenEval (djghosh13/geneval): object composition of text-to-image generators.

The per-image rules (:func:`score_detections`) are model-free and numpy-only; the benchmark
(``evalkit.benchmarks.geneval.benchmark``) wires detectors, colour judges and the runner.
"""

from evalkit.benchmarks.geneval.rules import (
    COLORS,
    DEFAULTS,
    TAGS,
    Verdict,
    evaluate,
    relative_position,
    score_detections,
)

__all__ = [
    "COLORS",
    "DEFAULTS",
    "TAGS",
    "Verdict",
    "evaluate",
    "relative_position",
    "score_detections",
]
