"""The official mmdet checkpoint converts key by key to transformers' Mask2Former."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

pytest.importorskip("transformers")

from evalkit.judges.mask2former import (  # noqa: E402
    HF_UNMAPPED,
    _unfold_order,
    convert_mmdet_state_dict,
    hf_config,
)

RECORDED = json.loads(
    (Path(__file__).with_name("data") / "mask2former_mmdet2_keys.json").read_text()
)


def test_every_official_key_maps_with_equal_shapes_and_nothing_left() -> None:
    from transformers import Mask2FormerForUniversalSegmentation

    keys = RECORDED["keys"]
    assert len(keys) == 649 and "mmdet 2.28.2" in RECORDED["made_with"]
    g = torch.Generator().manual_seed(0)
    official = {
        k: torch.randn(*shape, generator=g) if shape else torch.randn((), generator=g)
        for k, shape in keys.items()
    }
    converted = convert_mmdet_state_dict(dict(official))
    with torch.device("meta"):
        model = Mask2FormerForUniversalSegmentation(hf_config())
    target = {k: tuple(v.shape) for k, v in model.state_dict().items()}
    assert set(converted) == set(target) - set(HF_UNMAPPED)
    assert {k: tuple(v.shape) for k, v in converted.items()} == {
        k: s for k, s in target.items() if k in converted
    }
    # values travel unchanged except the documented splits and reorders
    assert torch.equal(
        converted["class_predictor.weight"], official["panoptic_head.cls_embed.weight"]
    )
    qkv = official["backbone.stages.2.blocks.5.attn.w_msa.qkv.weight"]
    hf = "model.pixel_level_module.encoder.swin.encoder.layers.2.blocks.5.attention"
    assert torch.equal(torch.cat([converted[f"{hf}.{n}_proj.weight"] for n in "qkv"]), qkv)
    with pytest.raises(KeyError, match="not converted"):
        convert_mmdet_state_dict({**official, "panoptic_head.extra.weight": torch.zeros(1)})


def test_patch_merging_reorder_matches_unfold() -> None:
    """mmdet merges 2x2 patches with nn.Unfold; transformers concatenates [x00, x10, x01, x11]."""
    from transformers.models.swin.modeling_swin import SwinPatchMerging

    c, h, w = 8, 6, 4
    x = torch.randn(1, h * w, c)
    reduction = torch.nn.Linear(4 * c, 2 * c, bias=False)
    norm = torch.nn.LayerNorm(4 * c)
    torch.nn.init.normal_(norm.weight)
    torch.nn.init.normal_(norm.bias)
    # mmdet 2.x PatchMerging: (B, C, H, W) -> Unfold(2, stride 2) -> (B, HW/4, 4C) -> norm -> linear
    grid = x.transpose(1, 2).reshape(1, c, h, w)
    unfolded = torch.nn.functional.unfold(grid, 2, stride=2).transpose(1, 2)
    want = reduction(norm(unfolded))
    hf = SwinPatchMerging(c)
    hf.reduction.weight.data = _unfold_order(reduction.weight.data, c)
    hf.norm.weight.data = _unfold_order(norm.weight.data, c)
    hf.norm.bias.data = _unfold_order(norm.bias.data, c)
    assert torch.allclose(hf(x, (h, w)), want, atol=1e-5)
