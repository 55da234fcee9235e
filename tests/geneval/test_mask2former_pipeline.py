"""The m2f-hf test-time pipeline and post-processing (mmdet 2.x facts), on a tiny random model.

Parity with mmdet itself, on the real architecture: test_mask2former_parity.py."""

from __future__ import annotations

import numpy as np
import pytest
import torch

pytest.importorskip("transformers")
pytest.importorskip("cv2")

from evalkit.judges.mask2former import (  # noqa: E402
    MEAN,
    STD,
    Mask2FormerOfficial,
    instance_postprocess,
    mask2bbox,
    preprocess,
    rescale_size,
)


def test_resize_rule_and_padding() -> None:
    assert rescale_size(512, 512) == (800, 800)
    assert rescale_size(768, 1024) == (800, 1067)  # short side 800, long side under 1333
    assert rescale_size(400, 2000) == (267, 1333)  # long side bound
    x, (h, w) = preprocess(np.zeros((768, 1024, 3), np.uint8))
    assert (h, w) == (800, 1067) and tuple(x.shape) == (3, 800, 1088)
    assert float(x[0, 0, 0]) == pytest.approx(-123.675 / 58.395)
    # mmdet pads the uint8 image with 128 BEFORE normalising: the padding is (128 - mean) / std
    padding = [(128 - m) / s for m, s in zip(MEAN, STD)]
    assert x[:, :, 1067:].flatten(1).unique(dim=1).squeeze(1).tolist() == pytest.approx(padding)
    assert x[:, 0, 1066].tolist() == pytest.approx([-m / s for m, s in zip(MEAN, STD)])


def test_mask2bbox_is_extent_plus_one_and_postprocess_groups_by_class() -> None:
    m = torch.zeros(2, 10, 12, dtype=torch.bool)
    m[0, 2:5, 3:9] = True
    assert mask2bbox(m).tolist() == [[3, 2, 9, 5], [0, 0, 0, 0]]
    cls = torch.full((3, 81), -10.0)
    cls[0, 5], cls[1, 7] = 10.0, 10.0  # query 0: class 5 (airplane), query 1: class 7 (truck)
    masks = torch.full((3, 10, 12), -5.0)
    masks[0, 1:4, 2:6] = 5.0
    masks[1, 6:9, 0:3] = 5.0
    names = [f"c{i}" for i in range(80)]
    boxes, bin_masks = instance_postprocess(cls, masks, names)
    top5 = boxes["c5"][boxes["c5"][:, 4].argmax()]
    assert top5[:4].tolist() == [2, 1, 6, 4] and top5[4] == pytest.approx(
        torch.sigmoid(torch.tensor(5.0)).item(), rel=1e-3
    )
    assert bin_masks["c7"].shape[1:] == (10, 12) and len(boxes["c5"]) == len(bin_masks["c5"])
    assert sum(len(v) for v in boxes.values()) == 100  # top 100 of queries x classes


def test_tiny_random_model_runs_end_to_end() -> None:
    from transformers import Mask2FormerConfig, Mask2FormerForUniversalSegmentation, SwinConfig

    torch.manual_seed(0)
    backbone = SwinConfig(
        embed_dim=16,
        depths=[1, 1, 1, 1],
        num_heads=[1, 1, 1, 1],
        window_size=7,
        out_features=["stage1", "stage2", "stage3", "stage4"],
    )
    cfg = Mask2FormerConfig(
        backbone_config=backbone,
        num_labels=80,
        num_queries=10,
        hidden_dim=32,
        mask_feature_size=32,
        feature_size=32,
        encoder_feedforward_dim=64,
        dim_feedforward=64,
        decoder_layers=2,
        encoder_layers=1,
        num_attention_heads=2,
    )
    det = Mask2FormerOfficial(model=Mask2FormerForUniversalSegmentation(cfg).eval())
    rng = np.random.default_rng(0)
    images = [
        rng.integers(0, 256, (96, 128, 3), dtype=np.uint8),
        rng.integers(0, 256, (64, 64, 3), dtype=np.uint8),
        rng.integers(0, 256, (64, 65, 3), dtype=np.uint8),  # 800 x 813, padded to 800 x 832
        rng.integers(0, 256, (64, 66, 3), dtype=np.uint8),  # 800 x 825, padded to 800 x 832
    ]
    out = det.detect_with_masks(images)
    for (boxes, masks), im in zip(out, images):
        assert sum(len(b) for b in boxes.values()) == 100
        for name, b in boxes.items():
            assert masks[name].shape[1:] == im.shape[:2]
            assert (b[:, 2] <= im.shape[1]).all() and (b[:, 3] <= im.shape[0]).all()
    # each image of the mixed batch gives what it gives alone (the last two share one forward
    # pass: same padded size, different image sizes, each padded with 128 as if alone)
    for i, im in enumerate(images):
        alone = det.detect_with_masks([im])[0][0]
        assert alone.keys() == out[i][0].keys()
        assert all(np.allclose(alone[k], out[i][0][k], atol=1e-5) for k in alone)
