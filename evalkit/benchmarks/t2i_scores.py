"""``t2i-scores``: per-image text-image scores (CLIPScore, PickScore, HPSv2.1) over prompts.

Prompts: GenEval's 553 by default, or ``-O prompts=FILE`` (``.txt``: one prompt a line;
``.jsonl``: objects with a ``"prompt"`` key, such as GenEval's or DetailMaster's metadata).
Images: generated (``images_per_prompt`` per prompt, seeds from the run seed, kept as
``<p:05d>/samples/<k:05d>.png``), or read from ``-O samples=DIR`` in that same layout. Each record
holds every score of its image (``score_<id>``) and the weights that produced it; the summary is
one per-model mean per score, with its judge identity. Scores have no published numbers to
compare with: rows are never comparable (card ``[flags]``).
"""

from __future__ import annotations

import hashlib
import json
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
from evalkit.scores.extra import ExtraScores

VERSION = "1"
DEFAULT_SCORES = "clipscore"
OPTIONS = {"prompts", "samples", "scores", "images_per_prompt"}
IMAGE_EXTS = (".png", ".jpg", ".jpeg", ".webp")


class PromptFileError(ValueError):
    """A prompt file or samples folder does not hold what it should; the message names it."""


def load_prompts(path: str | None) -> list[str]:
    """The prompts: GenEval's official list, or a .txt / .jsonl file."""
    if path is None:
        from evalkit.benchmarks.geneval.layout import load_prompts as geneval_prompts

        return [m["prompt"] for m in geneval_prompts()]
    file = Path(path).expanduser()
    if not file.is_file():
        raise PromptFileError(f"t2i-scores: prompt file {file} not found")
    lines = [(n, line) for n, line in enumerate(file.read_text().splitlines(), 1) if line.strip()]
    if file.suffix == ".jsonl":
        prompts = []
        for n, line in lines:
            try:
                obj = json.loads(line)
            except json.JSONDecodeError as exc:
                raise PromptFileError(f"{file}:{n}: not JSON ({exc})") from None
            if not isinstance(obj, dict) or not isinstance(obj.get("prompt"), str):
                raise PromptFileError(f"{file}:{n}: an object with a 'prompt' string is needed")
            prompts.append(obj["prompt"])
    else:
        prompts = [line.strip() for _, line in lines]
    if not prompts:
        raise PromptFileError(f"t2i-scores: {file} holds no prompts")
    return prompts


def find_image(root: Path, p: int, k: int) -> Path:
    base = root / f"{p:05d}" / "samples" / f"{k:05d}"
    for ext in IMAGE_EXTS:
        if base.with_suffix(ext).is_file():
            return base.with_suffix(ext)
    raise PromptFileError(
        f"t2i-scores: image {k} of prompt {p} is missing: expected {base}.png (or .jpg/.webp)"
    )


