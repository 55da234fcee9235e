"""DetailMaster (arXiv 2505.16915): long-prompt fidelity judged by a VLM, a detector and BLIP.

``evaluate(records, images, judge, protocol="official", mini=False)`` is the pure entry point
(no torch); the benchmarks ``detailmaster`` and ``detailmaster-mini`` live in ``.benchmark``.
"""

from evalkit.benchmarks.detailmaster.engine import (
    Judge,
    Judgement,
    evaluate,
    evaluate_units,
    image_key,
    judgements,
)
from evalkit.benchmarks.detailmaster.protocol import MINI_KEYS, OFFICIAL_KEYS, parse_box

__all__ = [
    "Judge",
    "evaluate",
    "evaluate_units",
    "image_key",
    "judgements",
    "Judgement",
    "parse_box",
    "OFFICIAL_KEYS",
    "MINI_KEYS",
]
