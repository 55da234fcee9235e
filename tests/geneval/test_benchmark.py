"""The geneval benchmark through the runner: layout, seeds, bad input, judges, records."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from PIL import Image

import evalkit
from evalkit import catalog
from evalkit.benchmarks.geneval import judges
from evalkit.runner import RunError
from evalkit.seeding import sample_seed
from evalkit.store import MissingAssetError
from tests.geneval.doubles import BlobDetector, paint

PROMPTS = [
    {
        "tag": "position",
        "include": [
            {"class": "teddy bear", "count": 1},
            {"class": "dog", "count": 1, "position": ["right of", 0]},
        ],
        "prompt": "a photo of a dog right of a teddy bear",
    },
    {
        "tag": "colors",
        "include": [{"class": "dog", "count": 1, "color": "red"}],
        "prompt": "a photo of a red dog",
    },
    {
        "tag": "two_object",
        "include": [{"class": "bench", "count": 1}, {"class": "dog", "count": 1}],
        "prompt": "a photo of a bench and a dog",
    },
]


@pytest.fixture
def prompts_file(tmp_path: Path) -> Path:
    path = tmp_path / "prompts.jsonl"
    path.write_text("".join(json.dumps(m) + "\n" for m in PROMPTS))
    return path


def lay_out(root: Path, fmt: str = "PNG", ext: str = "png") -> Path:
    for p, meta in enumerate(PROMPTS):
        (root / f"{p:05d}" / "samples").mkdir(parents=True)
        (root / f"{p:05d}" / "metadata.jsonl").write_text(json.dumps(meta))
        for k in range(4):
            Image.fromarray(paint(p, k)).save(
                root / f"{p:05d}/samples/{k:05d}.{ext}", format=fmt, lossless=True
            )  # (WebP; PNG ignores it)
    return root


def run(samples: Path, prompts: Path, out: Path, **extra: str):
    opts = {
        "samples": str(samples),
        "prompts": str(prompts),
        "detector": "yolox-nano",
        "colour": "pixels",
        **extra,
    }
    return evalkit.run(
        "geneval", "samples:painter", options=opts, out_dir=out, workers=0, batch_size=5
    )


def value(result, metric: str) -> float:
    return float(result.rows.set_index("metric").loc[metric, "value"])


@pytest.mark.parametrize(("fmt", "ext"), [("PNG", "png"), ("WEBP", "webp")])
def test_samples_folder_scores_every_image(tmp_path, blobs, prompts_file, fmt, ext) -> None:
    res = run(lay_out(tmp_path / "s", fmt, ext), prompts_file, tmp_path / "out", overlays="true")
    assert len(res.samples) == 12 and blobs.batches == [5, 5, 2]  # whole batches at once
    assert value(res, "position") == 0.5  # dog right of the bear on even images only
    assert value(res, "colors") == 1.0  # the pixel judge names the red blob red
    assert value(res, "two_object") == 0.75  # the bench is painted on 3 of 4 images
    assert value(res, "overall") == pytest.approx((0.5 + 1.0 + 0.75) / 3)
    assert not res.rows["comparable"].any()  # offline judges and a partial prompt set
    rec = res.samples.set_index("sample_id")
    details = json.loads(rec.loc["00001/00000", "details"])
    assert details["colours"] == {"dog": ["red"]} and details["kept"]["dog"][0][4] == 0.95
    rel = json.loads(rec.loc["00000/00001", "details"])["relations"]
    assert rel[0]["found"] == ["left of"] and not rec.loc["00000/00001", "correct"]
    assert rec.loc["00000/00001", "reason"] == "expected dog right of target, found left of target"
    assert (res.run_dir / "overlays" / "00000" / "00001.png").is_file()


def test_jpeg_and_mixed_extensions_are_found(tmp_path) -> None:
    from evalkit.benchmarks.geneval.layout import LayoutError, read_image, scan

    root = lay_out(tmp_path / "s")
    for k, ext in ((1, "jpg"), (2, "JPEG")):
        png = root / f"00000/samples/{k:05d}.png"
        Image.open(png).save(png.with_suffix(f".{ext}"), format="JPEG")
        png.unlink()
    found = scan(root, PROMPTS, 4, allow_missing=False)
    assert [f.suffix for p, _, f in found.images if p == 0] == [".png", ".jpg", ".JPEG", ".png"]
    assert read_image(found.images[1][2]).shape == (64, 64, 3)
    Image.open(root / "00000/samples/00000.png").save(root / "00000/samples/00000.webp")
    with pytest.raises(LayoutError, match="are both image 0 of prompt 0"):
        scan(root, PROMPTS, 4, allow_missing=False)


def test_missing_images_and_allow_missing(tmp_path, blobs, prompts_file) -> None:
    root = lay_out(tmp_path / "s")
    (root / "00001/samples/00002.png").unlink()
    import shutil

    shutil.rmtree(root / "00002")
    with pytest.raises(
        ValueError,
        match=r"2 missing .*00002/, 00001/samples/00002.png|"
        r"2 missing .*00001/samples/00002.png, 00002/",
    ):
        run(root, prompts_file, tmp_path / "out")
    res = run(root, prompts_file, tmp_path / "out2", allow_missing="true")
    assert len(res.samples) == 7 and not res.rows["comparable"].any()
    assert json.loads(res.rows["options"].iloc[0])["missing"] == 2


def test_bad_input_names_the_image(tmp_path, blobs, prompts_file) -> None:
    root = lay_out(tmp_path / "s")
    bad = root / "00001/samples/00003.png"
    data = bad.read_bytes()
    bad.write_bytes(data[: len(data) // 2])  # truncated
    with pytest.raises(RunError, match="00001/samples/00003.png"):
        run(root, prompts_file, tmp_path / "out")
    bad.write_bytes(b"not an image at all")
    with pytest.raises(RunError, match="00001/samples/00003.png") as err:
        run(root, prompts_file, tmp_path / "out")
    assert "samples are done and kept" in str(err.value)
    bad.write_bytes(data)
    (root / "00002/metadata.jsonl").write_text(json.dumps(PROMPTS[0]))
    with pytest.raises(ValueError, match=r"00002/metadata.jsonl differs from prompt 2"):
        run(root, prompts_file, tmp_path / "out3")
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(ValueError, match="is empty"):
        run(empty, prompts_file, tmp_path / "out4")


def test_detector_nan_names_the_image(tmp_path, monkeypatch, prompts_file) -> None:
    monkeypatch.setattr(judges, "check", lambda d, c: None)
    monkeypatch.setattr(judges, "make_detector", lambda name, device: BlobDetector(nan=True))
    with pytest.raises(RunError, match=r"00000/samples/00000.png.*NaN"):
        run(lay_out(tmp_path / "s"), prompts_file, tmp_path / "out")


def test_generator_mode_seeds_layout_and_resume(tmp_path, blobs, prompts_file) -> None:
    from tests.geneval import doubles

    if "test-geneval-painter" not in catalog.models:
        catalog.models.register("test-geneval-painter", "tests.geneval.doubles:build")
    doubles.Painter.last_conditions.clear()
    opts = {"prompts": str(prompts_file), "detector": "yolox-nano", "colour": "pixels"}
    res = evalkit.run(
        "geneval",
        "test-geneval-painter",
        options=opts,
        seed=7,
        workers=0,
        batch_size=4,
        out_dir=tmp_path / "out",
    )
    conds = {
        (c.extra["prompt_index"], c.extra["image_index"]): c
        for c in doubles.Painter.last_conditions
    }
    assert len(conds) == 12
    assert all(
        c.seed == sample_seed(7, p, k) and c.extra["seeding"] == "per-sample"
        for (p, k), c in conds.items()
    )
    assert conds[(1, 0)].prompt == "a photo of a red dog"
    assert conds[(1, 0)].extra["metadata"] == PROMPTS[1]
    # images kept in GenEval's layout, with metadata: the folder re-scores as samples
    assert json.loads((res.run_dir / "00002/metadata.jsonl").read_text()) == PROMPTS[2]
    again = run(res.run_dir, prompts_file, tmp_path / "rescore")
    assert again.samples["correct"].tolist() == res.samples["correct"].tolist()
    # official seeding: the run's --seed for every image (the adapter replays the global RNG;
    # tests/generators/test_official_seeding.py checks it against GenEval's own loop)
    for run_seed in (42, 7):
        doubles.Painter.last_conditions.clear()
        evalkit.run(
            "geneval",
            "test-geneval-painter",
            options={**opts, "seeding": "official"},
            seed=run_seed,
            workers=0,
            out_dir=tmp_path / "out2",
        )
        assert {c.seed for c in doubles.Painter.last_conditions} == {run_seed}


def test_missing_official_judges_one_message(empty_store) -> None:
    with pytest.raises(MissingAssetError) as err:
        evalkit.run("geneval", "samples:x", options={"samples": "/nonexistent"}, workers=0)
    msg = str(err.value)
    assert "mask2former_swin-s-p4-w7-224_lsj_8x2_50e_coco_20220504_001756-743b7d99.pth" in msg
    assert "open_clip_model.safetensors" in msg
    assert "-O detector=yolox-nano -O colour=pixels" in msg


def test_unknown_option_and_bad_choice() -> None:
    with pytest.raises(ValueError, match="unknown option"):
        catalog.benchmarks.build("geneval", detectr="yolox-nano")
    with pytest.raises(ValueError, match="detector must be one of"):
        catalog.benchmarks.build("geneval", detector="yolo")
