"""YOLOX-Nano: decoding on synthetic outputs (closed form) and real detections on real photos."""

from __future__ import annotations

import numpy as np
import pytest

from evalkit.judges import yolox
from tests.support import needs_store


def test_nms_keeps_best_of_overlapping_and_separate_boxes() -> None:
    boxes = np.array([[0, 0, 10, 10], [1, 1, 10, 10], [20, 20, 30, 30]], dtype=np.float64)
    scores = np.array([0.5, 0.9, 0.7])
    assert yolox.nms(boxes, scores, 0.45) == [1, 2]
    assert yolox.nms(boxes, scores, 0.99) == [1, 2, 0]


def test_decode_places_one_cell_at_its_grid_position() -> None:
    raw = np.full((3549, 85), -50.0, dtype=np.float32)
    raw[:, 4] = 0.0  # objectness 0: nothing passes
    # stride-8 grid is 52 x 52: cell (row 3, col 5) is index 3 * 52 + 5.
    cell = 3 * 52 + 5
    raw[cell, :4] = [0.5, 0.5, np.log(2.0), np.log(4.0)]
    raw[cell, 4] = 0.8
    raw[cell, 5 + 15] = 0.5  # class 15 = cat
    dets = yolox.decode(raw, scale=0.5)
    assert list(dets) == ["cat"]
    cx, cy, w, h = (5.5 * 8) / 0.5, (3.5 * 8) / 0.5, 16 / 0.5, 32 / 0.5
    np.testing.assert_allclose(
        dets["cat"][0], [cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2, 0.4], rtol=1e-6
    )


def test_letterbox_keeps_aspect_and_pads_grey() -> None:
    image = np.zeros((100, 200, 3), dtype=np.uint8)
    blob, scale = yolox.letterbox(image)
    assert blob.shape == (1, 3, 416, 416) and scale == pytest.approx(2.08)
    assert blob[0, :, 300, 0].tolist() == [114.0] * 3 and blob[0, :, 10, 10].tolist() == [0.0] * 3


@needs_store
def test_real_photos_detect_their_objects() -> None:
    pytest.importorskip("onnxruntime")
    from skimage import data

    detector = yolox.YoloxNano()
    found = detector.detect([data.chelsea(), data.coffee(), data.astronaut()])
    best = [{k: float(v[:, 4].max()) for k, v in d.items()} for d in found]
    assert best[0].get("cat", 0) > 0.5
    assert best[1].get("cup", 0) > 0.5
    assert best[2].get("person", 0) > 0.5
    h, w = data.astronaut().shape[:2]
    person = found[2]["person"][0]
    assert 0 <= person[0] < person[2] <= w + 1 and 0 <= person[1] < person[3] <= h + 1
