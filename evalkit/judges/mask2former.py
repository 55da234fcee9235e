"""GenEval's official detector: Mask2Former Swin-S COCO (mmdet 2.x checkpoint), three runtimes.

The checkpoint is converted key by key to transformers' Mask2FormerForUniversalSegmentation at
load time (:func:`convert_mmdet_state_dict`; keys and shapes checked against the list recorded from
mmdet 2.28.2's own model). The test-time pipeline and post-processing are not written yet.
"""

from __future__ import annotations

from collections.abc import Sequence
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
    filename="model.safetensors",
    hub_id="facebook/mask2former-swin-small-coco-instance",
    store_path="weights/mask2former-swin-small-coco-instance/model.safetensors",
)

# --- the official mmdet 2.x checkpoint -> transformers' Mask2FormerForUniversalSegmentation -----
SWIN_S = {"embed_dim": 96, "depths": [2, 2, 18, 2], "num_heads": [3, 6, 12, 24], "window_size": 7}
M2F = "model.pixel_level_module"
DEC = "model.transformer_module"
#: transformers keys no mmdet weight maps to: the Swin's final norm (unused by Mask2Former, which
#: normalises each stage with hidden_states_norms) and the loss's class weights.
HF_UNMAPPED = (
    "model.pixel_level_module.encoder.swin.layernorm.weight",
    "model.pixel_level_module.encoder.swin.layernorm.bias",
    "criterion.empty_weight",
)


def hf_config() -> Any:
    """transformers' config for the official model: Swin-S, 100 queries, 80 COCO things."""
    from transformers import Mask2FormerConfig, SwinConfig

    backbone = SwinConfig(**SWIN_S, out_features=["stage1", "stage2", "stage3", "stage4"])
    return Mask2FormerConfig(backbone_config=backbone, num_labels=80, num_queries=100)


def _unfold_order(x: torch.Tensor, channels: int) -> torch.Tensor:
    """Reorder a patch-merging axis from mmdet's nn.Unfold order (c*4 + kh*2 + kw) to the
    concatenation transformers uses ([x(0,0), x(1,0), x(0,1), x(1,1)] blocks of ``channels``)."""
    import torch

    index = [
        c * 4 + kh * 2 + kw for kh, kw in ((0, 0), (1, 0), (0, 1), (1, 1)) for c in range(channels)
    ]
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
        take(
            f"backbone.patch_embed.projection.{p}",
            f"{swin}.embeddings.patch_embeddings.projection.{p}",
        )
    for p in ("weight", "bias"):
        take(f"backbone.patch_embed.norm.{p}", f"{swin}.embeddings.norm.{p}")
    for s, depth in enumerate(SWIN_S["depths"]):
        for b in range(depth):
            mm, hf = f"backbone.stages.{s}.blocks.{b}", f"{swin}.encoder.layers.{s}.blocks.{b}"
            for p in ("weight", "bias"):
                take(f"{mm}.norm1.{p}", f"{hf}.layernorm_before.{p}")
                take(f"{mm}.norm2.{p}", f"{hf}.layernorm_after.{p}")
                q, k, v = left.pop(f"{mm}.attn.w_msa.qkv.{p}").chunk(3, dim=0)
                out.update(
                    {
                        f"{hf}.attention.q_proj.{p}": q,
                        f"{hf}.attention.k_proj.{p}": k,
                        f"{hf}.attention.v_proj.{p}": v,
                    }
                )
                take(f"{mm}.attn.w_msa.proj.{p}", f"{hf}.attention.o_proj.{p}")
                take(f"{mm}.ffn.layers.0.0.{p}", f"{hf}.mlp.fc1.{p}")
                take(f"{mm}.ffn.layers.1.{p}", f"{hf}.mlp.fc2.{p}")
            take(
                f"{mm}.attn.w_msa.relative_position_bias_table",
                f"{hf}.attention.relative_position_bias.relative_position_bias_table",
            )
            left.pop(f"{mm}.attn.w_msa.relative_position_index")  # a fixed buffer, rebuilt
        if s < len(SWIN_S["depths"]) - 1:
            c = SWIN_S["embed_dim"] * 2**s
            mm, hf = f"backbone.stages.{s}.downsample", f"{swin}.encoder.layers.{s}.downsample"
            take(
                f"{mm}.reduction.weight",
                f"{hf}.reduction.weight",
                lambda w, c=c: _unfold_order(w, c),
            )
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
            out.update(
                {
                    f"{hf}.self_attn.q_proj.{p}": q,
                    f"{hf}.self_attn.k_proj.{p}": k,
                    f"{hf}.self_attn.v_proj.{p}": v,
                }
            )
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
            take(
                f"{head}.mask_embed.{i}.{p}",
                f"{DEC}.decoder.mask_predictor.mask_embedder.{j}.0.{p}",
            )
    take(f"{head}.query_embed.weight", f"{DEC}.queries_embedder.weight")
    take(f"{head}.query_feat.weight", f"{DEC}.queries_features.weight")
    take(f"{head}.level_embed.weight", f"{DEC}.level_embed.weight")
    if left:
        raise KeyError(
            f"mask2former: {len(left)} checkpoint keys not converted: {sorted(left)[:8]}"
        )
    return out


