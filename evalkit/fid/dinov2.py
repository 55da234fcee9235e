"""DINOv2 ViT-L/14 features for FD-DINOv2, with dgm-eval's preprocessing.

What dgm-eval (layer6ai-labs/dgm-eval ``DINOv2Encoder``) does, and EDM2's ``fd_dinov2`` with
``resize_mode='pil'`` (its "reference implementation that matches the original dgm-eval codebase
exactly"), and what we do:

- resize: every image, whatever its aspect, to 224 x 224 with PIL's bicubic filter on the uint8
  RGB image (antialiased by PIL, result rounded to uint8); no crop, no aspect preservation;
- normalisation: ``/ 255``, then ImageNet mean (0.485, 0.456, 0.406) and std (0.229, 0.224,
  0.225);
- network: the official ``dinov2_vitl14`` (torch hub: img_size 518, patch 14, LayerScale, no
  registers). At 224 px its 37 x 37 position embeddings are interpolated bicubically, without
  antialias, with the scale factor ``(16 + 0.1) / 37`` (DINOv2's ``interpolate_offset``), which
  transformers' and timm's own resampling do not reproduce; we compute those 16 x 16 embeddings
  once, the official way, and run timm's ViT-L/14 at a fixed 224 px;
- feature: the final-LayerNorm CLS token (1024 values), as the hub model returns it.

EDM2's default ``resize_mode='torch'`` (``F.interpolate(bicubic, antialias=True)`` on float
values, no uint8 rounding) is not what we run; its features differ slightly (see the tests).
"""

from __future__ import annotations

import math
from typing import Any

import torch

from evalkit.fid.storednet import StoredNet, normalised, pil_resized
from evalkit.types import WeightsFile

SPACE = "dinov2-vit-l-14"
IMAGE_SIZE = 224
PATCH = 14
DIM = 1024
GRID_518 = 37  # the checkpoint's position grid (518 / 14)
INTERPOLATE_OFFSET = 0.1
MEAN = (0.485, 0.456, 0.406)
STD = (0.229, 0.224, 0.225)
TRANSFORM = (
    "dgm-eval DINOv2: PIL bicubic resize to 224x224 (uint8, no crop), /255, ImageNet mean/std; "
    "pos-embed 37->16 bicubic, scale (16+0.1)/37, no antialias; final-norm CLS token"
)
TIMM_ARCH = "vit_large_patch14_dinov2"
#: DINOv2 ViT-L/14 (LVD-142M) in timm's layout. No revision or sha256 can be read offline:
#: a download needs --allow-unpinned and every row records the sha256 of the file loaded.
WEIGHTS = WeightsFile(
    filename="model.safetensors",
    hub_id="timm/vit_large_patch14_dinov2.lvd142m",
    store_path="weights/timm/vit_large_patch14_dinov2.lvd142m/model.safetensors",
)


def build_model(depth: int = 24) -> Any:
    """timm's ViT-L/14 DINOv2 at a fixed 224 px, no weights (built on the meta device: fast)."""
    import timm

    with torch.device("meta"):
        return timm.create_model(
            TIMM_ARCH, pretrained=False, img_size=IMAGE_SIZE, num_classes=0, depth=depth
        )


def pos_embed_224(pos_embed: torch.Tensor) -> torch.Tensor:
    """(1, 1 + 37*37, D) checkpoint embeddings -> (1, 1 + 16*16, D), as DINOv2's
    ``interpolate_pos_encoding`` computes them for a 224 x 224 input."""
    n = pos_embed.shape[1] - 1
    m = int(math.isqrt(n))
    if m * m != n:
        raise ValueError(f"position embeddings of {n} patches are not a square grid")
    grid = IMAGE_SIZE // PATCH
    if m == grid:
        return pos_embed
    dim = pos_embed.shape[-1]
    patches = pos_embed[:, 1:].float().reshape(1, m, m, dim).permute(0, 3, 1, 2)
    scale = float(grid + INTERPOLATE_OFFSET) / m
    out = torch.nn.functional.interpolate(
        patches, mode="bicubic", antialias=False, scale_factor=(scale, scale)
    )
    if out.shape[-2:] != (grid, grid):
        raise ValueError(f"interpolated grid {tuple(out.shape[-2:])}, expected {grid}")
    out = out.permute(0, 2, 3, 1).reshape(1, grid * grid, dim)
    return torch.cat([pos_embed[:, :1].float(), out], dim=1).to(pos_embed.dtype)


def load_state(model: Any, state: dict[str, torch.Tensor]) -> Any:
    """Load a timm-layout DINOv2 state dict (518 px position grid) into :func:`build_model`."""
    state = {k: v for k, v in state.items() if k != "mask_token"}  # training-only token
    state["pos_embed"] = pos_embed_224(state["pos_embed"])
    model.load_state_dict(state, strict=True, assign=True)
    return model.eval().requires_grad_(False)


def preprocess(images_u8: torch.Tensor) -> torch.Tensor:
    """uint8 NCHW (any size) -> float32 N x 3 x 224 x 224, dgm-eval's transform."""
    return normalised(pil_resized(images_u8, IMAGE_SIZE), MEAN, STD)


class Dinov2Features(StoredNet):
    """uint8 NCHW images -> (N, 1024) float64 DINOv2 CLS features, with provenance."""

    space = SPACE
    dim = DIM
    transform = TRANSFORM
    what = "DINOv2"
    weights = WEIGHTS
    weights_what = "DINOv2 ViT-L/14 weights (FD-DINOv2)"
    in_memory_id = "dinov2-vit-l-14:in-memory"

    def build(self, state: dict[str, torch.Tensor]) -> torch.nn.Module:
        depth = 1 + max(int(k.split(".")[1]) for k in state if k.startswith("blocks."))
        return load_state(build_model(depth), state)

    def preprocess(self, images_u8: torch.Tensor) -> torch.Tensor:
        return preprocess(images_u8)
