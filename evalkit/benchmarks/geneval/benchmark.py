"""``geneval``: GenEval on a generator (images kept in GenEval's layout) or a ``samples:`` folder.

Sample ``PPPPP/KKKKK`` = image K of prompt P. Generator mode hands the runner one
:class:`~evalkit.types.Condition` per image (per-sample seed from the run seed, or the official
seeding); ``samples`` mode reads each image itself. Scoring runs the whole batch through the
detector at once, names every colour crop of the batch in one pass, then applies the official
rules (:func:`~evalkit.benchmarks.geneval.rules.evaluate`) to each image.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch

from evalkit.benchmarks.base import (
    BatchScore,
    Benchmark,
    BenchmarkSpec,
    DatasetManifest,
    MetricValue,
    RunFacts,
)
from evalkit.benchmarks.geneval import judges, layout
from evalkit.benchmarks.geneval.rules import DEFAULTS, TAGS, colour_requests, evaluate
from evalkit.benchmarks.geneval.summary import summarize
from evalkit.benchmarks.samplefiles import addressed
from evalkit.scores.extra import ExtraScores

log = logging.getLogger("evalkit.geneval")
VERSION = "1"
IMAGES_PER_PROMPT = 4
PROTOCOL = "djghosh13/geneval@af4902f: evaluate_images.py + summary_scores.py"
OPTIONS = {
    "samples",
    "prompts",
    "seeding",
    "detector",
    "colour",
    "allow_missing",
    "overlays",
    "images_per_prompt",
    "scores",
    *DEFAULTS,
}


def _bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("1", "true", "yes", "on"):
        return True
    if text in ("0", "false", "no", "off", ""):
        return False
    raise ValueError(f"geneval: expected true/false, got {value!r}")


class GenEval(Benchmark):
    def __init__(
        self,
        *,
        samples: str | None = None,
        prompts: str | None = None,
        seeding: str = "per-sample",
        detector: str = "auto",
        colour: str = "clip",
        allow_missing: bool = False,
        overlays: bool = False,
        images_per_prompt: int = IMAGES_PER_PROMPT,
        scores: str = "",
        **thresholds: float,
    ) -> None:
        if seeding not in ("per-sample", "official"):
            raise ValueError("geneval: seeding must be 'per-sample' or 'official'")
        self.samples, self.prompts_file = samples, prompts
        self.seeding = seeding
        self.detector_option = detector
        self.detector_name = judges.resolve_detector(detector)
        self.colour_name = colour
        self.allow_missing, self.overlays = allow_missing, overlays
        self.images_per_prompt = int(images_per_prompt)
        self.thresholds = {k: float(v) for k, v in thresholds.items()}
        self.extra = ExtraScores.from_option(scores)  # -O scores=: extra per-image scores
        self.prompts = layout.load_prompts(prompts)
        self.sampleset: layout.SampleSet | None = None
        self.detector: Any = None
        self.colour: Any = None
        self._run_dir: Path | None = None
        self._key_cache: tuple[bool, list[tuple[int, int]]] | None = None
        self.spec = self._make_spec()

    # --- spec and setup --------------------------------------------------------------------
    def _make_spec(self) -> BenchmarkSpec:
        text = json.dumps(self.prompts, sort_keys=True).encode()
        official_prompts = self.prompts_file is None
        missing = self.sampleset.missing if self.sampleset is not None else []
        options: dict[str, Any] = {
            "samples": self.samples,
            "prompts": self.prompts_file,
            "seeding": self.seeding,
            "detector": self.detector_name,
            "colour": self.colour_name,
            "allow_missing": self.allow_missing,
            "images_per_prompt": self.images_per_prompt,
            **{k: self.thresholds.get(k, v) for k, v in DEFAULTS.items()},
        }
        if self.extra.ids:  # only when asked: runs without it keep their keys
            options["scores"] = self.extra.option()
        if self.sampleset is not None:
            options["samples_manifest"] = self.sampleset.manifest
            options["missing"] = len(missing)
        source = (
            "benchmarks/geneval/evaluation_metadata.jsonl"
            if official_prompts
            else f"file:{Path(self.prompts_file).expanduser().resolve()}"
        )  # type: ignore[arg-type]
        spec = BenchmarkSpec(
            name="geneval",
            version=VERSION,
            task="generation",
            description="GenEval object composition: 6 tasks, 4 images per prompt",
            dataset=DatasetManifest(
                "geneval-prompts",
                source,
                "af4902f" if official_prompts else None,
                hashlib.sha256(text).hexdigest(),
                len(self.prompts) * self.images_per_prompt,
                "MIT",
            ),
            resolution=0,
            resize="none: images judged at the generator's own size",
            metrics=(
                "overall",
                "single_object",
                "two_object",
                "counting",
                "colors",
                "position",
                "color_attr",
                "correct_images",
                "correct_prompts",
            ),
            protocol=PROTOCOL,
            options=options,
        )
        # samples mode: the images' content is part of the dataset (and so of the run id)
        return spec if self.sampleset is None else addressed(spec, self.sampleset.manifest)

    def facts(self, scored_ids: Sequence[str]) -> RunFacts:
        gaps = self.sampleset.missing if self.sampleset is not None else []
        return RunFacts(
            unit="prompt",
            expected=None,  # the card's n: the official 553
            scored=len(self.units_in(scored_ids)),
            missing=len({gap.split("/")[0] for gap in gaps}),
            judges={"detector": self.detector_name, "colour": self.colour_name},
            options={
                "samples": self.samples or "",
                "prompts": self.prompts_file or "",
                "seeding": self.seeding,
                "detector": self.detector_option,
                "colour": self.colour_name,
                "allow_missing": self.allow_missing,
                "overlays": self.overlays,
                "images_per_prompt": self.images_per_prompt,
                "scores": self.extra.option(),
                **{k: self.thresholds.get(k, v) for k, v in DEFAULTS.items()},
            },
        )

    def sample_units(self) -> Sequence[str]:
        """One unit = one prompt with all its images (``--limit N``: the first N prompts)."""
        return [f"{p:05d}" for p, _ in self._keys()]

    def check(self) -> None:
        judges.check(self.detector_name, self.colour_name)
        self.extra.check()
        if self.samples is not None and self.sampleset is None:
            self.sampleset = layout.scan(
                self.samples, self.prompts, self.images_per_prompt, self.allow_missing
            )
            if self.sampleset.missing:
                log.warning(
                    "geneval: %d prompt folders/images missing in %s (allow_missing): "
                    "rows are not comparable",
                    len(self.sampleset.missing),
                    self.samples,
                )
            self.spec = self._make_spec()

    def setup(self, device: torch.device) -> None:
        dev = str(device)
        if self.detector is None:
            self.detector = judges.make_detector(self.detector_name, dev)
        if self.colour is None:
            self.colour = judges.make_colour(self.colour_name, dev)
        self.extra.setup(dev)

    def describe_judges(self) -> dict[str, str]:
        from evalkit.benchmarks.geneval.judges import _weights

        out = {}
        for _label, wf in _weights(self.detector_name, self.colour_name):
            out[wf.filename] = wf.sha256 or "unpinned"
        out["detector"] = self.detector_name
        out["colour"] = self.colour_name
        return out

    # --- samples ---------------------------------------------------------------------------
    def _keys(self) -> list[tuple[int, int]]:
        """(prompt, image) of every sample, computed once (``load`` runs per sample)."""
        mode = self.sampleset is not None
        if self._key_cache is None or self._key_cache[0] != mode:
            if self.sampleset is not None:
                keys = [(p, k) for p, k, _ in self.sampleset.images]
            else:
                keys = [
                    (p, k) for p in range(len(self.prompts)) for k in range(self.images_per_prompt)
                ]
            self._key_cache = (mode, keys)
        return self._key_cache[1]

    def sample_ids(self) -> Sequence[str]:
        if self.samples is not None:
            self.check()
        return [f"{p:05d}/{k:05d}" for p, k in self._keys()]

    def condition(self, p: int, k: int) -> Any:
        from evalkit.seeding import sample_seed
        from evalkit.types import Condition

        # official: the script's --seed, set before every prompt (the adapter replays its RNG)
        official = self.seeding == "official"
        seed = self.run_seed if official else sample_seed(self.run_seed, p, k)
        meta = self.prompts[p]
        return Condition(
            seed=seed,
            prompt=meta["prompt"],
            extra={"prompt_index": p, "image_index": k, "seeding": self.seeding, "metadata": meta},
        )

    def load(self, index: int) -> dict[str, Any]:
        p, k = self._keys()[index]
        item: dict[str, Any] = {"prompt_index": p, "image_index": k}
        if self.sampleset is None:
            item["condition"] = self.condition(p, k)
            return item
        path = self.sampleset.images[index][2]
        item["path"] = str(path)
        # judged as read, at its own size: images of different sizes may share a batch (the
        # runner passes a placeholder through the samples model)
        item["image"] = layout.read_image(path)
        item["input"] = torch.zeros(3, 1, 1)
        return item

    def image_path(self, item: Mapping[str, Any]) -> str | None:
        return layout.image_rel(int(item["prompt_index"]), int(item["image_index"]))

    def prepare_run_dir(self, run_dir: Path) -> None:
        self._run_dir = run_dir
        if self.sampleset is None:
            layout.write_metadata(run_dir, self.prompts)

    # --- scoring ---------------------------------------------------------------------------
    def score(self, items: list[dict[str, Any]], outputs: torch.Tensor) -> BatchScore:
        from evalkit.benchmarks.images import to_uint8
        from evalkit.judges.colour import ColourCrop
        from evalkit.judges.detection import check_detections

        generated = list(to_uint8(outputs))
        images = [it.get("image", g) for it, g in zip(items, generated)]
        where = [it.get("path") or f"image {it['sample_id']}" for it in items]
        if hasattr(self.detector, "detect_with_masks"):
            found = self.detector.detect_with_masks(images)
        else:
            found = [(d, None) for d in self.detector.detect(images)]
        dets = [check_detections(d, w) for (d, _), w in zip(found, where)]
        masks = [m for _, m in found]
        # one colour pass over every crop the batch's verdicts will ask about, in asking order
        crops, asked = [], []
        for i, it in enumerate(items):
            requests = colour_requests(self.prompts[it["prompt_index"]], dets[i], **self.thresholds)
            asked.append(requests)
            for name, idx in requests:
                crops += [
                    ColourCrop(
                        images[i],
                        name,
                        dets[i][name][j],
                        None if masks[i] is None else masks[i][name][j],
                    )
                    for j in idx
                ]
        named = iter(self.colour.name(crops) if crops else [])
        answers = [[[next(named) for _ in idx] for _, idx in requests] for requests in asked]
        records = []
        for i, it in enumerate(items):
            meta = self.prompts[it["prompt_index"]]
            queue = list(zip(asked[i], answers[i]))

            def colours(name: str, boxes: np.ndarray, _m: Any, queue: list = queue) -> list[str]:
                (want, idx), given = queue.pop(0)
                if want != name or len(idx) != len(boxes):  # cannot happen: same rules, same order
                    raise RuntimeError(f"geneval: colour request {name!r} out of order")
                return given

            v = evaluate(meta, dets[i], masks[i], colours, **self.thresholds)
            record = {
                "sample_id": it["sample_id"],
                "prompt_index": it["prompt_index"],
                "image_index": it["image_index"],
                "tag": meta["tag"],
                "prompt": meta["prompt"],
                "correct": bool(v.correct),
                "reason": v.reason,
                "details": json.dumps(v.details(dets[i])),
                "detector": self.detector_name,
                "colour_judge": self.colour_name,
                "height": int(images[i].shape[0]),
                "width": int(images[i].shape[1]),
            }
            records.append(record)
            if self.overlays and self._run_dir is not None:
                from evalkit.benchmarks.geneval.overlay import write_overlay

                write_overlay(
                    self._run_dir / "overlays" / f"{it['sample_id']}.png", images[i], dets[i], v
                )
        self.extra.add(records, images, [r["prompt"] for r in records])
        return BatchScore(records)

    def summarize(
        self, records: pd.DataFrame, state: dict[str, np.ndarray] | None
    ) -> list[MetricValue]:
        judge = f"{self.detector_name}+{self.colour_name}"
        tasks = set(TAGS)
        if self.extra.ids and self._run_dir is not None and len(records):
            from evalkit.scores import agreement

            agreement.write(self._run_dir, records, "correct", self.extra.ids)
        return [
            MetricValue(
                s.name, s.value, s.n, True, judge=judge, subset=s.name if s.name in tasks else "all"
            )
            for s in summarize(records)
        ] + self.extra.summarize(records)

    def reported_value(self, card: Any, value: MetricValue) -> float | None:
        from evalkit.cards import reported_values

        for row in reported_values("geneval"):
            if row["model"] == card.id and row["metric"] == value.metric:
                return float(row["value"])
        return None


def build(name: str, **options: Any) -> Benchmark:
    """Factory for the catalog (``geneval``); options are strings from ``-O key=value``."""
    unknown = set(options) - OPTIONS
    if unknown:
        raise ValueError(
            f"geneval: unknown option(s) {sorted(unknown)}; allowed: {sorted(OPTIONS)}"
        )
    kw: dict[str, Any] = {
        k: options[k]
        for k in ("samples", "prompts", "seeding", "detector", "colour")
        if k in options
    }
    if "scores" in options:
        kw["scores"] = options["scores"]
    for k in ("allow_missing", "overlays"):
        if k in options:
            kw[k] = _bool(options[k])
    if "images_per_prompt" in options:
        kw["images_per_prompt"] = int(options["images_per_prompt"])
    thresholds = {k: float(options[k]) for k in DEFAULTS if k in options}
    return GenEval(**kw, **thresholds)
