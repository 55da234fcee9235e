"""ADM (openai/guided-diffusion ``evaluations/``) npz batches.

A reference batch such as ``VIRTUAL_imagenet256_labeled.npz`` holds ``mu``/``sigma``
(pool_3 over the whole training set, used for FID), often ``mu_s``/``sigma_s`` (spatial, sFID)
and ``arr_0``: 10,000 reference images (uint8 NHWC) for precision/recall. A sample batch holds
``arr_0`` only.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from evalkit.fid.stats import FeatureStats, GaussianStats


@dataclass
class NpzBatch:
    """What an npz file gave us: fixed statistics, images, or our own summable statistics."""

    path: Path
    gaussian: GaussianStats | None = None
    images: np.ndarray | None = None  # uint8 NHWC
    stats: FeatureStats | None = None
    spatial: GaussianStats | None = None  # mu_s/sigma_s: sFID's reference statistics


def load_npz(path: str | Path) -> NpzBatch:
    """Read an ADM reference/sample batch or an evalkit statistics file."""
    path = Path(path)
    import zipfile

    if not zipfile.is_zipfile(path):  # np.load would suggest unpickling it: never
        raise ValueError(f"{path}: not an .npz file (no zip archive of arrays inside)")
    with np.load(path, allow_pickle=False) as z:
        files = set(z.files)
        out = NpzBatch(path)
        if {"mu", "sigma"} <= files:
            mu, sigma = z["mu"].astype(np.float64), z["sigma"].astype(np.float64)
            if mu.ndim != 1 or sigma.shape != (len(mu), len(mu)):
                raise ValueError(f"{path}: mu {mu.shape} / sigma {sigma.shape} are not a Gaussian")
            out.gaussian = GaussianStats(mu, sigma, None)
        if {"mu_s", "sigma_s"} <= files:
            out.spatial = GaussianStats(
                z["mu_s"].astype(np.float64), z["sigma_s"].astype(np.float64)
            )
        if {"n", "s", "q"} <= files:
            out.stats = FeatureStats.from_state({k: z[k] for k in ("n", "s", "q")})
        if "arr_0" in files:
            images = z["arr_0"]
            if images.dtype != np.uint8 or images.ndim != 4 or images.shape[-1] != 3:
                raise ValueError(
                    f"{path}: arr_0 must be uint8 NHWC RGB, got {images.dtype} {images.shape}"
                )
            out.images = images
    if out.gaussian is None and out.images is None and out.stats is None:
        raise ValueError(
            f"{path}: no 'mu'/'sigma', no 'arr_0' images and no evalkit statistics (keys: "
            f"{sorted(files)})"
        )
    return out
