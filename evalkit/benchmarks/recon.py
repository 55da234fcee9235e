"""`recon`: pixel-level reconstruction quality (PSNR, SSIM) on a photo set.

Default data: real photos shipped in scikit-image's wheel, so the command runs offline anywhere.
Images are resized (shorter side, bicubic) and centre-cropped to the resolution, reconstructed,
clamped and quantised to uint8, then scored against the uint8 input.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
import torch

from evalkit.benchmarks.base import BatchScore, Benchmark, BenchmarkSpec, MetricValue
from evalkit.benchmarks.images import (
    ImageSet,
    embedded_photos,
    folder,
    read_rgb,
    resize_center_crop,
    to_uint8,
)
from evalkit.metrics.pixel import psnr, psnr_rows, ssim, ssim_uniform7

VERSION = "1.0"


class Recon(Benchmark):
    def __init__(self, images: ImageSet, resolution: int, limit: int | None) -> None:
        self.images = images
        n = len(images.ids) if limit is None else min(limit, len(images.ids))
        self.n = n
        self.spec = BenchmarkSpec(
            name="recon",
            version=VERSION,
            description="PSNR and SSIM of reconstructions against the uint8 input",
            task="reconstruction",
            dataset=images.manifest,
            resolution=resolution,
            resize="shorter side bicubic (Pillow, antialiased) + centre crop",
            metrics=("psnr", "psnr_finite", "n_identical", "ssim", "ssim_uniform7"),
            protocol="pixel fidelity on uint8 images; skimage metrics, data_range 255",
            options={"limit": limit},
            comparable=limit is None,
        )

    def sample_ids(self) -> Sequence[str]:
        return self.images.ids[: self.n]

    def load(self, index: int) -> dict[str, Any]:
        sample_id = self.images.ids[index]
        im = resize_center_crop(read_rgb(self.images.paths[index], sample_id), self.spec.resolution)
        ref = np.asarray(im, dtype=np.uint8)
        x = torch.from_numpy(ref.copy()).permute(2, 0, 1).float().div(255.0)
        return {"input": x, "reference": ref}

    def score(self, items: list[dict[str, Any]], outputs: torch.Tensor) -> BatchScore:
        recon = to_uint8(outputs)
        records = []
        for item, rec in zip(items, recon):
            ref = item["reference"]
            records.append({"sample_id": item["sample_id"], "psnr": psnr(ref, rec),
                            "ssim": ssim(ref, rec), "ssim_uniform7": ssim_uniform7(ref, rec)})
        return BatchScore(records)

    def summarize(self, records: pd.DataFrame, state: dict[str, np.ndarray] | None
                  ) -> list[MetricValue]:
        n = len(records)
        return psnr_rows(records[psnr.name].to_numpy()) + [
            MetricValue(m.name, float(records[m.name].mean()), n, m.higher_is_better,
                        metric_version=m.version)
            for m in (ssim, ssim_uniform7)
        ]


def build(name: str, *, resolution: int | None = None, limit: int | None = None,
          data: str | None = None) -> Recon:
    images = folder(data) if data else embedded_photos()
    return Recon(images, resolution or 256, limit)
