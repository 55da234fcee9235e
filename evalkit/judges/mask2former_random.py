"""A seeded random checkpoint of GenEval's Mask2Former Swin-S, in mmdet 2.x's file format.

The official weights cannot be had offline; parity with the official runtime (mmdet) is shown on
random weights of the exact architecture instead (tests/geneval/test_mask2former_parity.py). The
checkpoint is a pure function of the key/shape list (recorded from mmdet's own model) and a seed,
so it is regenerated here, without mmdet, identical to the one the fixture was recorded with.

Scales are chosen so the outputs are not degenerate: unit-variance activations through the
network (weights ~ N(0, 1/fan_in)), norms near identity; the query decoder's residual branches
damped (its post-norm layers otherwise wash out the 100 queries' differences: every query then
predicts one class), a classifier with logit spread 4 and mask logits scaled by 3, so that
scores spread over (0, 1) with some above GenEval's 0.3 and 0.9 and several classes per image.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import torch

RECIPE = "evalkit-m2f-random-v1"
#: standard deviation of a class logit (the classifier sees unit-variance 256-d queries)
CLASS_LOGIT_STD = 4.0
#: the query decoder's attention output projections and FFN output layers, times this
DECODER_RESIDUAL_GAIN = 0.05
#: the mask embedding's last layer, times this (sharper masks: mask scores near 1)
MASK_EMBED_GAIN = 3.0
DECODER_RESIDUALS = ("out_proj.weight", "ffns.0.layers.1.weight")
EMBEDDINGS = (
    "query_embed.weight",
    "query_feat.weight",
    "level_embed.weight",
    "level_encoding.weight",
)


def relative_position_index(window: int) -> torch.Tensor:
    """Swin's (window², window²) index into the relative position bias table (a fixed buffer)."""
    import torch

    coords = torch.stack(torch.meshgrid(torch.arange(window), torch.arange(window), indexing="ij"))
    flat = coords.flatten(1)
    rel = (flat[:, :, None] - flat[:, None, :]).permute(1, 2, 0) + (window - 1)
    return rel[:, :, 0] * (2 * window - 1) + rel[:, :, 1]


def random_state_dict(shapes: Mapping[str, Sequence[int]], seed: int) -> dict[str, torch.Tensor]:
    """One tensor per key, drawn in the list's order from one ``torch.Generator(seed)``."""
    import torch

    g = torch.Generator().manual_seed(seed)
    out: dict[str, torch.Tensor] = {}
    for key, shape in shapes.items():
        shape = tuple(shape)
        if key.endswith("relative_position_index"):
            out[key] = relative_position_index(int(round(shape[0] ** 0.5)))
            continue
        noise = torch.randn(shape, generator=g, dtype=torch.float32)
        prefix = key.rsplit(".", 1)[0]
        if len(shape) == 1 and key.endswith(".weight"):  # a norm's scale
            out[key] = 1.0 + 0.1 * noise
        elif len(shape) == 1:  # a bias (of a norm or a layer)
            out[key] = 0.1 * noise
        elif key.endswith(EMBEDDINGS) or key.endswith("relative_position_bias_table"):
            out[key] = noise
        elif prefix.endswith("cls_embed"):
            out[key] = noise * (CLASS_LOGIT_STD / shape[1] ** 0.5)
        else:  # linear, conv, attention projections: unit gain
            fan_in = 1
            for n in shape[1:]:
                fan_in *= n
            gain = 1.0
            if key.startswith("panoptic_head.transformer_decoder.") and key.endswith(
                DECODER_RESIDUALS
            ):
                gain = DECODER_RESIDUAL_GAIN
            elif key == "panoptic_head.mask_embed.4.weight":
                gain = MASK_EMBED_GAIN
            out[key] = noise * (gain / fan_in**0.5)
    return out


def state_dict_sha256(state: Mapping[str, torch.Tensor]) -> str:
    """One digest over every key, dtype, shape and value, in order: the checkpoint's identity."""
    h = hashlib.sha256()
    for key, tensor in state.items():
        t = tensor.detach().cpu().contiguous()
        h.update(f"{key}|{t.dtype}|{tuple(t.shape)}|".encode())
        h.update(t.numpy().tobytes())
    return h.hexdigest()


def save_mmdet_checkpoint(
    path: Any, state: Mapping[str, torch.Tensor], classes: Sequence[str]
) -> None:
    """mmdet 2.x's checkpoint layout: ``{"meta": {..., "CLASSES": ...}, "state_dict": ...}``."""
    import torch

    meta = {"CLASSES": tuple(classes), "recipe": RECIPE}
    torch.save({"meta": meta, "state_dict": dict(state)}, str(path))
