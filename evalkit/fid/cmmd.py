"""CMMD (Jayasumana et al. 2024): MMD between CLIP ViT-L/14@336 image embeddings.

As google-research ``cmmd``: ``io_util`` centre-crops each image to a square (PIL box
``((w - l) // 2, (h - l) // 2)``, ``l = min(w, h)``) and resizes it to 336 x 336 with PIL's bicubic
filter (antialiased, uint8); ``embedding`` divides by 255, resizes bicubically to 336 (a no-op at
336) and applies CLIP's mean/std; scenic's ``vit_l14_336px`` CLIP returns the L2-normalised image
embedding (768 values). ``distance.mmd`` is the biased (V-statistic) MMD^2 with a Gaussian RBF
kernel, sigma 10, multiplied by 1000. We compute the same sums in float64 by blocks (the reference
holds n x n float32 matrices), with open_clip's ``ViT-L-14-336`` (QuickGELU, OpenAI weights).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from evalkit.fid.storednet import StoredNet, normalised, pil_resized
from evalkit.types import WeightsFile

SPACE = "clip-vit-l-14-336"
ARCH = "ViT-L-14-336"
IMAGE_SIZE = 336
DIM = 768
SIGMA = 10.0
SCALE = 1000.0
MEAN = (0.48145466, 0.4578275, 0.40821073)
STD = (0.26862954, 0.26130258, 0.27577711)
TRANSFORM = (
    "cmmd io_util: PIL centre crop to a square, PIL bicubic resize to 336 (uint8), /255, CLIP "
    "mean/std; L2-normalised image embedding"
)
#: OpenAI's CLIP ViT-L/14@336 in open_clip's layout. No revision or sha256 can be read offline:
#: a download needs --allow-unpinned and every row records the sha256 of the file loaded.
WEIGHTS = WeightsFile(
    filename="open_clip_model.safetensors",
    hub_id="timm/vit_large_patch14_clip_336.openai",
    store_path="weights/open_clip/ViT-L-14-336-openai/open_clip_model.safetensors",
)


def mmd(x: np.ndarray, y: np.ndarray, sigma: float = SIGMA, scale: float = SCALE) -> float:
    """``scale * (mean k(x, x') + mean k(y, y') - 2 mean k(x, y))``, k = exp(-|a-b|^2 / 2 sigma^2),
    every mean over all pairs including i = j (cmmd ``distance.mmd``), in float64."""
    x, y = np.asarray(x, np.float64), np.asarray(y, np.float64)
    if x.ndim != 2 or y.ndim != 2 or x.shape[1] != y.shape[1] or not len(x) or not len(y):
        raise ValueError(f"CMMD needs two non-empty (n, d) sets, got {x.shape} and {y.shape}")
    gamma = 1.0 / (2.0 * sigma**2)
    k_xx = _mean_kernel(x, x, gamma)
    k_yy = _mean_kernel(y, y, gamma)
    k_xy = _mean_kernel(x, y, gamma)
    return float(scale * (k_xx + k_yy - 2.0 * k_xy))


def _mean_kernel(a: np.ndarray, b: np.ndarray, gamma: float, block: int = 4096) -> float:
    a_sq, b_sq = (a * a).sum(axis=1), (b * b).sum(axis=1)
    total = 0.0
    for i in range(0, len(a), block):
        rows, rows_sq = a[i : i + block], a_sq[i : i + block]
        for j in range(0, len(b), block):
            d2 = rows_sq[:, None] + b_sq[None, j : j + block] - 2.0 * rows @ b[j : j + block].T
            total += float(np.exp(-gamma * d2).sum())
    return total / (len(a) * len(b))


def preprocess(images_u8: torch.Tensor) -> torch.Tensor:
    """uint8 NCHW (any size) -> float32 N x 3 x 336 x 336, cmmd's crop, resize and CLIP scaling."""
    return normalised(pil_resized(images_u8, IMAGE_SIZE, crop_square=True), MEAN, STD)


def build_model(layers: int = 24) -> Any:
    """open_clip's ViT-L-14-336 image tower with QuickGELU (OpenAI's), no weights (meta device:
    fast); ``encode_image`` is this tower followed by L2 normalisation."""
    import open_clip
    from open_clip.model import _build_vision_tower

    cfg = open_clip.get_model_config(ARCH)
    with torch.device("meta"):
        return _build_vision_tower(
            cfg["embed_dim"], dict(cfg["vision_cfg"], layers=layers), quick_gelu=True
        )


class ClipEmbeddings(StoredNet):
    """uint8 NCHW images -> (N, 768) float64 L2-normalised CLIP image embeddings."""

    space = SPACE
    dim = DIM
    transform = TRANSFORM
    what = "CLIP"
    weights = WEIGHTS
    weights_what = "CLIP ViT-L/14@336 weights (CMMD)"
    in_memory_id = "clip-vit-l-14-336:in-memory"

    def build(self, state: dict[str, torch.Tensor]) -> torch.nn.Module:
        blocks = "visual.transformer.resblocks."
        layers = 1 + max(int(k[len(blocks) :].split(".")[0]) for k in state if k.startswith(blocks))
        net = build_model(layers)
        visual = {k[len("visual.") :]: v for k, v in state.items() if k.startswith("visual.")}
        net.load_state_dict(visual, strict=True, assign=True)
        return net

    def preprocess(self, images_u8: torch.Tensor) -> torch.Tensor:
        return preprocess(images_u8)

    def embed(self, x: torch.Tensor) -> torch.Tensor:
        return torch.nn.functional.normalize(self.net(x), dim=-1)
