"""Seeded random weights of the real feature networks (DINOv2 ViT-L/14, CLIP ViT-L/14@336).

No real DINOv2 or CLIP weights can be had offline, so parity fixtures run the official code and
ours on the same random weights, regenerated here from a seed (the files would be 1.2-1.7 GB).
Values are scaled so activations stay in a sane range through every block: matrices ~ N(0,
1/fan_in), norm scales ~ 1, LayerScale ~ 0.1, biases and embeddings small.
"""

from __future__ import annotations

import math

import torch

EMBEDDINGS = ("pos_embed", "cls_token", "positional_embedding")


def seeded_state(
    shapes: dict[str, tuple[int, ...]], seed: int, scalars: dict[str, float] | None = None
) -> dict[str, torch.Tensor]:
    """One float32 tensor per name (in sorted order, from one torch generator seeded ``seed``)."""
    g = torch.Generator().manual_seed(seed)
    out: dict[str, torch.Tensor] = {}
    for name in sorted(shapes):
        shape = tuple(shapes[name])
        noise = torch.randn(shape, generator=g, dtype=torch.float32)
        leaf = name.rsplit(".", 1)[-1]
        if scalars and name in scalars:
            out[name] = torch.full(shape, scalars[name])
        elif leaf == "gamma":  # LayerScale
            out[name] = 0.1 + 0.02 * noise
        elif len(shape) == 1 and leaf == "weight":  # LayerNorm scale
            out[name] = 1.0 + 0.05 * noise
        elif leaf == "bias" or len(shape) <= 1 or name.endswith(EMBEDDINGS):
            out[name] = 0.02 * noise
        else:
            fan_in = shape[0] if leaf == "proj" else math.prod(shape[1:])  # x @ proj: rows in
            out[name] = noise / math.sqrt(fan_in)
    return out


def dinov2_state(seed: int = 0, depth: int = 24) -> dict[str, torch.Tensor]:
    """timm-layout ``vit_large_patch14_dinov2`` weights at the checkpoint's 518 px grid (plus
    the official ``mask_token``), ``depth`` blocks."""
    import timm

    with torch.device("meta"):
        model = timm.create_model(
            "vit_large_patch14_dinov2", pretrained=False, num_classes=0, depth=depth
        )
    shapes = {k: tuple(v.shape) for k, v in model.state_dict().items()}
    shapes["mask_token"] = (1, shapes["cls_token"][-1])
    return seeded_state(shapes, seed)


def clip_state(seed: int = 0, layers: int = 24) -> dict[str, torch.Tensor]:
    """OpenAI-layout ``ViT-L-14-336`` image-tower weights (``visual.*``), ``layers`` blocks."""
    from evalkit.fid.cmmd import build_model

    shapes = {f"visual.{k}": tuple(v.shape) for k, v in build_model(layers).state_dict().items()}
    return seeded_state(shapes, seed)
