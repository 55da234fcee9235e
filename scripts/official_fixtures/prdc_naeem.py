"""Density and coverage (and precision/recall) from the authors' ``prdc`` package (clovaai,
Naeem et al. 2020) on seeded random features, at k = 5 and k = 3, plus a hand-made tie case.

    <python with prdc> scripts/record_official_fixtures.py prdc_naeem
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from official_fixtures.common import FIXTURES, versions

OUT = FIXTURES / "prdc_naeem.json"
#: k = 1: every reference's radius is 2; the sample (0, 2) lies exactly on (0, 0)'s ball.
TIE_REAL = [[0.0, 0.0], [2.0, 0.0], [10.0, 0.0], [12.0, 0.0]]
TIE_FAKE = [[0.0, 2.0], [1.0, 0.0], [20.0, 0.0]]


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--seed", type=int, default=0)


def features(seed: int) -> tuple:
    """Seeded float32 features: 500 references and 400 samples, 32-d, overlapping."""
    import numpy as np

    rng = np.random.default_rng(seed)
    real = (rng.standard_normal((500, 32)) * 0.6 + 0.4).astype(np.float32)
    fake = (rng.standard_normal((400, 32)) * 0.65 + 0.5).astype(np.float32)
    return real, fake


def record(a: argparse.Namespace) -> Path:
    import numpy as np
    from prdc import compute_prdc

    real, fake = features(a.seed)
    cases = {}
    for k in (5, 3):
        got = compute_prdc(real_features=real, fake_features=fake, nearest_k=k)
        cases[f"k{k}"] = {name: float(v) for name, v in got.items()}
    tie = compute_prdc(
        real_features=np.array(TIE_REAL, np.float32),
        fake_features=np.array(TIE_FAKE, np.float32),
        nearest_k=1,
    )
    cases["tie_k1"] = {name: float(v) for name, v in tie.items()}
    doc = {
        "_about": (
            "prdc.compute_prdc(real, fake, nearest_k) of the PyPI package prdc (clovaai, the "
            "authors' code for Naeem et al. 2020), on features(seed) of "
            "scripts/official_fixtures/prdc_naeem.py (k5, k3) and on TIE_REAL / TIE_FAKE there "
            "(tie_k1: a sample exactly on a reference ball's boundary)."
        ),
        "source": "PyPI prdc (https://github.com/clovaai/generative-evaluation-prdc)",
        "command": "<python with prdc> scripts/record_official_fixtures.py prdc_naeem",
        "seed": a.seed,
        "cases": cases,
        "versions": versions("prdc", "scikit-learn", "numpy"),
    }
    OUT.write_text(json.dumps(doc, indent=1) + "\n")
    return OUT
