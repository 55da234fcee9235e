"""`recon`: pixel-level reconstruction quality (PSNR, SSIM) on a photo set.

Default data: real photos shipped in scikit-image's wheel, so the command runs offline anywhere.
Images are resized (shorter side, bicubic) and centre-cropped to the resolution, reconstructed,
clamped and quantised to uint8, then scored against the uint8 input. The protocol (version,
resolution, photo list, metrics) is the card ``benchmarks/recon/card.toml``; the metrics are
resolved by id through ``catalog.metrics``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
import torch

from evalkit import catalog
from evalkit.benchmarks.base import BatchScore, Benchmark, BenchmarkSpec, MetricValue, RunFacts
from evalkit.benchmarks.images import (
    ImageSet,
    embedded_photos,
    folder,
    read_rgb,
    resize_center_crop,
    to_uint8,
)
from evalkit.cards import load_card, metric_ids, protocol_text, registry_metric
from evalkit.metrics.pixel import psnr_rows

ID = "recon"


class Recon(Benchmark):
    def __init__(
        self,
        images: ImageSet,
        resolution: int,
        data_mismatch: str | None = None,
        data: str = "",
        added: Sequence[str] = (),
    ) -> None:
        self.images = images
        card = load_card(ID)
        built = [
            catalog.metrics.build(registry_metric(m))
            for m in card["metrics"]
            if "added_by" not in m or m["id"] in added  # -O metrics=+lpips
        ]
        self.metrics = list({m.id: m for m in built}.values())  # psnr_finite etc. reuse psnr
        self.added = tuple(added)
        self.data_mismatch = data_mismatch  # why the data is not the embedded photos (None: it is)
        self.data = data
        self.spec = BenchmarkSpec(
            name=ID,
            version=card["version"],
            description=card["description"],
            task=card["task"],
            dataset=images.manifest,
            resolution=resolution,
            resize=card["resize"],
            metrics=metric_ids(ID),
            protocol=protocol_text(ID),
            options={"metrics": ",".join(f"+{m}" for m in added)} if added else {},
        )

    def facts(self, scored_ids: Sequence[str]) -> RunFacts:
        return RunFacts(
            unit="image",
            expected=None,  # the card's [dataset] n
            scored=len(self.units_in(scored_ids)),
            data_mismatch=self.data_mismatch,
            options={"data": self.data, "metrics": ",".join(f"+{m}" for m in self.added)},
            resolution=self.spec.resolution,
        )

    def sample_ids(self) -> Sequence[str]:
        return self.images.ids

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
            record: dict[str, Any] = {"sample_id": item["sample_id"]}
            record.update({m.id: m(ref, rec) for m in self.metrics})
            records.append(record)
        return BatchScore(records)

    def summarize(
        self, records: pd.DataFrame, state: dict[str, np.ndarray] | None
    ) -> list[MetricValue]:
        n = len(records)
        by_id = {m.id: m for m in self.metrics}
        return psnr_rows(records["psnr"].to_numpy()) + [
            MetricValue(
                i,
                float(records[i].mean()),
                n,
                by_id[i].higher_is_better,
                metric_version=by_id[i].version,
            )
            for i in ("ssim", "ssim_uniform7", *self.added)
        ]


def build(
    name: str, *, resolution: int | None = None, data: str | None = None, metrics: str = ""
) -> Recon:
    from evalkit.metrics.lpips import added_metrics

    card = load_card(ID)
    images = folder(data) if data else embedded_photos()
    reason = None
    if data:  # a folder is the benchmark's dataset only when it holds exactly the embedded photos
        from evalkit.benchmarks.expected import ExpectedData, mismatch

        own = embedded_photos().manifest
        reason = mismatch(
            images.manifest,
            images.ids,
            ExpectedData(
                f"the embedded photo set ({own.n} scikit-image photos)", sha256=own.sha256
            ),
        )
    res = int(resolution or card["resolutions"][0])
    return Recon(images, res, reason, data or "", added_metrics(metrics, ID))
