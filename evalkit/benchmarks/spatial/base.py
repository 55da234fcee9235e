"""Shared runner side of the spatial benchmarks: items, generation or folders, detection, rows.

An item is one image: its sample id, prompt, objects, relation and file name in the official
layout. With a generator model the runner makes the image from ``condition`` (seed =
``sample_seed(--seed, prompt_index, image_index)``) and keeps it at ``image_path``; with
``--model samples:NAME -O samples=DIR`` the benchmark reads ``DIR/<file>`` itself, judges it at
its own size (images of different sizes may share a batch) and puts the content of every file it
reads into the run's dataset sha256 (:mod:`evalkit.benchmarks.samplefiles`).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch

from evalkit.benchmarks.base import BatchScore, Benchmark, BenchmarkSpec, MetricValue, RunFacts
from evalkit.benchmarks.spatial import detectors
from evalkit.types import InputFileError

VISOR_METRICS = ("oa", "visor_cond", "visor_uncond", "visor_1", "visor_2", "visor_3", "visor_4")


def _key(metric_id: str) -> str:
    """Our metric id -> the key of ``visor_summary`` (the official table's names)."""
    return {"oa": "OA", "visor_cond": "VISOR_cond", "visor_uncond": "VISOR_uncond"}.get(
        metric_id, metric_id.upper()
    )


def as_bool(value: Any, name: str) -> bool:
    if isinstance(value, bool):
        return value
    if str(value).lower() in ("true", "1", "yes"):
        return True
    if str(value).lower() in ("false", "0", "no"):
        return False
    raise ValueError(f"option {name} must be true or false, not {value!r}")


class SpatialBenchmark(Benchmark):
    """Subclasses set ``spec``, ``items``, ``official_detector`` and implement ``judge``."""

    items: list[dict[str, Any]]
    official_detector: str

    def __init__(
        self,
        detector: str | None,
        samples: str | None,
        allow_missing: bool,
        overlays: bool,
        scores: str = "",
    ) -> None:
        from evalkit.scores.extra import ExtraScores

        self.extra = ExtraScores.from_option(scores)  # -O scores=: extra per-image scores
        self.detector_name = detector or self.official_detector
        self.samples = Path(samples).expanduser() if samples else None
        self.allow_missing = allow_missing
        self.overlays = overlays
        self.detector: Any = None
        self.run_dir: Path | None = None
        self.missing: list[str] = []
        self.samples_manifest: str | None = None  # content of the folder, set by check()

    # --- options and spec -------------------------------------------------------------------
    def base_options(self) -> dict[str, Any]:
        options = {
            "detector": self.detector_name,
            "samples": str(self.samples or ""),
            "allow_missing": self.allow_missing,
            "overlays": self.overlays,
        }
        if self.extra.ids:  # only when asked: runs without it keep their keys
            options["scores"] = self.extra.option()
        return options

    unit = "prompt"  # one prompt with all its images (spatial-compare: one image)
    verdict = "visor_correct"  # the per-image verdict column -O scores= are ranked against
    subset: str | None = None  # a protocol subset in effect (visor: prompts=N)

    def facts(self, scored_ids: Sequence[str]) -> RunFacts:
        return RunFacts(
            unit=self.unit,
            expected=None,  # the card's [dataset] n
            scored=len(self.units_in(scored_ids)),
            missing=len(self.missing),
            subset=self.subset,
            judges={"detector": self.detector_name},
            options=dict(self.spec.options),
        )

    def sample_units(self) -> Sequence[str]:
        return [str(it["prompt_index"]) for it in self.items]

    # --- runner hooks -------------------------------------------------------------------------
    def check(self) -> None:
        detectors.check_available(self.detector_name, self.spec.name)
        if self.samples is not None and self.samples_manifest is None:
            from evalkit.benchmarks.samplefiles import addressed, folder_manifest

            files = [self.samples / it["file"] for it in self.items]
            self.samples_manifest = folder_manifest(self.samples, files, self.metadata_files())
            self.spec = addressed(self.spec, self.samples_manifest)

        self.extra.check()

    def metadata_files(self) -> list[Path]:
        """Prompt or label files read from (or beside) the samples folder, hashed with it."""
        return []

    def setup(self, device: torch.device) -> None:
        if self.detector is None:
            self.detector = detectors.build(self.detector_name, str(device))
        self.extra.setup(str(device))

    def prepare_run_dir(self, run_dir: Path) -> None:
        self.run_dir = run_dir

    def sample_ids(self) -> Sequence[str]:
        return [it["sample_id"] for it in self.items]

    def image_path(self, item: dict[str, Any]) -> str | None:
        return item["file"]

    def load(self, index: int) -> dict[str, Any]:
        item = dict(self.items[index])
        if self.samples is None:
            from evalkit.seeding import sample_seed
            from evalkit.types import Condition

            p, k = item["prompt_index"], item["image_index"]
            item["condition"] = Condition(
                seed=sample_seed(self.run_seed, p, k),
                prompt=item["prompt"],
                extra={"prompt_index": p, "image_index": k},
            )
            return item
        from evalkit.benchmarks.images import read_rgb

        path = self.samples / item["file"]
        item["image"] = np.asarray(read_rgb(path, item["sample_id"]), np.uint8).copy()
        item["input"] = torch.zeros(3, 1, 1)  # placeholder through the samples model
        return item

    def score(self, items: list[dict[str, Any]], outputs: torch.Tensor) -> BatchScore:
        u8 = outputs.mul(255).round().clamp(0, 255).to(torch.uint8).permute(0, 2, 3, 1).numpy()
        images = [it.get("image", np.ascontiguousarray(a)) for it, a in zip(items, u8)]
        ids = [it["sample_id"] for it in items]
        queries = [[it["obj1"], it["obj2"]] for it in items]
        found = detectors.detect(self.detector, images, queries, ids)
        records = []
        for item, image, dets in zip(items, images, found):
            rec = {
                "sample_id": item["sample_id"],
                "prompt": item["prompt"],
                "obj1": item["obj1"],
                "obj2": item["obj2"],
                "relation": item["relation"],
                "prompt_index": item["prompt_index"],
                "image_index": item["image_index"],
                "height": image.shape[0],
                "width": image.shape[1],
                "detector": self.detector_name,
            }
            rec.update(self.judge(item, dets, image.shape[:2]))
            records.append(rec)
            if self.overlays and self.run_dir is not None:
                from evalkit.benchmarks.spatial.overlays import draw

                draw(image, rec, self.run_dir / "overlays" / f"{item['sample_id']}.png")
        self.extra.add(records, images, [r["prompt"] for r in records])
        return BatchScore(records)

    def summarize(self, records: pd.DataFrame, state: Any) -> list[MetricValue]:
        """The rule's numbers, then one mean per ``-O scores=`` score."""
        images = records.drop_duplicates("sample_id", keep="last")
        if self.extra.ids and self.run_dir is not None and self.verdict in images:
            from evalkit.scores import agreement

            agreement.write(self.run_dir, images, self.verdict, self.extra.ids)
        return self.summarize_rule(records, state) + self.extra.summarize(images)

    def summarize_rule(self, records: pd.DataFrame, state: Any) -> list[MetricValue]:
        raise NotImplementedError

    def judge(
        self, item: dict[str, Any], dets: dict[str, np.ndarray], size: tuple[int, int]
    ) -> dict[str, Any]:
        raise NotImplementedError

    def describe_judges(self) -> dict[str, str]:
        if self.detector is not None:
            info = self.detector.info
            return {"detector": info.id, "detector_weights": info.weights}
        return {"detector": self.detector_name}

    def reported_value(self, card: Any, value: MetricValue) -> float | None:
        """The card's ``reported.csv`` row whose ``evalkit_models`` lists this model id."""
        from evalkit.cards import reported_values

        for row in reported_values(self.spec.name):
            if row["metric"] == value.metric and card.id in row.get("evalkit_models", "").split():
                return float(row["value"])
        return None

    def judge_fields(self) -> dict[str, Any]:
        judges = self.describe_judges()
        return {"judge": judges.get("detector"), "judge_weights": judges.get("detector_weights")}

    # --- samples folders ----------------------------------------------------------------------
    def keep_present(self, groups: dict[Any, list[dict[str, Any]]], label: str) -> None:
        """Keep the items whose files exist; a missing group is an error unless allow_missing."""
        if self.samples is None:
            self.items = [it for group in groups.values() for it in group]
            return
        from evalkit.benchmarks.samplefiles import require_folder

        require_folder(self.samples, self.spec.name)
        kept, missing = [], []
        for key, group in groups.items():
            present = [it for it in group if (self.samples / it["file"]).is_file()]
            if len(present) == len(group):
                kept.extend(group)
            elif present or not self.allow_missing:
                absent = [it["file"] for it in group if it not in present]
                missing.append((key, absent))
            else:
                self.missing.append(str(key))
        partial = [m for m in missing if self.allow_missing]
        if missing and (not self.allow_missing or partial):
            key, absent = missing[0]
            raise InputFileError(
                f"{self.spec.name}: {label} {key!r} has no image {absent[0]!r} in {self.samples} "
                f"({len(missing)} {label}s incomplete). "
                + (
                    "Pass -O allow_missing=true to score only the prompts that have all their "
                    "images (rows not complete)."
                    if not self.allow_missing
                    else "allow_missing skips prompts without any image, not partly present ones."
                )
            )
        if not kept:
            raise InputFileError(f"{self.spec.name}: no images of any {label} in {self.samples}")
        self.items = kept


def metric(
    metric_id: str, value: float, n: int, bench: SpatialBenchmark, reported: float | None = None
) -> MetricValue:
    return MetricValue(
        metric_id, float(value), int(n), True, reported=reported, **bench.judge_fields()
    )


def spec_for(
    card_id: str,
    description: str,
    metrics: tuple[str, ...],
    options: dict[str, Any],
    n: int,
) -> BenchmarkSpec:
    from evalkit.benchmarks.base import DatasetManifest
    from evalkit.cards import load_card

    card = load_card(card_id)
    ds = card.get("dataset", {})
    proto = card.get("protocol", {})
    return BenchmarkSpec(
        name=card_id,
        version=str(card["version"]),
        description=description,
        task="generation",
        dataset=DatasetManifest(
            ds.get("name", card_id),
            ds.get("source", ""),
            ds.get("revision") or None,
            ds.get("sha256") or None,
            n,
            ds.get("license", "unknown"),
        ),
        resolution=int(card.get("resolutions", [512])[0]),
        resize="none: the detector sees each image at its own size",
        metrics=metrics,
        protocol=f"{proto.get('repo', '')}@{proto.get('commit', '')}",
        options=options,
    )


def summary_frame(records: pd.DataFrame) -> pd.DataFrame:
    """Records of a run (the runner's order), one row per image."""
    return records.drop_duplicates("sample_id", keep="last")


def dumps(obj: Any) -> str:
    return json.dumps(obj, sort_keys=True)
