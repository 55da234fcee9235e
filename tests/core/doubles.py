"""Test doubles registered on demand: models that misbehave in known ways."""

from __future__ import annotations

import os
import time
from pathlib import Path

import torch

from evalkit import catalog
from evalkit.types import ModelCard, TokenizerBase


class Misbehaving(TokenizerBase):
    def __init__(self, model_id: str) -> None:
        self.card = card(model_id)
        self.kind = model_id.removeprefix("test-")

    def reconstruct(self, images: torch.Tensor) -> torch.Tensor:
        if self.kind == "flaky":
            self.calls = getattr(self, "calls", 0) + 1
            marker = Path(os.environ["EVALKIT_TEST_FLAKY_MARKER"])
            if self.calls == 3 and not marker.exists():
                marker.touch()
                raise RuntimeError("transient failure")
            return images
        if self.kind == "slow":
            time.sleep(0.4)
            return images
        if self.kind == "nan":
            out = images.clone()
            out[-1, 0, 0, 0] = float("nan")  # only the last sample of each batch
            return out
        if self.kind == "shape":
            return images[..., :-8]
        if self.kind == "range255":
            return images * 255
        raise AssertionError(self.kind)


def card(model_id: str) -> ModelCard:
    kind = "generator" if model_id == "test-generator" else "tokenizer"
    return ModelCard(id=model_id, family="test-double", kind=kind)


def build(model_id: str) -> Misbehaving:
    return Misbehaving(model_id)


def register() -> None:
    for kind in ("slow", "nan", "shape", "range255", "flaky"):
        if f"test-{kind}" not in catalog.models:
            catalog.models.register(f"test-{kind}", f"{__name__}:build")


def build_sum_benchmark(name: str, **options: object):
    """`recon` plus a summable state (pixel sums), to test checkpointed streaming state."""
    import numpy as np

    from evalkit.benchmarks.base import BatchScore, MetricValue
    from evalkit.benchmarks.recon import build as build_recon

    bench = build_recon("recon", **options)  # type: ignore[arg-type]
    score, summarize = bench.score, bench.summarize

    def score_with_state(items, outputs):  # type: ignore[no-untyped-def]
        scored = score(items, outputs)
        state = {
            "n": np.array([len(items)], dtype=np.int64),
            "sum": outputs.double().sum(dim=(1, 2, 3)).sum().reshape(1).numpy(),
        }
        return BatchScore(scored.records, state)

    def summarize_with_state(records, state):  # type: ignore[no-untyped-def]
        values = summarize(records, state)
        return values + [
            MetricValue(
                "pixel_mean", float(state["sum"][0] / state["n"][0]), int(state["n"][0]), True
            )
        ]

    bench.score, bench.summarize = score_with_state, summarize_with_state  # type: ignore[method-assign]
    return bench


def register_benchmarks() -> None:
    if "test-sum" not in catalog.benchmarks:
        catalog.benchmarks.register("test-sum", f"{__name__}:build_sum_benchmark")


class SeededNoise:
    """A generator double: the image depends only on (seed, class id), never on the batch."""

    def __init__(self, model_id: str) -> None:
        self.card = ModelCard(id=model_id, family="test-double", kind="generator")

    def to(self, device: object) -> SeededNoise:
        return self

    def generate(self, conditions) -> torch.Tensor:  # type: ignore[no-untyped-def]
        images = []
        for c in conditions:
            g = torch.Generator().manual_seed(c.seed)
            images.append(torch.rand(3, 32, 32, generator=g) * 0.5 + 0.5 * (c.class_id % 2))
        return torch.stack(images)

    def generation_info(self, condition) -> dict:  # type: ignore[no-untyped-def]
        return {"gen_seed": condition.seed}


def build_generator(model_id: str) -> SeededNoise:  # card(): the module-level one above
    return SeededNoise(model_id)


def build_generation_benchmark(name: str, **options: object):
    """Six class-conditional samples; per-sample mean brightness; a mean over all."""
    import numpy as np

    from evalkit.benchmarks.base import (
        BatchScore,
        Benchmark,
        BenchmarkSpec,
        DatasetManifest,
        MetricValue,
        RunFacts,
    )
    from evalkit.types import Condition

    class Gen(Benchmark):
        spec = BenchmarkSpec(
            "test-gen",
            "1",
            "test",
            "generation",
            DatasetManifest("none", "-"),
            32,
            "none",
            ("brightness",),
        )

        def sample_ids(self):  # type: ignore[no-untyped-def]
            return [f"s{i}" for i in range(6)]

        def facts(self, scored_ids):  # type: ignore[no-untyped-def]
            return RunFacts("sample", 6, len(self.units_in(scored_ids)))

        def load(self, index):  # type: ignore[no-untyped-def]
            return {"condition": Condition(seed=100 + index, class_id=index % 3)}

        def score(self, items, outputs):  # type: ignore[no-untyped-def]
            return BatchScore(
                [
                    {"sample_id": it["sample_id"], "brightness": float(o.mean())}
                    for it, o in zip(items, outputs)
                ]
            )

        def summarize(self, records, state):  # type: ignore[no-untyped-def]
            return [
                MetricValue("brightness", float(np.mean(records["brightness"])), len(records), True)
            ]

        def reported_value(self, card, value):  # type: ignore[no-untyped-def]
            return 0.5 if card.id == "test-generator" else None  # "published" for the test

        def image_path(self, item):  # type: ignore[no-untyped-def]
            return f"images/{item['sample_id']}.png"

    return Gen()


def register_generation() -> None:
    if "test-generator" not in catalog.models:
        catalog.models.register("test-generator", f"{__name__}:build_generator")
    if "test-gen" not in catalog.benchmarks:
        catalog.benchmarks.register("test-gen", f"{__name__}:build_generation_benchmark")