class T2IScores(Benchmark):
    def __init__(
        self,
        *,
        prompts: str | None = None,
        samples: str | None = None,
        scores: str = DEFAULT_SCORES,
        images_per_prompt: int = 1,
    ) -> None:
        self.prompts_file, self.samples = prompts, samples
        self.prompts = load_prompts(prompts)
        self.images_per_prompt = int(images_per_prompt)
        if self.images_per_prompt < 1:
            raise ValueError("t2i-scores: images_per_prompt must be at least 1")
        self.extra = ExtraScores.from_option(scores)
        if not self.extra.ids:
            raise ValueError("t2i-scores: -O scores= names no score (evalkit list metrics)")
        self.keys = [
            (p, k) for p in range(len(self.prompts)) for k in range(self.images_per_prompt)
        ]
        self.spec = self._make_spec()

    def _make_spec(self) -> BenchmarkSpec:
        from evalkit import cards

        card = cards.load_card("t2i-scores")
        text = json.dumps(self.prompts).encode()
        source = (
            "benchmarks/geneval/evaluation_metadata.jsonl"
            if self.prompts_file is None
            else f"file:{Path(self.prompts_file).expanduser().resolve()}"
        )
        return BenchmarkSpec(
            name="t2i-scores",
            version=VERSION,
            task="generation",
            description=card["description"],
            dataset=DatasetManifest(
                "t2i-prompts",
                source,
                "af4902f" if self.prompts_file is None else None,
                hashlib.sha256(text).hexdigest(),
                len(self.keys),
                "MIT" if self.prompts_file is None else "user's",
            ),
            resolution=0,
            resize=card["resize"],
            metrics=tuple(self.extra.ids),
            protocol=cards.protocol_text("t2i-scores"),
            options=self._options(),
        )

    def _options(self) -> dict[str, Any]:
        return {
            "prompts": self.prompts_file or "",
            "samples": self.samples or "",
            "scores": self.extra.option(),
            "images_per_prompt": self.images_per_prompt,
        }

    def facts(self, scored_ids: Sequence[str]) -> RunFacts:
        return RunFacts(
            unit="prompt",
            expected=None if self.prompts_file is None else len(self.prompts),
            scored=len(self.units_in(scored_ids)),
            options=self._options(),
        )

    def sample_ids(self) -> Sequence[str]:
        return [f"{p:05d}/{k:05d}" for p, k in self.keys]

    def sample_units(self) -> Sequence[str]:
        return [f"{p:05d}" for p, _ in self.keys]

    def check(self) -> None:
        if self.samples is not None:
            root = Path(self.samples).expanduser()
            if not root.is_dir():
                raise PromptFileError(f"t2i-scores: samples folder {root} not found")
            for p, k in self.keys:
                find_image(root, p, k)
        self.extra.check()

    def setup(self, device: torch.device) -> None:
        self.extra.setup(str(device))

    def describe_judges(self) -> dict[str, str]:
        return {sid: s.judge.weights for sid, s in self.extra.scorers.items()}

    def load(self, index: int) -> dict[str, Any]:
        from evalkit.seeding import sample_seed
        from evalkit.types import Condition

        p, k = self.keys[index]
        item: dict[str, Any] = {"prompt_index": p, "image_index": k}
        if self.samples is None:
            item["condition"] = Condition(
                seed=sample_seed(self.run_seed, p, k),
                prompt=self.prompts[p],
                extra={"prompt_index": p, "image_index": k},
            )
            return item
        from evalkit.benchmarks.geneval.layout import read_image

        path = find_image(Path(self.samples).expanduser(), p, k)
        item["path"] = str(path)
        item["input"] = torch.from_numpy(read_image(path)).permute(2, 0, 1).float().div(255.0)
        return item

    def image_path(self, item: Mapping[str, Any]) -> str | None:
        if self.samples is not None:
            return None
        return f"{int(item['prompt_index']):05d}/samples/{int(item['image_index']):05d}.png"

    def score(self, items: list[dict[str, Any]], outputs: torch.Tensor) -> BatchScore:
        from evalkit.benchmarks.images import to_uint8

        images = list(to_uint8(outputs))
        prompts = [self.prompts[it["prompt_index"]] for it in items]
        records = [
            {
                "sample_id": it["sample_id"],
                "prompt_index": it["prompt_index"],
                "image_index": it["image_index"],
                "prompt": prompt,
            }
            for it, prompt in zip(items, prompts)
        ]
        return BatchScore(self.extra.add(records, images, prompts))

    def summarize(
        self, records: pd.DataFrame, state: dict[str, np.ndarray] | None
    ) -> list[MetricValue]:
        return self.extra.summarize(records)


def build(name: str, **options: Any) -> Benchmark:
    """Factory for the catalog; options are strings from ``-O key=value``."""
    unknown = set(options) - OPTIONS
    if unknown:
        raise ValueError(
            f"t2i-scores: unknown option(s) {sorted(unknown)}; allowed: {sorted(OPTIONS)}"
        )
    kw: dict[str, Any] = {k: options[k] for k in ("prompts", "samples", "scores") if k in options}
    if "images_per_prompt" in options:
        kw["images_per_prompt"] = int(options["images_per_prompt"])
    return T2IScores(**kw)
