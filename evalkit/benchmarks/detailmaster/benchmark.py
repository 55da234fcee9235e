"""``detailmaster`` and ``detailmaster-mini`` as runner benchmarks: one sample = one image.

Generator mode: as the official generation script, one image per prompt record (and per
``images_per_prompt``), ``Condition(seed=sample_seed(--seed, key, k), prompt=polished_prompt)``;
each image is judged for every record of its key. Samples mode (``--model samples:NAME -O
samples=<folder>``): the images of the official ``image_info.json``; they pass through the
runner as a 1x1 placeholder tensor and are read here, as opened (the official code crops the
unconverted image).

Scoring drives the protocol's record jobs of every image in the batch side by side: each round's
questions are answered from the run's journal when known, else by the judge in batches; every
answer is journaled as it completes. The per-sample records hold every judge call (kind,
question, answer) and every counted unit; :meth:`summarize` computes the accuracies once from
the units (micro sums; empty dimension -> n = 0, NaN).
"""

from __future__ import annotations

import hashlib
import math
import sys
from collections.abc import Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from evalkit.benchmarks.base import (
    BatchScore,
    Benchmark,
    BenchmarkSpec,
    DatasetManifest,
    MetricValue,
    RunFacts,
)
from evalkit.benchmarks.detailmaster import data as dm
from evalkit.benchmarks.detailmaster.engine import answer_many, drive
from evalkit.benchmarks.detailmaster.journal import Journal
from evalkit.benchmarks.detailmaster.protocol import (
    MINI_KEYS,
    OFFICIAL_KEYS,
    PROTOCOLS,
    Request,
    counts,
    judge_record,
)
from evalkit.benchmarks.detailmaster.tokens import TOKENIZER, seen_tokens

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd
    import torch

_OPTIONS = {
    "protocol",
    "judge",
    "samples",
    "image_info",
    "allow_missing",
    "allow_unpinned",
    "data",
    "images_per_prompt",
    "resolution",
    "judge_batch_size",
    "vlm_backend",
    "max_prompt_tokens",
    "scores",
}


def row_metric(key: str) -> str:
    """Run rows use the official names with the typo fixed (scene_attrbutes -> scene_attributes)."""
    return key.replace("scene_attrbutes_", "scene_attributes_")


def _truthy(v: Any) -> bool:
    return v if isinstance(v, bool) else str(v).lower() in ("1", "true", "yes")


