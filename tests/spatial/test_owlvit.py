"""OWL-ViT plumbing on a tiny random model of the real architecture (no download)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("transformers")

from evalkit.judges import owlvit  # noqa: E402


@pytest.fixture(scope="module")
def tiny() -> owlvit.OwlVit:
    return owlvit.tiny_random(seed=0)


def test_detections_follow_the_notebook_post_processing(tiny: owlvit.OwlVit) -> None:
    import torch
    from PIL import Image

    image = np.random.default_rng(0).integers(0, 255, (48, 80, 3), dtype=np.uint8)
    dets = tiny.detect_queries([image], [["cat", "dog"]])[0]
    inputs = tiny.processor(
        text=[["a photo of a cat", "a photo of a dog"]],
        images=Image.fromarray(image),
        return_tensors="pt",
    )
    with torch.inference_mode():
        out = tiny.model(**inputs)
    logits = out.logits[0]
    scores, labels = torch.sigmoid(logits.max(-1).values), logits.argmax(-1)
    cx, cy, w, h = out.pred_boxes[0].unbind(-1)
    boxes = torch.stack([cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2], -1)
    boxes = boxes * torch.tensor([80, 48, 80, 48])  # the image's own (w, h)
    for idx, name in enumerate(["cat", "dog"]):
        sel = (labels == idx) & (scores > tiny.score_floor)  # post-processing's strict floor
        want = torch.cat([boxes[sel], scores[sel, None]], 1).double().numpy()
        if sel.any():
            np.testing.assert_allclose(dets[name], want, rtol=1e-5, atol=1e-4)
        else:
            assert name not in dets
    kept = int((scores > tiny.score_floor).sum())
    assert sum(len(v) for v in dets.values()) == kept > 0  # every box above the floor: no NMS


def test_repeated_query_labels_the_first(tiny: owlvit.OwlVit) -> None:
    image = np.zeros((32, 32, 3), dtype=np.uint8)
    dets = tiny.detect_queries([image], [["cat", "cat"]])[0]
    assert list(dets) == ["cat"]
    with pytest.raises(TypeError, match="open-vocabulary"):
        tiny.detect([image])


def test_visor_runs_through_owlvit(
    tiny: owlvit.OwlVit, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import evalkit
    from evalkit.benchmarks.spatial import detectors
    from tests.spatial import doubles

    doubles.register()
    monkeypatch.setattr(detectors, "check_available", lambda name, bench: None)
    monkeypatch.setattr(detectors, "build", lambda name, device="cpu": tiny)
    res = evalkit.run("visor", "test-painter", options={"prompts": 2}, out_dir=tmp_path)
    assert len(res.samples) == 8 and set(res.rows["judge"]) == {"owlvit-base-patch32"}
    assert set(res.rows["judge_weights"]) == {"tiny-random-seed0"}


def test_weights_dir_prefers_the_store(empty_store: Path) -> None:
    folder = empty_store / owlvit.STORE_REL
    folder.mkdir(parents=True)
    (folder / "config.json").write_text("{}")
    (folder / "model.safetensors").write_bytes(b"x")
    assert owlvit.weights_dir() == folder


def test_weights_missing_offline_is_one_message(
    empty_store: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from evalkit.store import MissingAssetError

    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))
    with pytest.raises(MissingAssetError, match="google/owlvit-base-patch32") as err:
        owlvit.weights_dir()
    assert "-O detector=yolox-nano" in str(err.value)
