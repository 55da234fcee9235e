"""The embedded mini set through the same loader (skipped where this checkout lacks it)."""

from __future__ import annotations

import pandas as pd
import pytest
import torch

from evalkit.benchmarks.tokbench.data import MINI_ROOT

pytestmark = pytest.mark.skipif(
    not (MINI_ROOT / "annotations").is_dir(), reason=f"mini TokBench not built at {MINI_ROOT}"
)


def test_mini_defaults_to_offline_judges_and_reads_the_originals(rapidocr_judge, dlib_judge):
    from evalkit.benchmarks.tokbench.benchmark import build

    b = build("tokbench-mini", resolution=1024)
    assert b.spec.options["ocr_judge"] == "rapidocr" and b.spec.options["face_judge"] == "dlib"
    assert b.spec.dataset.sha256
    assert "text" in b.kinds
    b.judges.update(ocr=rapidocr_judge, face=dlib_judge)
    items = [b.load(i) for i in range(3)]
    out = torch.stack([it["input"] for it in items])
    rec = pd.DataFrame(b.score(items, out).records)
    assert len(rec) == sum(len(b.samples[i].instances) for i in range(3))
    # (No accuracy threshold: the words were selected for rapidocr reading them, see issue 8.)
    assert rec["t_acc"].between(0, 1).all() and set(rec["judge"]) == {"rapidocr"}


def test_describe_judges_without_loading() -> None:
    from evalkit.benchmarks.tokbench.benchmark import build

    b = build("tokbench-mini")
    judges = b.describe_judges()
    assert judges["rapidocr"].startswith("PP-OCR") or ".onnx:" in judges["rapidocr"]