class DetailMaster(Benchmark):
    def __init__(
        self,
        name: str,
        *,
        protocol: str = "official",
        judge: str = "official",
        samples: str | None = None,
        image_info: str | None = None,
        allow_missing: Any = False,
        allow_unpinned: Any = False,
        data: str | None = None,
        images_per_prompt: int = 1,
        resolution: int = 512,
        judge_batch_size: int | None = None,
        vlm_backend: str = "auto",
        max_prompt_tokens: int | None = None,
        scores: str = "",
    ) -> None:
        from evalkit.scores.extra import ExtraScores

        self.extra = ExtraScores.from_option(scores)  # -O scores=: one "score" row per image
        if protocol not in PROTOCOLS:
            raise ValueError(f"{name}: protocol must be one of {PROTOCOLS}, not {protocol!r}")
        self.name, self.mini = name, name.endswith("-mini")
        self.protocol, self.judge_name = protocol, str(judge)
        self.samples_dir, self.image_info = samples, image_info
        self.allow_missing, self.allow_unpinned = _truthy(allow_missing), _truthy(allow_unpinned)
        self.data, self.images_per_prompt = data, int(images_per_prompt)
        self.judge_batch_size, self.vlm_backend = judge_batch_size, vlm_backend
        self.judge: Any = None
        self.journal = Journal()
        self.run_dir: Path | None = None  # agreement.csv/.svg go here (-O scores=)
        # samples mode: the generator's prompt limit, if its text encoder truncated (else its card)
        self.prompt_limit_option = None if max_prompt_tokens is None else int(max_prompt_tokens)
        self.max_prompt_tokens: int | None = self.prompt_limit_option
        self._loaded = False
        self.records: list[dict[str, Any]] = []
        self.samples: list[dm.ImageSample] = []
        self.dropped: list[str] = []
        from evalkit.cards import load_card, protocol_text

        card = load_card(name)
        self.spec = BenchmarkSpec(
            name=name,
            version=str(card["version"]),
            description=card["description"],
            task="generation",
            dataset=DatasetManifest(name, self._source()),
            resolution=int(resolution),
            resize=card["resize"],
            metrics=tuple(row_metric(k) for k in (MINI_KEYS if self.mini else OFFICIAL_KEYS)),
            protocol=protocol_text(name),
            options={
                "protocol": protocol,
                "judge": self.judge_name,
                "allow_missing": self.allow_missing,
                "images_per_prompt": self.images_per_prompt,
                "samples": str(samples) if samples else None,
                "max_prompt_tokens": max_prompt_tokens,
                **({"scores": self.extra.option()} if self.extra.ids else {}),
            },
        )
        self.option_values = {
            "protocol": protocol,
            "judge": self.judge_name,
            "samples": samples or "",
            "image_info": image_info or "",
            "allow_missing": self.allow_missing,
            "allow_unpinned": self.allow_unpinned,
            "data": data or "",
            "images_per_prompt": self.images_per_prompt,
            "judge_batch_size": judge_batch_size,
            "vlm_backend": vlm_backend,
            "max_prompt_tokens": max_prompt_tokens,
            "scores": self.extra.option(),
        }

    def _source(self) -> str:
        from evalkit.cards import load_card

        return load_card(self.name)["dataset"]["source"]

    # --- data ---------------------------------------------------------------------------------
    def check(self) -> None:
        """Data and judges are checked together: one message lists everything missing."""
        from evalkit.benchmarks.detailmaster.judges import check_judge
        from evalkit.store import MissingAssetError

        self.extra.check()
        problems = []
        for step in (
            self._load if not self._loaded else None,
            (lambda: check_judge(self.judge_name, self.protocol)) if self.judge is None else None,
        ):
            if step is None:
                continue
            try:
                step()
            except MissingAssetError as exc:
                problems.append(str(exc))
        if problems:
            raise MissingAssetError("\n\n".join(problems))

    def _load(self) -> None:
        path = dm.find_records(self.name, self.data, self.allow_unpinned)
        records = dm.load_records(path, self.name)
        self.samples, self.dropped = dm.image_samples(
            records, self.samples_dir, self.image_info, self.images_per_prompt, self.allow_missing
        )
        dropped = set(self.dropped)
        self.dropped_records = sum(dm.key_of(r) in dropped for r in records)
        self.records = [r for r in records if dm.key_of(r) not in dropped]
        self.by_key: dict[str, list[dict[str, Any]]] = {}
        for r in self.records:
            self.by_key.setdefault(dm.key_of(r), []).append(r)
        from evalkit.cards import load_card
        from evalkit.filehash import file_sha256

        ds = load_card(self.name)["dataset"]
        manifest = DatasetManifest(
            name=self.name,
            source=ds["source"],
            revision=ds.get("revision") or None,
            sha256=file_sha256(path),
            n=len(self.records),
            license=ds.get("license", "unknown"),
        )
        options = dict(self.spec.options, dropped_prompts=len(self.dropped))
        self.spec = replace(self.spec, dataset=manifest, options=options)
        if self.samples_dir is not None:  # the images and image_info.json, as content
            from evalkit.benchmarks.samplefiles import addressed, folder_manifest

            folder = Path(self.samples_dir).expanduser()
            info = Path(self.image_info or folder / "image_info.json").expanduser()
            images = [s.path for s in self.samples if s.path is not None]
            self.spec = addressed(self.spec, folder_manifest(folder, images, [info]))
        self._loaded = True

    def sample_units(self) -> list[str]:
        """One unit = one image key with all its images (``--limit N``: the first N keys)."""
        return [s.key for s in self.samples]

    def use_limit(self, n_samples: int) -> None:
        """Only the first ``n_samples`` images: image_info.json lists only those."""
        self.samples = self.samples[:n_samples]

    def facts(self, scored_ids: Sequence[str]) -> RunFacts:
        """Counted in prompt records (the card's n); a key's images serve all its records."""
        keys = self.units_in(scored_ids)
        judges = {"vlm": self.judge_name, "detector": self.judge_name}
        if self.judge_name == "official":  # runtimes as the card's parity records name them
            from evalkit.judges import vlm

            ran = self.judge.vlm.backend if self.judge is not None else None
            judges = {"vlm": ran or vlm.pick_backend(self.vlm_backend), "detector": "ultralytics"}
        if self.protocol == "fixed":
            judges["itm"] = "transformers" if self.judge_name == "official" else self.judge_name
        return RunFacts(
            unit="prompt",
            expected=None,  # the card's [dataset] n
            scored=sum(len(self.by_key[k]) for k in keys),
            missing=self.dropped_records,
            judges=judges,
            options=self.option_values,
        )

    def sample_ids(self) -> list[str]:
        if not self._loaded:
            self._load()
        return [s.id for s in self.samples]

    def prepare_run_dir(self, run_dir: Path) -> None:
        """Runner hook: journal answers in the run folder; learn the generator's prompt limit
        (``max_prompt_tokens`` in its card's extra, recorded in run.json); write the official
        ``image_info.json`` for the kept images."""
        import json

        self.run_dir = Path(run_dir)
        self.journal = Journal(self.run_dir / "judge")
        try:
            identity = json.loads((Path(run_dir) / "run.json").read_text())
        except (OSError, ValueError):
            identity = {}
        limit = (identity.get("model_extra") or {}).get("max_prompt_tokens")
        limit = self.prompt_limit_option or limit
        self.max_prompt_tokens = int(limit) if limit else None
        if self.samples and self.samples[0].path is None:
            info = [
                {"image_id": s.key, "output_image_name": Path(self._kept(s)).name}
                for s in self.samples
            ]
            from evalkit.cache import atomic_write_text

            atomic_write_text(Path(run_dir) / "images" / "image_info.json", json.dumps(info))

    @staticmethod
    def _kept(s: dm.ImageSample) -> str:
        safe = "".join(ch if ch.isalnum() or ch in "._-" else "_" for ch in s.key)
        return f"images/{safe}_{s.k}.png"

    def image_path(self, item: Mapping[str, Any]) -> str | None:
        """Generated images are kept as images/<key>_<k>.png with the official image_info.json:
        the official scripts can re-score the folder."""
        s = self.samples[item["index"]]
        return self._kept(s) if s.path is None else None

    def load(self, index: int) -> dict[str, Any]:
        s = self.samples[index]
        item: dict[str, Any] = {"index": index}
        if s.path is None:
            from evalkit.seeding import sample_seed
            from evalkit.types import Condition

            item["condition"] = Condition(
                seed=sample_seed(self.run_seed, s.key, s.k), prompt=s.prompt, extra={"key": s.key}
            )
        else:
            import torch

            item["input"] = torch.zeros(3, 1, 1)  # placeholder: the image is read in score()
        return item

    # --- judging ------------------------------------------------------------------------------
    def setup(self, device: torch.device | str = "cpu") -> None:
        if self.judge is None:
            from evalkit.benchmarks.detailmaster.judges import build_judge

            self.judge = build_judge(
                self.judge_name,
                self.protocol,
                device=str(device),
                batch_size=self.judge_batch_size,
                backend=self.vlm_backend,
            )
            print(f"{self.name} judges: {self.judge.describe()}", file=sys.stderr)
        self.extra.setup(str(device))

    def _image(self, item: dict[str, Any], output: torch.Tensor) -> Any:
        from PIL import Image

        s = self.samples[item["index"]]
        if s.path is not None:
            try:
                with Image.open(s.path) as im:
                    im.load()
                    return im.copy()
            except OSError as exc:
                raise dm.DataError(f"sample {s.id}: cannot read image {s.path}: {exc}") from exc
        arr = (
            output.clamp(0, 1)
            .mul(255)
            .round()
            .to(dtype=__import__("torch").uint8)
            .permute(1, 2, 0)
            .contiguous()
            .numpy()
        )
        return Image.fromarray(arr, "RGB")

    def score(self, items: list[dict[str, Any]], outputs: torch.Tensor) -> BatchScore:
        from evalkit.benchmarks.detailmaster.scripted import fingerprint

        if self.judge is None:
            self.setup("cpu")
        jobs, owners, fps, pics = [], [], [], []
        for i, (item, out) in enumerate(zip(items, outputs)):
            s = self.samples[item["index"]]
            image = self._image(item, out)
            pics.append(image)
            fps.append(hashlib.sha256(fingerprint(image).encode()).hexdigest()[:16])
            for r in self.by_key[s.key]:
                jobs.append(judge_record(r, image, self.protocol, self.mini))  # type: ignore[arg-type]
                owners.append((i, r))
        calls: dict[int, dict[str, dict[str, Any]]] = {i: {} for i in range(len(items))}

        def answer(flat: list[tuple[int, Request]]) -> list[Any]:
            keys = [f"{fps[owners[j][0]]}|{req.key}" for j, req in flat]
            todo: dict[str, Request] = {}
            for key, (_, req) in zip(keys, flat):
                if key not in self.journal and key not in todo:
                    todo[key] = req
            for kind in ("detect", "ask", "match"):
                pending = [(k, r) for k, r in todo.items() if r.kind == kind]
                # a batched judge loses at most its batch in flight; a one-at-a-time judge nothing
                step = (
                    max(1, int(self.judge_batch_size or getattr(self.judge, "batch_size", 8)))
                    if hasattr(self.judge, f"{kind}_batch")
                    else 1
                )
                for start in range(0, len(pending), step):
                    chunk = pending[start : start + step]
                    got = answer_many(self.judge, [r for _, r in chunk])
                    self.journal.put_many((k, a) for (k, _), a in zip(chunk, got))
            for key, (j, req) in zip(keys, flat):
                calls[owners[j][0]].setdefault(
                    key,
                    {
                        "row": "call",
                        "judge_kind": req.kind,
                        "view": req.view,
                        "question": req.text,
                        "answer": _text(self.journal.get(key)),
                        "asked_now": key in todo,
                    },
                )
            return [self.journal.get(k) for k in keys]

        results = drive(jobs, answer)
        records: list[dict[str, Any]] = []
        bases = []
        for i, item in enumerate(items):
            s = self.samples[item["index"]]
            bases.append(
                {
                    "sample_id": item["sample_id"],
                    "key": s.key,
                    "image": fps[i],
                    **seen_tokens(s.prompt, self.max_prompt_tokens),
                }
            )
            records += [{**bases[i], **c} for c in calls[i].values()]
        for (i, r), units in zip(owners, results):
            records += [
                {**bases[i], "row": "unit", "target": r.get("mini_bench_target"), **u.__dict__}
                for u in units
            ]
        if self.extra.ids:
            prompts = [self.samples[it["index"]].prompt for it in items]
            records += self.extra.add([{**b, "row": "score"} for b in bases], pics, prompts)
        return BatchScore(records=[_clean(rec) for rec in records])

    # --- aggregation --------------------------------------------------------------------------
    def summarize(
        self, records: pd.DataFrame, state: dict[str, np.ndarray] | None = None
    ) -> list[MetricValue]:
        units = records[records["row"] == "unit"] if len(records) else records
        subsets = [("all", units)]
        if len(units) and "prompt_truncated" in units and units["prompt_truncated"].notna().any():
            trunc = units["prompt_truncated"].astype("boolean")
            subsets += [
                ("prompt_truncated", units[trunc.fillna(False)]),
                ("prompt_within_limit", units[~trunc.fillna(True)]),
            ]
        keys = MINI_KEYS if self.mini else OFFICIAL_KEYS
        judge, weights = self._judge_id()
        out = []
        for subset, frame in subsets:
            cols = ["dimension", "success", "cls", "detected"]
            c = counts(frame[cols].to_dict("records") if len(frame) else [])
            for key in keys:
                ok, n = c[key]
                out.append(
                    MetricValue(
                        metric=row_metric(key),
                        value=ok / n if n else math.nan,
                        n=int(n),
                        higher_is_better=True,
                        subset=subset,
                        judge=judge,
                        judge_weights=weights,
                    )
                )
        scored = records[records["row"] == "score"] if len(records) else records
        if self.extra.ids and self.run_dir is not None and len(scored):
            from evalkit.benchmarks.detailmaster import agreement

            agreement.write(self.run_dir, records, self.extra.ids)
        return out + self.extra.summarize(scored)

    def _judge_id(self) -> tuple[str, str]:
        described = self.describe_judges()
        return "+".join(described), ",".join(f"{k}={v}" for k, v in described.items())

    def describe_judges(self) -> dict[str, str]:
        from evalkit.benchmarks.detailmaster.judges import describe

        return describe(self.judge_name, self.protocol, self.judge, self.vlm_backend)


