"""GenEval's official detector: Mask2Former Swin-S COCO (mmdet 2.x checkpoint), three runtimes.

The checkpoint is converted key by key to transformers' Mask2FormerForUniversalSegmentation at
load time (:func:`convert_mmdet_state_dict`; keys and shapes checked against the list recorded from
mmdet 2.28.2's own model). The test-time pipeline and post-processing are not written yet.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from evalkit.types import WeightsFile

if TYPE_CHECKING:
    import torch

CHECKPOINT_NAME = "mask2former_swin-s-p4-w7-224_lsj_8x2_50e_coco_20220504_001756-743b7d99.pth"
CHECKPOINT = WeightsFile(
    filename=CHECKPOINT_NAME,
    sha256=None,  # not published; mmdet's file name carries the first 8 hex digits (743b7d99)
    store_path=f"weights/mask2former/{CHECKPOINT_NAME}",
    url="https://download.openmmlab.com/mmdetection/v2.0/mask2former/"
        f"mask2former_swin-s-p4-w7-224_lsj_8x2_50e_coco/{CHECKPOINT_NAME}",
)
HF_ALTERNATIVE = WeightsFile(
    filename="model.safetensors", hub_id="facebook/mask2former-swin-small-coco-instance",
    store_path="weights/mask2former-swin-small-coco-instance/model.safetensors",
)

# --- the official mmdet 2.x checkpoint -> transformers' Mask2FormerForUniversalSegmentation -----
SWIN_S = {"embed_dim": 96, "depths": [2, 2, 18, 2], "num_heads": [3, 6, 12, 24], "window_size": 7}
M2F = "model.pixel_level_module"
DEC = "model.transformer_module"
#: transformers keys no mmdet weight maps to: the Swin's final norm (unused by Mask2Former, which
#: normalises each stage with hidden_states_norms) and the loss's class weights.
HF_UNMAPPED = ("model.pixel_level_module.encoder.swin.layernorm.weight",
               "model.pixel_level_module.encoder.swin.layernorm.bias", "criterion.empty_weight")


def hf_config() -> Any:
    """transformers' config for the official model: Swin-S, 100 queries, 80 COCO things."""
    from transformers import Mask2FormerConfig, SwinConfig

    backbone = SwinConfig(**SWIN_S, out_features=["stage1", "stage2", "stage3", "stage4"])
    return Mask2FormerConfig(backbone_config=backbone, num_labels=80, num_queries=100)


def _unfold_order(x: torch.Tensor, channels: int) -> torch.Tensor:
    """Reorder a patch-merging axis from mmdet's nn.Unfold order (c*4 + kh*2 + kw) to the
    concatenation transformers uses ([x(0,0), x(1,0), x(0,1), x(1,1)] blocks of ``channels``)."""
    import torch

    index = [c * 4 + kh * 2 + kw for kh, kw in ((0, 0), (1, 0), (0, 1), (1, 1))
             for c in range(channels)]
    return x.index_select(-1, torch.tensor(index))


