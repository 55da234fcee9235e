"""Protocol geometry, crops, face alignment, judges (batched == one at a time) and the table."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from evalkit.benchmarks.tokbench.geometry import (
    crop_text,
    dlib_template,
    similarity_transform,
)
from evalkit.benchmarks.tokbench.protocol import letterbox, restore, to_tensor, to_uint8
from evalkit.tables.tokbench import render_table
from tests.tokbench.conftest import ASTRONAUT_KPS, render_words

FACES = Path(__file__).resolve().parents[2].parent / "shared/offline/images/faces"


@pytest.mark.parametrize("size", [(960, 1280), (1280, 960), (333, 77), (256, 256), (50, 3000)])
@pytest.mark.parametrize("target", [256, 512, 1024])
def test_letterbox_geometry(size: tuple[int, int], target: int) -> None:
    w, h = size
    img = Image.new("RGB", size, (200, 100, 50))
    canvas, meta = letterbox(img, target)
    assert canvas.size == (target, target)
    scale = min(target / w, target / h)
    assert meta.scaled_size == (math.ceil(w * scale), math.ceil(h * scale))
    assert max(meta.scaled_size) == target
    x, y = meta.paste_position
    assert (x, y) == ((target - meta.scaled_size[0]) // 2, (target - meta.scaled_size[1]) // 2)
    arr = np.asarray(canvas)
    if x > 0:
        assert arr[:, :x].max() == 0  # black padding
    if y > 0:
        assert arr[:y].max() == 0
    back = restore(canvas, meta)
    assert back.size == size
    assert np.abs(np.asarray(back).astype(int) - [200, 100, 50]).max() <= 2


def test_uint8_quantisation_matches_official_rule() -> None:
    import torch

    x = torch.tensor([[[0.0, 1.0, 0.5, float("nan"), 1.7, -0.2, 0.498]]]).repeat(3, 1, 1)
    assert to_uint8(x)[0, :, 0].tolist() == [0, 255, 128, 128, 255, 0, 127]
    img = Image.fromarray((np.arange(48).reshape(4, 4, 3) * 5).astype(np.uint8))
    assert np.array_equal(to_uint8(to_tensor(img)), np.asarray(img))


def test_crop_text_docTR_semantics() -> None:
    img = np.arange(40 * 60 * 3, dtype=np.int64).reshape(40, 60, 3).astype(np.uint8)
    assert np.array_equal(crop_text(img, [5.9, 3.2, 20.7, 11.0]), img[3:11, 5:20])  # truncation
    poly = crop_text(img, [[5, 3], [25, 3], [25, 13], [5, 13]])
    assert poly.shape == (10, 20, 3)  # int(|p0p1|) x int(|p1p2|)
    assert crop_text(img, [10, 10, 10, 20]).shape[1] == 0  # empty, still returned


def test_similarity_transform_matches_skimage() -> None:
    from skimage.transform import SimilarityTransform

    rng = np.random.default_rng(1)
    for _ in range(3):
        src = rng.uniform(0, 400, (5, 2))
        ref = SimilarityTransform()
        ref.estimate(src, dlib_template())
        assert np.abs(ref.params[:2] - similarity_transform(src, dlib_template())).max() < 1e-9


def test_dlib_template_is_a_face() -> None:
    t = dlib_template()
    assert t[0, 0] < t[2, 0] < t[1, 0]  # left eye, nose, right eye
    assert t[0, 1] < t[2, 1] < t[3, 1]  # eyes above nose above mouth
    assert (t > 0).all() and (t < 150).all()


def _crops() -> list[np.ndarray]:
    img, anns = render_words()
    arr = np.asarray(img)
    return [crop_text(arr, a["bbox"]) for a in anns] + [np.zeros((0, 4, 3), np.uint8)]


def test_rapidocr_batched_equals_single_and_public_api(rapidocr_judge) -> None:
    import cv2

    crops = _crops()
    batched = rapidocr_judge.read(crops)
    assert batched[:4] == ["Street", "Coffee", "Market", "ROAD"] and batched[4] == ""
    assert batched == [rapidocr_judge.read([c])[0] for c in crops]
    public = [
        str(
            rapidocr_judge.engine(
                cv2.cvtColor(c, cv2.COLOR_RGB2BGR), use_det=False, use_cls=False
            ).txts[0]
        )
        for c in crops[:4]
    ]
    assert public == batched[:4]


def test_easyocr_batched_equals_single() -> None:
    from evalkit.benchmarks.tokbench.judges import build_judge

    judge = build_judge("ocr", "easyocr")
    crops = _crops()
    batched = judge.read(crops)
    assert batched == [judge.read([c])[0] for c in crops]
    assert (
        sum(p == w for p, w in zip(batched, ["Street", "Coffee", "Market", "ROAD"], strict=False))
        >= 3
    )
    assert judge.weights.startswith("english_g2.pth:")


def test_parseq_plumbing_random_weights() -> None:
    from evalkit.benchmarks.tokbench.judges.ocr import ParseqJudge

    judge = ParseqJudge(random_weights=True, batch_size=2)
    x = judge.preprocess(np.zeros((10, 100, 3), np.uint8))
    assert tuple(x.shape) == (1, 3, 32, 128)
    crops = _crops()[2:]  # few crops: random weights decode to the maximum length (slow on CPU)
    batched = judge.read(crops)
    assert len(batched) == len(crops) and batched[-1] == ""
    assert batched == [judge.read([c])[0] for c in crops]  # fixed-size inputs: batch invariant
    assert judge.name == "parseq-random"


def test_dlib_alignment_and_identity(dlib_judge) -> None:
    from skimage import data

    from evalkit.benchmarks.tokbench.judges import cosine

    img = data.astronaut()
    chip = dlib_judge.align(img, ASTRONAUT_KPS)
    assert chip.shape == (150, 150, 3)
    # the same face moved and rotated, with its landmarks moved alike, embeds the same
    m = np.array([[0.9, -0.2, 40.0], [0.2, 0.9, -10.0]])
    import cv2

    moved = cv2.warpAffine(img, m, (600, 600))
    kps = np.c_[np.array(ASTRONAUT_KPS), np.ones(5)] @ m.T
    e = dlib_judge.embed([chip, dlib_judge.align(moved, kps)])
    assert cosine(e[0], e[1]) > 0.97


@pytest.mark.skipif(not FACES.is_dir(), reason=f"shared test faces not found at {FACES}")
def test_dlib_same_person_beats_different_person(dlib_judge) -> None:
    # landmarks of these photos are found with dlib's own 68-point predictor
    import importlib.util
    import os

    import dlib

    from evalkit.benchmarks.tokbench.judges import cosine

    models = Path(os.path.dirname(importlib.util.find_spec("face_recognition_models").origin))
    det = dlib.get_frontal_face_detector()
    sp = dlib.shape_predictor(str(models / "models" / "shape_predictor_68_face_landmarks.dat"))

    def chip(name: str) -> np.ndarray:
        img = np.asarray(Image.open(FACES / name).convert("RGB"))
        s = sp(img, det(img, 1)[0])
        p = np.array([[s.part(i).x, s.part(i).y] for i in range(68)], float)
        kps = [p[36:42].mean(0), p[42:48].mean(0), p[30], p[48], p[54]]
        return dlib_judge.align(img, kps)

    e = dlib_judge.embed([chip("obama_1.jpg"), chip("obama_2.jpg"), chip("biden_1.jpg")])
    assert cosine(e[0], e[1]) > cosine(e[0], e[2]) + 0.05


def test_missing_antelopev2_message(tmp_path, monkeypatch) -> None:
    from evalkit.benchmarks.tokbench.judges import check_judge
    from evalkit.store import MissingAssetError

    monkeypatch.setenv("EVALKIT_STORE", str(tmp_path))
    monkeypatch.setenv("INSIGHTFACE_HOME", str(tmp_path / "if"))
    with pytest.raises(MissingAssetError) as e:
        check_judge("face", "antelopev2")
    assert "glintr100.onnx" in str(e.value) and "face_judge='dlib'" in str(e.value)


def test_render_table() -> None:
    rows = []
    for model, base in (("resize", 0.9), ("jpeg-q10", 0.2)):
        for metric in ("t_acc", "t_ned", "f_sim"):
            for k, b in enumerate(("small", "medium", "large", "mean", "below")):
                rows.append(
                    {
                        "benchmark": "tokbench",
                        "model": model,
                        "resolution": 256,
                        "precision": "fp32",
                        "metric": metric,
                        "subset": "face" if metric == "f_sim" else "text",
                        "bin": b,
                        "value": base + 0.01 * k,
                        "n": 10,
                        "reported_value": 0.93 if b == "mean" else None,
                        "comparable": True,
                        "complete": True,
                        "options": "{}",
                        "judges": "{}",
                        "dataset": "tokbench",
                        "dataset_source": "hf://datasets/Junfeng5/TokBench",
                        "dataset_sha256": "ab" * 32,
                    }
                )
    md = render_table(pd.DataFrame(rows))
    lines = md.split("### TokBench 256", 1)[1].splitlines()
    assert "T-ACC S" in lines[2] and "F-Sim Mean" in lines[2]
    assert lines[4].startswith("| n | 10 |")
    assert lines[5].startswith("| resize | 90.00 | 91.00 | 92.00 | 93.00 |")
    assert lines[5].endswith("| 0.90 | 0.91 | 0.92 | 0.93 |")
    assert lines[6].startswith("| resize (reported) | – |")
    assert any(line.startswith("| jpeg-q10 | 20.00") for line in lines)