def _text(answer: Any) -> str | None:
    if answer is None or isinstance(answer, str):
        return answer
    return repr(list(answer)) if isinstance(answer, (list, tuple)) else repr(answer)


def _clean(rec: dict[str, Any]) -> dict[str, Any]:
    """One schema for every row (parquet needs stable types)."""
    rec.setdefault("row", "unit")
    for k in (
        "judge_kind",
        "view",
        "question",
        "answer",
        "dimension",
        "cls",
        "character",
        "item",
        "target",
    ):
        rec.setdefault(k, None)
    rec.setdefault("asked_now", None)
    rec.setdefault("success", None)
    rec.setdefault("detected", None)
    return rec


def build(name: str, **options: Any) -> DetailMaster:
    """Registry factory: ``detailmaster`` or ``detailmaster-mini``."""
    unknown = sorted(set(options) - _OPTIONS)
    if unknown:
        raise ValueError(
            f"unknown option(s) for {name}: {', '.join(unknown)}; known: "
            f"{', '.join(sorted(_OPTIONS))}"
        )
    if name not in ("detailmaster", "detailmaster-mini"):
        raise ValueError(f"unknown DetailMaster variant {name!r}")
    return DetailMaster(name, **options)


__all__ = ["DetailMaster", "build", "row_metric", "TOKENIZER"]
