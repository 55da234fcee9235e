"""What FD-DINOv2's and CMMD's feature networks share: weights from the store (or a state dict
given by tests), uint8 input checks, float64 output that refuses NaN/inf."""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from evalkit.types import WeightsFile


def load_weights(wf: WeightsFile, what: str) -> tuple[dict[str, torch.Tensor], str]:
    """(state dict, weights id ``hub_id:file:sha256[:16]``) of ``wf`` from the store/cache."""
    from safetensors.torch import load_file

    from evalkit.filehash import file_sha256
    from evalkit.store import resolve

    path = resolve(wf, what)
    return load_file(str(path)), f"{wf.hub_id}:{wf.filename}:{file_sha256(path)[:16]}"


def pil_resized(images_u8: torch.Tensor, size: int, crop_square: bool = False) -> torch.Tensor:
    """uint8 NCHW -> float32 N x 3 x size x size in [0, 1]: PIL bicubic (antialiased, uint8
    rounding) per image, after a centre crop to a square (PIL box) when ``crop_square``."""
    from PIL import Image

    out = []
    for a in images_u8.permute(0, 2, 3, 1).cpu().numpy():
        im = Image.fromarray(a, "RGB")
        if crop_square:
            w, h = im.size
            side = min(w, h)
            top, left = (h - side) // 2, (w - side) // 2
            im = im.crop((left, top, left + side, top + side))
        out.append(np.asarray(im.resize((size, size), resample=Image.Resampling.BICUBIC)))
    return torch.from_numpy(np.stack(out)).permute(0, 3, 1, 2).float() / 255.0


def normalised(x: torch.Tensor, mean: tuple[float, ...], std: tuple[float, ...]) -> torch.Tensor:
    return (x - torch.tensor(mean).view(1, 3, 1, 1)) / torch.tensor(std).view(1, 3, 1, 1)


class StoredNet:
    """Base: ``self.net`` maps preprocessed images to features. Subclasses set ``space``,
    ``dim``, ``transform``, ``what``, the store file ``weights`` (named ``weights_what`` in
    messages, ``in_memory_id`` for a state dict given by tests) and implement ``build``,
    ``preprocess`` and ``embed``."""

    space = ""
    dim = 0
    transform = ""
    what = ""
    has_logits = False
    weights: WeightsFile
    weights_what = ""
    in_memory_id = ""
    net: Any

    def __init__(
        self,
        device: str | torch.device = "cpu",
        state: dict[str, torch.Tensor] | None = None,
        weights_id: str | None = None,
    ) -> None:
        if state is None:
            state, weights_id = load_weights(self.weights, self.weights_what)
        self.net = self.build(state).eval().requires_grad_(False).to(device)
        self.device = torch.device(device)
        self.weights_id = weights_id or self.in_memory_id

    def build(self, state: dict[str, torch.Tensor]) -> torch.nn.Module:
        """The network of ``state`` (its depth read from the keys), loaded strictly."""
        raise NotImplementedError

    def preprocess(self, images_u8: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def embed(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)

    @torch.no_grad()
    def __call__(self, images_u8: torch.Tensor, **_: Any) -> Any:
        from evalkit.fid.inception import Features, check_finite

        if images_u8.dtype != torch.uint8 or images_u8.dim() != 4 or images_u8.shape[1] != 3:
            raise ValueError(
                f"expected uint8 Nx3xHxW, got {images_u8.dtype} {tuple(images_u8.shape)}"
            )
        out = self.embed(self.preprocess(images_u8).to(self.device))
        return Features(pool=check_finite(out.double().cpu().numpy(), self.what), logits=None)