# --- the official test-time pipeline and instance post-processing (mmdet 2.28 facts) -----------
MEAN = (123.675, 116.28, 103.53)  # RGB, img_norm_cfg of the config
STD = (58.395, 57.12, 57.375)
SCALE = (1333, 800)  # Resize(keep_ratio=True): long side <= 1333, short side <= 800
PAD = 32
MAX_PER_IMAGE = 100


def rescale_size(h: int, w: int) -> tuple[int, int]:
    """mmcv.imrescale's size: one factor so the long side fits 1333 and the short side 800."""
    factor = min(max(SCALE) / max(h, w), min(SCALE) / min(h, w))
    return int(h * factor + 0.5), int(w * factor + 0.5)


def preprocess(image: Any) -> tuple[Any, tuple[int, int]]:
    """uint8 HWC RGB -> normalised float (3, H', W') padded with zeros to a multiple of 32."""
    import cv2
    import numpy as np
    import torch

    h, w = image.shape[:2]
    nh, nw = rescale_size(h, w)
    resized = cv2.resize(image, (nw, nh), interpolation=cv2.INTER_LINEAR).astype(np.float32)
    norm = (resized - np.array(MEAN, np.float32)) / np.array(STD, np.float32)
    ph, pw = -(-nh // PAD) * PAD, -(-nw // PAD) * PAD
    padded = np.zeros((ph, pw, 3), np.float32)
    padded[:nh, :nw] = norm
    return torch.from_numpy(padded).permute(2, 0, 1), (nh, nw)


def mask2bbox(masks: Any) -> Any:
    """mmdet's mask2bbox: [first x, first y, last x + 1, last y + 1], zeros for empty masks."""
    import torch

    boxes = torch.zeros((masks.shape[0], 4), dtype=torch.float32)
    x_any, y_any = masks.any(dim=1), masks.any(dim=2)
    for i in range(masks.shape[0]):
        xs, ys = torch.where(x_any[i])[0], torch.where(y_any[i])[0]
        if len(xs) and len(ys):
            boxes[i] = torch.tensor([xs[0], ys[0], xs[-1] + 1, ys[-1] + 1], dtype=torch.float32)
    return boxes


def instance_postprocess(
    cls_logits: Any, mask_logits: Any, names: Sequence[str]
) -> tuple[dict[str, Any], dict[str, Any]]:
    """One image: (queries, 81) logits, (queries, H, W) mask logits at the original size ->
    per-class boxes [x1, y1, x2, y2, score] and bool masks, as mmdet's instance_postprocess."""
    import numpy as np
    import torch
    import torch.nn.functional as F

    num_classes = cls_logits.shape[-1] - 1
    scores = F.softmax(cls_logits.float(), dim=-1)[:, :-1]
    labels = torch.arange(num_classes).repeat(cls_logits.shape[0])
    top_scores, top = scores.flatten().topk(MAX_PER_IMAGE, sorted=False)
    labels = labels[top]
    masks = mask_logits[top // num_classes].float()
    binary = masks > 0
    mask_scores = (masks.sigmoid() * binary).flatten(1).sum(1) / (binary.flatten(1).sum(1) + 1e-6)
    det = torch.cat([mask2bbox(binary), (top_scores * mask_scores)[:, None]], 1)
    boxes: dict[str, Any] = {}
    out_masks: dict[str, Any] = {}
    for c in labels.unique().tolist():
        sel = (labels == c).nonzero().flatten()
        boxes[names[c]] = det[sel].numpy()  # float32, as mmdet's: thresholds compare in it
        out_masks[names[c]] = binary[sel].numpy().astype(np.bool_)
    return boxes, out_masks


class Mask2FormerOfficial:
    """The official checkpoint through transformers (``-O detector=m2f-hf``), boxes and masks.

    Images are processed at their own padded size (grouped by size), as the official runs one
    image at a time; masks are upsampled to the padded input, cropped, and resized to the
    original image (bilinear), then post-processed as mmdet 2.x does.
    """

    def __init__(self, device: str = "cpu", path: str | None = None, model: Any = None) -> None:
        import torch

        from evalkit.judges.detection import DetectorInfo
        from evalkit.judges.yolox import COCO80

        if model is None:
            from transformers import Mask2FormerForUniversalSegmentation

            from evalkit.store import resolve

            path = path or str(resolve(CHECKPOINT, "GenEval's official detector"))
            ckpt = torch.load(path, map_location="cpu", weights_only=True)
            with torch.device("meta"):
                model = Mask2FormerForUniversalSegmentation(hf_config())
            model.load_state_dict(
                convert_mmdet_state_dict(ckpt["state_dict"]), strict=False, assign=True
            )
            missing = [k for k, v in model.state_dict().items() if v.is_meta]
            if set(missing) - set(HF_UNMAPPED):
                raise RuntimeError(f"mask2former: weights not loaded for {missing[:5]}")
        self.model = model.to(device).eval()
        self.device = device
        self.names = COCO80
        self.info = DetectorInfo(
            id="m2f-hf",
            weights=f"{CHECKPOINT.filename}",
            official=True,
            masks=True,
            notes="official mmdet checkpoint, transformers",
        )

    def detect_with_masks(self, images: Sequence[Any]) -> list[tuple[dict, dict]]:
        import torch
        import torch.nn.functional as F

        results: list[Any] = [None] * len(images)
        by_size: dict[tuple[int, int], list[int]] = {}
        for i, im in enumerate(images):
            by_size.setdefault(im.shape[:2], []).append(i)
        for (h, w), idx in by_size.items():
            prepared = [preprocess(images[i]) for i in idx]
            pixels = torch.stack([p for p, _ in prepared]).to(self.device)
            nh, nw = prepared[0][1]
            with torch.no_grad():
                out = self.model(pixel_values=pixels)
            masks = F.interpolate(
                out.masks_queries_logits.float(),
                size=pixels.shape[-2:],
                mode="bilinear",
                align_corners=False,
            )[:, :, :nh, :nw]
            masks = F.interpolate(masks, size=(h, w), mode="bilinear", align_corners=False)
            for row, i in enumerate(idx):
                results[i] = instance_postprocess(
                    out.class_queries_logits[row].cpu(), masks[row].cpu(), self.names
                )
        return results

    def detect(self, images: Sequence[Any]) -> list[dict]:
        return [boxes for boxes, _ in self.detect_with_masks(images)]


class MmdetMask2Former:
    """The official runtime (``-O detector=mmdet``): mmdet 2.x's init_detector/inference_detector
    with the config shipped in mmdet, one image at a time as evaluate_images.py does."""

    CONFIG = "mask2former/mask2former_swin-s-p4-w7-224_lsj_8x2_50e_coco.py"

    def __init__(self, device: str = "cpu") -> None:
        import os

        import mmdet
        from mmdet.apis import init_detector

        from evalkit.judges.detection import DetectorInfo
        from evalkit.judges.yolox import COCO80
        from evalkit.store import resolve

        root = os.path.dirname(mmdet.__file__)
        config = next(
            (
                p
                for p in (
                    os.path.join(root, ".mim", "configs", self.CONFIG),
                    os.path.join(root, "..", "configs", self.CONFIG),
                )
                if os.path.isfile(p)
            ),
            None,
        )
        if config is None:
            raise FileNotFoundError(f"mmdet {mmdet.__version__} ships no {self.CONFIG}")
        weights = str(resolve(CHECKPOINT, "GenEval's official detector"))
        self.model = init_detector(config, weights, device=device)
        self.names = COCO80
        self.info = DetectorInfo(
            id="mmdet",
            weights=CHECKPOINT.filename,
            official=True,
            masks=True,
            notes=f"mmdet {mmdet.__version__}",
        )

    def detect_with_masks(self, images: Sequence[Any]) -> list[tuple[dict, dict]]:
        import numpy as np
        from mmdet.apis import inference_detector

        out = []
        for im in images:
            bbox, segm = inference_detector(self.model, np.ascontiguousarray(im[..., ::-1]))
            boxes = {n: np.asarray(bbox[c]) for c, n in enumerate(self.names) if len(bbox[c])}
            masks = {
                n: np.stack(segm[c]).astype(bool) for c, n in enumerate(self.names) if len(bbox[c])
            }
            out.append((boxes, masks))
        return out

    def detect(self, images: Sequence[Any]) -> list[dict]:
        return [boxes for boxes, _ in self.detect_with_masks(images)]