def convert_mmdet_state_dict(sd: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """Key-by-key conversion; raises when an mmdet key is left over or unknown."""
    out: dict[str, torch.Tensor] = {}
    left = dict(sd)

    def take(src: str, dst: str, fn: Any = None) -> None:
        value = left.pop(src)
        out[dst] = fn(value) if fn is not None else value

    swin = f"{M2F}.encoder.swin"
    for p in ("weight", "bias"):
        take(f"backbone.patch_embed.projection.{p}",
             f"{swin}.embeddings.patch_embeddings.projection.{p}")
    for p in ("weight", "bias"):
        take(f"backbone.patch_embed.norm.{p}", f"{swin}.embeddings.norm.{p}")
    for s, depth in enumerate(SWIN_S["depths"]):
        for b in range(depth):
            mm, hf = f"backbone.stages.{s}.blocks.{b}", f"{swin}.encoder.layers.{s}.blocks.{b}"
            for p in ("weight", "bias"):
                take(f"{mm}.norm1.{p}", f"{hf}.layernorm_before.{p}")
                take(f"{mm}.norm2.{p}", f"{hf}.layernorm_after.{p}")
                q, k, v = left.pop(f"{mm}.attn.w_msa.qkv.{p}").chunk(3, dim=0)
                out.update({f"{hf}.attention.q_proj.{p}": q, f"{hf}.attention.k_proj.{p}": k,
                            f"{hf}.attention.v_proj.{p}": v})
                take(f"{mm}.attn.w_msa.proj.{p}", f"{hf}.attention.o_proj.{p}")
                take(f"{mm}.ffn.layers.0.0.{p}", f"{hf}.mlp.fc1.{p}")
                take(f"{mm}.ffn.layers.1.{p}", f"{hf}.mlp.fc2.{p}")
            take(f"{mm}.attn.w_msa.relative_position_bias_table",
                 f"{hf}.attention.relative_position_bias.relative_position_bias_table")
            left.pop(f"{mm}.attn.w_msa.relative_position_index")  # a fixed buffer, rebuilt
        if s < len(SWIN_S["depths"]) - 1:
            c = SWIN_S["embed_dim"] * 2**s
            mm, hf = f"backbone.stages.{s}.downsample", f"{swin}.encoder.layers.{s}.downsample"
            take(f"{mm}.reduction.weight", f"{hf}.reduction.weight",
                 lambda w, c=c: _unfold_order(w, c))
            for p in ("weight", "bias"):
                take(f"{mm}.norm.{p}", f"{hf}.norm.{p}", lambda w, c=c: _unfold_order(w, c))
        for p in ("weight", "bias"):
            take(f"backbone.norm{s}.{p}", f"{M2F}.encoder.hidden_states_norms.stage{s + 1}.{p}")
    pix, hpix = "panoptic_head.pixel_decoder", f"{M2F}.decoder"
    for i in range(3):
        for p in ("weight", "bias"):
            take(f"{pix}.input_convs.{i}.conv.{p}", f"{hpix}.input_projections.{i}.0.{p}")
            take(f"{pix}.input_convs.{i}.gn.{p}", f"{hpix}.input_projections.{i}.1.{p}")
    for n in range(6):
        mm, hf = f"{pix}.encoder.layers.{n}", f"{hpix}.encoder.layers.{n}"
        for p in ("weight", "bias"):
            for part in ("sampling_offsets", "attention_weights", "value_proj", "output_proj"):
                take(f"{mm}.attentions.0.{part}.{p}", f"{hf}.self_attn.{part}.{p}")
            take(f"{mm}.ffns.0.layers.0.0.{p}", f"{hf}.fc1.{p}")
            take(f"{mm}.ffns.0.layers.1.{p}", f"{hf}.fc2.{p}")
            take(f"{mm}.norms.0.{p}", f"{hf}.self_attn_layer_norm.{p}")
            take(f"{mm}.norms.1.{p}", f"{hf}.final_layer_norm.{p}")
    take(f"{pix}.level_encoding.weight", f"{hpix}.level_embed")
    take(f"{pix}.lateral_convs.0.conv.weight", f"{hpix}.adapter_1.0.weight")
    take(f"{pix}.output_convs.0.conv.weight", f"{hpix}.layer_1.0.weight")
    for p in ("weight", "bias"):
        take(f"{pix}.lateral_convs.0.gn.{p}", f"{hpix}.adapter_1.1.{p}")
        take(f"{pix}.output_convs.0.gn.{p}", f"{hpix}.layer_1.1.{p}")
        take(f"{pix}.mask_feature.{p}", f"{hpix}.mask_projection.{p}")
    head = "panoptic_head"
    for n in range(9):  # operation order: cross_attn, norm, self_attn, norm, ffn, norm
        mm, hf = f"{head}.transformer_decoder.layers.{n}", f"{DEC}.decoder.layers.{n}"
        take(f"{mm}.attentions.0.attn.in_proj_weight", f"{hf}.cross_attn.in_proj_weight")
        take(f"{mm}.attentions.0.attn.in_proj_bias", f"{hf}.cross_attn.in_proj_bias")
        for p in ("weight", "bias"):
            take(f"{mm}.attentions.0.attn.out_proj.{p}", f"{hf}.cross_attn.out_proj.{p}")
            suffix = "_weight" if p == "weight" else "_bias"
            q, k, v = left.pop(f"{mm}.attentions.1.attn.in_proj{suffix}").chunk(3, dim=0)
            out.update({f"{hf}.self_attn.q_proj.{p}": q, f"{hf}.self_attn.k_proj.{p}": k,
                        f"{hf}.self_attn.v_proj.{p}": v})
            take(f"{mm}.attentions.1.attn.out_proj.{p}", f"{hf}.self_attn.out_proj.{p}")
            take(f"{mm}.ffns.0.layers.0.0.{p}", f"{hf}.fc1.{p}")
            take(f"{mm}.ffns.0.layers.1.{p}", f"{hf}.fc2.{p}")
            take(f"{mm}.norms.0.{p}", f"{hf}.cross_attn_layer_norm.{p}")
            take(f"{mm}.norms.1.{p}", f"{hf}.self_attn_layer_norm.{p}")
            take(f"{mm}.norms.2.{p}", f"{hf}.final_layer_norm.{p}")
    for p in ("weight", "bias"):
        take(f"{head}.transformer_decoder.post_norm.{p}", f"{DEC}.decoder.layernorm.{p}")
        take(f"{head}.cls_embed.{p}", f"class_predictor.{p}")
        for i, j in ((0, 0), (2, 1), (4, 2)):
            take(f"{head}.mask_embed.{i}.{p}",
                 f"{DEC}.decoder.mask_predictor.mask_embedder.{j}.0.{p}")
    take(f"{head}.query_embed.weight", f"{DEC}.queries_embedder.weight")
    take(f"{head}.query_feat.weight", f"{DEC}.queries_features.weight")
    take(f"{head}.level_embed.weight", f"{DEC}.level_embed.weight")
    if left:
        raise KeyError(f"mask2former: {len(left)} checkpoint keys not converted: "
                       f"{sorted(left)[:8]}")
    return out
