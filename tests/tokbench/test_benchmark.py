"""The TokBench Benchmark driven directly: load -> stack -> model -> score -> summarize."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch

from evalkit.benchmarks.tokbench.benchmark import TokBench, build, reported
from evalkit.store import MissingAssetError
from evalkit.types import ModelCard

COLUMNS = {"image", "set", "kind", "gt", "pred", "ratio", "bin", "t_acc", "t_ned", "f_sim", "judge"}


def _bench(root: Path, ocr, face, **kw) -> TokBench:
    b = build("tokbench", data=str(root), sets="syn", ocr_judge="rapidocr", face_judge="dlib", **kw)
    b.judges.update(ocr=ocr, face=face)  # session-scoped judges: setup() keeps them
    return b


def _run(b: TokBench, model) -> pd.DataFrame:
    items = [b.load(i) for i in range(len(b.sample_ids()))]
    x = torch.stack([it["input"] for it in items])
    out = model(x).clamp(0, 1)
    return pd.DataFrame(b.score(items, out).records)


def test_identity_reads_everything_and_destroyed_reads_nothing(
    tb_root: Path, rapidocr_judge, dlib_judge
) -> None:
    b = _bench(tb_root, rapidocr_judge, dlib_judge, resolution=512)
    b.setup("cpu")
    assert b.load(0)["input"].shape == (3, 512, 512)
    ident = _run(b, lambda x: x)
    assert set(ident.columns) >= COLUMNS
    assert len(ident) == 2 * 4 + 1  # every instance has a record
    text = ident[ident.kind == "text"]
    assert (text["pred"] == text["gt"]).mean() == 1.0 and (text.t_acc == 1).all()
    assert (text.judge == "rapidocr").all()
    face = ident[ident.kind == "face"].iloc[0]
    assert face.f_sim > 0.9 and face.judge == "dlib"

    gray = _run(b, lambda x: torch.full_like(x, 0.5))
    assert (gray[gray.kind == "text"].t_acc == 0).all()
    assert gray[gray.kind == "face"].f_sim.iloc[0] < face.f_sim - 0.1

    values = b.summarize(ident)
    means = {(v.metric, v.bin): v for v in values}
    assert means[("t_acc", "mean")].judge == "rapidocr"
    assert means[("f_sim", "large")].n == 1  # ratio 0.35 is 'large' at 512
    assert means[("f_sim", "large")].judge_weights.startswith("dlib_face_recognition")


def test_lower_resolution_loses_small_text(tb_root: Path, rapidocr_judge, dlib_judge) -> None:
    b = _bench(tb_root, rapidocr_judge, dlib_judge, resolution=256)
    down4 = _run(
        b,
        lambda x: torch.nn.functional.interpolate(
            torch.nn.functional.avg_pool2d(x, 4), scale_factor=4, mode="bilinear"
        ),
    )
    ident = _run(b, lambda x: x)
    t_i, t_d = ident[ident.kind == "text"], down4[down4.kind == "text"]
    assert t_i.t_ned.mean() > t_d.t_ned.mean()


def test_as_original_reencodes_jpeg(tmp_path: Path, rapidocr_judge, dlib_judge) -> None:
    from tests.tokbench.conftest import make_layout

    root = make_layout(tmp_path / "jpg", text_ext=".jpg")
    lossy = _bench(root, rapidocr_judge, dlib_judge)
    lossless = _bench(root, rapidocr_judge, dlib_judge, recon_format="lossless")
    assert lossy.spec.options["recon_format"] == "as-original"
    item = lossy.load(0)
    a = lossy.reconstructed_image(item, item["input"])
    c = lossless.reconstructed_image(item, item["input"])
    assert a.shape == c.shape == (360, 480, 3)
    assert 0 < np.abs(a.astype(int) - c.astype(int)).mean() < 5  # JPEG q75, not garbage


def test_manifest_and_spec(tb_root: Path) -> None:
    b = build("tokbench", data=str(tb_root), sets=["syn"], resolution=1024)
    assert b.spec.dataset.n == 3 and len(b.spec.dataset.sha256) == 64
    assert b.spec.options["ocr_judge"] == "parseq" and b.spec.options["face_judge"] == "antelopev2"
    assert b.facts(b.sample_ids()).subset == "sets=syn"  # a subset: evalkit.flags says not complete
    again = build("tokbench", data=str(tb_root), sets=["syn"], resolution=1024)
    assert again.spec.dataset.sha256 == b.spec.dataset.sha256


def test_missing_data_is_one_actionable_error(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("EVALKIT_STORE", str(tmp_path))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(MissingAssetError) as e:
        build("tokbench")
    msg = str(e.value)
    assert "Junfeng5/TokBench" in msg and "tokbench-mini" in msg and "--data" in msg


def test_unknown_option_and_resolution() -> None:
    with pytest.raises(ValueError, match="unknown option"):
        build("tokbench-mini", resolutoin=256)
    with pytest.raises(ValueError, match="resolution"):
        build("tokbench", resolution=300)


def test_missing_official_judges_say_how(tb_root: Path, tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("EVALKIT_STORE", str(tmp_path))
    monkeypatch.setenv("EVALKIT_OFFLINE", "1")
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("DOCTR_CACHE_DIR", str(tmp_path / "doctr"))
    monkeypatch.setenv("INSIGHTFACE_HOME", str(tmp_path / "if"))
    b = build("tokbench", data=str(tb_root), sets="syn")
    with pytest.raises(MissingAssetError, match="ocr_judge='rapidocr'"):
        b.check()
    b2 = build("tokbench", data=str(tb_root), sets="syn", ocr_judge="rapidocr")
    with pytest.raises(MissingAssetError, match="face_judge='dlib'"):
        b2.check()
    build(
        "tokbench", data=str(tb_root), sets="syn", ocr_judge="rapidocr", face_judge="dlib"
    ).check()


def test_reported_values() -> None:
    assert reported("FLUX.1-dev VAE", 256, "t_acc", "mean") == pytest.approx(0.7591)
    assert reported("FLUX.1-dev VAE", 256, "f_sim", "small") == pytest.approx(0.52)
    assert reported("VQGAN", 1024, "t_acc", "small") is None  # not published
    assert reported("NoSuchModel", 256, "t_acc", "mean") is None


def test_reported_value_uses_card(tb_root: Path) -> None:
    from evalkit.benchmarks.base import MetricValue

    b = build("tokbench", data=str(tb_root), sets="syn")
    v = MetricValue("t_ned", 0.5, 10, True, bin="mean")
    assert b.reported_value(ModelCard(id="resize", family="codec"), v) == pytest.approx(0.9653)
    card = ModelCard(id="x", family="vae", tokbench_name="SD-XL VAE")
    assert b.reported_value(card, v) == pytest.approx(0.5368)
    assert b.reported_value(ModelCard(id="x", family="vae"), v) is None
