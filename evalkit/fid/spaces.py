"""The feature spaces distances are measured in: one name per network and preprocessing.

``inception``: torch-fidelity's inception-v3-compat pool_3 (FID, KID, precision/recall, IS, and
sFID's mixed_6/conv in the same pass); ``dinov2-vit-l-14``: FD-DINOv2 (:mod:`evalkit.fid.dinov2`);
``clip-vit-l-14-336``: CMMD's embeddings (:mod:`evalkit.fid.cmmd`). One network per (space,
weights, device) per process; the weights id and the transform key every cached statistic.
"""

from __future__ import annotations

from typing import Any

INCEPTION = "inception"
DINOV2 = "dinov2-vit-l-14"
CLIP = "clip-vit-l-14-336"
SPACES = (INCEPTION, DINOV2, CLIP)
INCEPTION_TRANSFORM = (
    "none: uint8 as stored; torch-fidelity TF1-bilinear resize to 299 inside the net"
)
#: What the main distance is called in each space (the CLI's and the rows' label).
DISTANCE_NAME = {INCEPTION: "FID", DINOV2: "FD-DINOv2", CLIP: "FD-CLIP"}

_shared: dict[tuple[str, str, str], Any] = {}


def check_space(space: str) -> str:
    if space not in SPACES:
        raise ValueError(f"unknown feature space {space!r}; one of: {', '.join(SPACES)}")
    return space


def feature_net(space: str, weights: str = "auto", device: str = "cpu") -> Any:
    """The shared network of ``space`` (built once per process, device and weights)."""
    check_space(space)
    key = (space, weights, str(device))
    if key not in _shared:
        if space == INCEPTION:
            from evalkit.fid.inception import shared_inception

            _shared[key] = shared_inception(weights, device)  # type: ignore[arg-type]
        elif space == DINOV2:
            from evalkit.fid.dinov2 import Dinov2Features

            _shared[key] = Dinov2Features(device)
        else:
            from evalkit.fid.cmmd import ClipEmbeddings

            _shared[key] = ClipEmbeddings(device)
    return _shared[key]


def weights_id(space: str, weights: str = "auto") -> str:
    """The id of the weights ``space`` would load, without building the network."""
    check_space(space)
    if space == INCEPTION:
        from evalkit.fid.inception import InceptionFeatures

        return InceptionFeatures.pick(weights)[1]  # type: ignore[arg-type]
    from evalkit.filehash import file_sha256
    from evalkit.store import resolve

    if space == DINOV2:
        from evalkit.fid.dinov2 import WEIGHTS as wf
    else:
        from evalkit.fid.cmmd import WEIGHTS as wf
    path = resolve(wf, f"{space} weights")
    return f"{wf.hub_id}:{wf.filename}:{file_sha256(path)[:16]}"


def transform(space: str) -> str:
    """The preprocessing of ``space``, in words (part of every cache key)."""
    check_space(space)
    if space == INCEPTION:
        return INCEPTION_TRANSFORM
    if space == DINOV2:
        from evalkit.fid.dinov2 import TRANSFORM
    else:
        from evalkit.fid.cmmd import TRANSFORM
    return TRANSFORM
