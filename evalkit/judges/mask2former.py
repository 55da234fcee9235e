"""GenEval's official detector: Mask2Former Swin-S COCO (mmdet 2.x checkpoint), three runtimes.

The checkpoint is converted key by key to transformers' Mask2FormerForUniversalSegmentation at
load time (:func:`convert_mmdet_state_dict`; keys and shapes checked against the list recorded from
mmdet's own model). The test-time pipeline and post-processing follow mmdet 2.x; both are compared
with mmdet itself on a seeded random checkpoint (tests/geneval/test_mask2former_parity.py).
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
PAD_VALUE = 128  # Pad(size_divisor=32, pad_val=dict(img=(128, 128, 128))) before Normalize
MAX_PER_IMAGE = 100


def rescale_size(h: int, w: int) -> tuple[int, int]:
    """mmcv.imrescale's size: one factor so the long side fits 1333 and the short side 800."""
    factor = min(max(SCALE) / max(h, w), min(SCALE) / min(h, w))
    return int(h * factor + 0.5), int(w * factor + 0.5)


def preprocess(image: Any) -> tuple[Any, tuple[int, int]]:
    """uint8 HWC RGB -> float (3, H', W'), as mmdet's test pipeline: Resize (bilinear, uint8),
    Pad to a multiple of 32 with 128 on the uint8 image, THEN Normalize (mmcv.imnormalize's
    cv2 subtract and multiply by 1/std). The padding is thus (128 - mean) / std, not zero."""
    import cv2
    import numpy as np
    import torch

    h, w = image.shape[:2]
    nh, nw = rescale_size(h, w)
    resized = cv2.resize(image, (nw, nh), interpolation=cv2.INTER_LINEAR)
    ph, pw = padded_size(nh, nw)
    padded = np.full((ph, pw, 3), PAD_VALUE, np.uint8)
    padded[:nh, :nw] = resized
    pixels = padded.astype(np.float32)
    cv2.subtract(pixels, np.array([MEAN], np.float64), pixels)
    cv2.multiply(pixels, 1.0 / np.array([STD], np.float64), pixels)
    return torch.from_numpy(pixels).permute(2, 0, 1), (nh, nw)


def padded_size(h: int, w: int) -> tuple[int, int]:
    """mmcv.impad_to_multiple: bottom and right up to the next multiple of 32."""
    return -(-h // PAD) * PAD, -(-w // PAD) * PAD


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
        boxes[names[c]] = det[sel].double().numpy()
        out_masks[names[c]] = binary[sel].numpy().astype(np.bool_)
    return boxes, out_masks


def load_mmdet_checkpoint(path: str) -> Any:
    """transformers' Mask2Former with the weights of an mmdet 2.x checkpoint file.

    Built on ``meta`` (no random init of 69M parameters) and loaded with ``assign=True``; what no
    checkpoint key fills is then made here: Swin's ``relative_position_index`` (a non-persistent
    buffer that only ``from_pretrained`` fills), the loss's ``empty_weight`` and Swin's unused
    final norm. Raises when any parameter or buffer is still on ``meta``.
    """
    import torch
    from transformers import Mask2FormerForUniversalSegmentation

    ckpt = torch.load(path, map_location="cpu", weights_only=True)
    state = ckpt.get("state_dict", ckpt)
    with torch.device("meta"):
        model = Mask2FormerForUniversalSegmentation(hf_config())
    model.load_state_dict(convert_mmdet_state_dict(state), strict=False, assign=True)
    _materialise_unloaded(model)
    left = [n for n, t in (*model.named_parameters(), *model.named_buffers()) if t.is_meta]
    if left:
        raise RuntimeError(f"mask2former: {path}: weights not loaded for {left[:5]}")
    return model


def _materialise_unloaded(model: Any) -> None:
    """Fill the tensors no mmdet key maps to (they stay on ``meta`` after an assign load)."""
    import torch

    for module in model.modules():
        index = getattr(module, "relative_position_index", None)
        if index is not None and index.is_meta:
            module.relative_position_index = module._create_relative_position_index().view(-1)
    swin_norm = model.model.pixel_level_module.encoder.swin.layernorm  # unused by Mask2Former
    if swin_norm.weight.is_meta:
        swin_norm.weight = torch.nn.Parameter(torch.ones(swin_norm.weight.shape))
        swin_norm.bias = torch.nn.Parameter(torch.zeros(swin_norm.bias.shape))
    criterion = model.criterion
    if criterion.empty_weight.is_meta:  # the loss's class weights; inference never reads them
        weight = torch.ones(criterion.num_labels + 1)
        weight[-1] = criterion.eos_coef
        criterion.empty_weight = weight


class Mask2FormerOfficial:
    """The official checkpoint through transformers (``-O detector=m2f-hf``), boxes and masks.

    Each image is prepared alone, as the official runs one at a time (resized, padded with 128 to
    its own multiple of 32, normalised); images whose padded sizes are equal share a forward pass
    (the pixel decoder gets no padding mask, so mixing sizes would change the result). Masks are
    upsampled to the padded input, cropped, resized to the original image (bilinear), then
    post-processed as mmdet 2.x does.
    """

    def __init__(self, device: str = "cpu", path: str | None = None, model: Any = None) -> None:
        from evalkit.judges.detection import DetectorInfo
        from evalkit.judges.yolox import COCO80

        if model is None:
            from evalkit.store import resolve

            path = path or str(resolve(CHECKPOINT, "GenEval's official detector"))
            model = load_mmdet_checkpoint(path)
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
        prepared = [preprocess(im) for im in images]
        by_padded: dict[tuple[int, ...], list[int]] = {}
        for i, (pixels, _) in enumerate(prepared):
            by_padded.setdefault(tuple(pixels.shape), []).append(i)
        for idx in by_padded.values():
            pixels = torch.stack([prepared[i][0] for i in idx]).to(self.device)
            with torch.no_grad():
                out = self.model(pixel_values=pixels)
            masks = F.interpolate(
                out.masks_queries_logits.float(),
                size=pixels.shape[-2:],
                mode="bilinear",
                align_corners=False,
            )
            for row, i in enumerate(idx):
                (nh, nw), (h, w) = prepared[i][1], images[i].shape[:2]
                mask = F.interpolate(
                    masks[row : row + 1, :, :nh, :nw],
                    size=(h, w),
                    mode="bilinear",
                    align_corners=False,
                )[0]
                results[i] = instance_postprocess(
                    out.class_queries_logits[row].cpu(), mask.cpu(), self.names
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
            boxes = {
                n: np.asarray(bbox[c], np.float64) for c, n in enumerate(self.names) if len(bbox[c])
            }
            masks = {
                n: np.stack(segm[c]).astype(bool) for c, n in enumerate(self.names) if len(bbox[c])
            }
            out.append((boxes, masks))
        return out

    def detect(self, images: Sequence[Any]) -> list[dict]:
        return [boxes for boxes, _ in self.detect_with_masks(images)]
