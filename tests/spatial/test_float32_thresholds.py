"""Detector scores are compared with each rule's threshold in the detector's dtype (float32), as
every official rule does: a score of exactly float32(0.1) is not above VISOR's 0.1."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from typer.testing import CliRunner

from evalkit.benchmarks.spatial import detectors, prompts, rules
from evalkit.benchmarks.spatial.geneval_bridge import position_metadata, position_verdict
from evalkit.cli import app
from evalkit.judges.detection import check_detections
from tests.spatial import doubles
from tests.support import REPO

FIXTURE = REPO / "tests" / "fixtures" / "visor_float32_official.json"
F32 = np.float32


def test_visor_matches_the_official_notebook_at_float32_boundaries() -> None:
    doc = json.loads(FIXTURE.read_text())
    for case in doc["cases"]:
        dets = {k: np.asarray(v, F32) for k, v in case["detections"].items()}
        got = rules.visor_image(case["obj1"], case["obj2"], case["relation"], dets)
        assert got == (case["recall"], case["sra"]), case
    assert any(c["recall"] < 2 for c in doc["cases"] if 0.1 < min(_scores(c)) < 0.10000001)


def _scores(case: dict) -> list[float]:
    return [b[4] for boxes in case["detections"].values() for b in boxes]


@pytest.mark.parametrize("threshold", [rules.VISOR_THRESHOLD, rules.T2I_THRESHOLD, 0.3])
def test_kept_boxes_compare_like_a_float32_tensor(threshold: float) -> None:
    """detectron2 (UniDet's runtime) and OWL-ViT's post-processing compare float32 tensors with
    a Python float: float32 arithmetic."""
    at = F32(threshold)
    scores = np.array([at, np.nextafter(at, F32(1)), np.nextafter(at, F32(0)), F32(0.9)], F32)
    boxes = np.column_stack([np.zeros((4, 2)), np.full((4, 2), 5.0), scores]).astype(F32)
    kept = rules.kept_boxes({"dog": boxes}, "dog", threshold)
    expected = (torch.from_numpy(scores) > threshold).numpy()
    assert kept[:, 4].tolist() == scores[expected].astype(np.float64).tolist()
    assert kept.dtype == np.float64 and len(kept) == 2


def test_geneval_position_bridge_keeps_the_detector_dtype() -> None:
    meta = position_metadata("dog", "right of", "cat")
    dets = {
        "cat": np.array([[0, 0, 10, 10, 0.9]], F32),
        "dog": np.array([[30, 0, 40, 10, F32(0.3)]], F32),
    }
    assert not position_verdict(meta, check_detections(dets, "image")).correct
    dets["dog"][0, 4] = np.nextafter(F32(0.3), F32(1))
    assert position_verdict(meta, check_detections(dets, "image")).correct


def test_check_detections_keeps_float32() -> None:
    dets = check_detections({"dog": np.array([[0, 0, 1, 1, 0.5]], F32)}, "image")
    assert dets["dog"].dtype == F32
    ints = check_detections({"dog": np.array([[0, 0, 1, 1, 1]])}, "image")
    assert ints["dog"].dtype == np.float64


class Float32Detector(doubles.ColourDetector):
    """The colour double with float32 scores of exactly float32(0.1), as OWL-ViT returns them."""

    def detect_queries(self, images, queries):  # type: ignore[no-untyped-def]
        out = super().detect_queries(images, queries)
        for dets in out:
            for name, arr in dets.items():
                arr = arr.astype(F32)
                arr[:, 4] = F32(0.1)
                dets[name] = arr
        return out


def test_visor_run_with_float32_scores_at_the_threshold(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from PIL import Image

    monkeypatch.setattr(detectors, "check_available", lambda name, bench: None)
    monkeypatch.setattr(detectors, "build", lambda name, device="cpu": Float32Detector())
    sr2d = prompts.sr2d()
    folder = tmp_path / "imgs"
    folder.mkdir()
    for k in range(4):
        Image.fromarray(doubles.paint(sr2d[0].relation, True)).save(folder / f"0_{k}.png")
    result = CliRunner().invoke(
        app,
        [
            *["run", "visor", "--model", "samples:x", "-O", f"samples={folder}"],
            *["-O", "allow_missing=true", "--out", str(tmp_path / "out"), "--no-leaderboard"],
            "--json",
        ],
    )
    assert result.exit_code == 0, result.output
    rows = {r["metric"]: r["value"] for r in json.loads(result.stdout)}
    assert rows["oa"] == 0.0  # nothing above 0.1 in float32 (a float64 cast found everything)
