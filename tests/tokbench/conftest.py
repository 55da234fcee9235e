"""Small synthetic TokBench data in the official layout, and session-scoped judges."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFont

FONT = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")
# 5 points (insightface order) of the astronaut photo, from dlib's 68-point predictor (eye
# centres = mean of each eye's 6 points, nose tip 30, mouth corners 48 and 54).
ASTRONAUT_KPS = [[203.2, 101.5], [246.5, 104.2], [225.0, 127.0], [201.0, 139.0], [246.0, 141.0]]
WORDS = [("Street", 40), ("Coffee", 28), ("Market", 22), ("ROAD", 34)]


def _font(size: int) -> ImageFont.ImageFont:
    if FONT.is_file():
        return ImageFont.truetype(str(FONT), size)
    return ImageFont.load_default(size=size)


def render_words(width: int = 480, height: int = 360) -> tuple[Image.Image, list[dict]]:
    """Dark words on a light textured background; bboxes as straight boxes and one polygon."""
    rng = np.random.default_rng(0)
    bg = (225 + rng.integers(-12, 12, (height, width, 3))).clip(0, 255).astype(np.uint8)
    img = Image.fromarray(bg)
    draw = ImageDraw.Draw(img)
    anns, y = [], 12
    for k, (word, size) in enumerate(WORDS):
        font = _font(size)
        left, t, r, b = font.getbbox(word)
        x = 20
        draw.text((x - left, y - t), word, font=font, fill=(20, 25, 35))
        x0, y0, x1, y1 = x - 4, y - 4, x + (r - left) + 4, y + (b - t) + 4
        if k == 3:
            bbox: list = [[x0, y0], [x1, y0], [x1, y1], [x0, y1]]
        else:
            bbox = [x0, y0, x1, y1]
        anns.append({"bbox": bbox, "rec": word, "ratio": (y1 - y0) / max(width, height)})
        y = y1 + 30
    return img, anns


def write_text_set(root: Path, name: str, images: dict, annotations: list[dict]) -> Path:
    """``root`` in the official layout with one text set ``name`` (images: file name -> array)."""
    (root / "annotations").mkdir(parents=True, exist_ok=True)
    (root / "annotations" / f"text_{name}.json").write_text(json.dumps(annotations))
    (root / "images" / "text_data" / name).mkdir(parents=True)
    for file_name, arr in images.items():
        Image.fromarray(arr).save(root / "images" / "text_data" / name / file_name)
    return root


def make_layout(root: Path, text_ext: str = ".png") -> Path:
    """``root`` in the official layout: one text set 'syn' (2 images) and one face image."""
    from skimage import data as skdata

    (root / "annotations").mkdir(parents=True)
    tdir = root / "images" / "text_data" / "syn"
    tdir.mkdir(parents=True)
    text = []
    for i in range(2):
        img, anns = render_words()
        name = f"w{i}{text_ext}"
        img.save(tdir / name)
        text.append(
            {"file_name": name, "height": img.height, "width": img.width, "annotations": anns}
        )
    (root / "annotations" / "text_syn.json").write_text(json.dumps(text))
    fdir = root / "images" / "face_data"
    fdir.mkdir(parents=True)
    Image.fromarray(skdata.astronaut()).save(fdir / "astronaut.png")
    faces = [
        {
            "image_name": "astronaut.png",
            "img_height": 512,
            "img_width": 512,
            "faces": [
                {"kps": ASTRONAUT_KPS, "box": [180, 70, 270, 170], "ratio": 0.35, "gt": "collins"}
            ],
        }
    ]
    (root / "annotations" / "face_meta.json").write_text(json.dumps(faces))
    return root


@pytest.fixture(scope="session")
def tb_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_layout(tmp_path_factory.mktemp("tokbench"))


@pytest.fixture(scope="session")
def rapidocr_judge():
    from evalkit.benchmarks.tokbench.judges import build_judge

    return build_judge("ocr", "rapidocr")


@pytest.fixture(scope="session")
def dlib_judge():
    from evalkit.benchmarks.tokbench.judges import build_judge

    return build_judge("face", "dlib")
