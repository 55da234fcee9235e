"""Test doubles registered for the runner tests: a scripted judge that counts across runs and can
fail after N calls, and a deterministic toy generator with a CLIP-like 77-token prompt limit."""

from __future__ import annotations

from collections import Counter
from typing import Any

import torch

from evalkit.benchmarks.detailmaster.scripted import ScriptedJudge
from evalkit.types import Condition, ModelCard

STATE: dict[str, Any] = {"calls": Counter(), "asked": [], "fail_after": None, "builds": 0}


def reset(fail_after: int | None = None) -> None:
    STATE.update(calls=Counter(), asked=[], fail_after=fail_after, builds=0)


class CountingJudge(ScriptedJudge):
    def _count(self, kind: str, image: Any, text: str) -> None:
        total = sum(STATE["calls"].values())
        if STATE["fail_after"] is not None and total >= STATE["fail_after"]:
            raise RuntimeError(f"injected judge failure after {total} calls")
        super()._count(kind, image, text)
        STATE["calls"][kind] += 1
        STATE["asked"].append(self.asked[-1])


def make(protocol: str = "official", device: str = "cpu") -> CountingJudge:
    STATE["builds"] += 1
    return CountingJudge(seed=5)


def card(model_id: str) -> ModelCard:
    return ModelCard(id=model_id, family="toy", kind="generator", extra={"max_prompt_tokens": 77})


class ToyGenerator:
    def __init__(self, model_id: str) -> None:
        self.card = card(model_id)

    def to(self, device: Any) -> ToyGenerator:
        return self

    def generate(self, conditions: list[Condition]) -> torch.Tensor:
        out = []
        for c in conditions:
            g = torch.Generator().manual_seed(c.seed % 2**31)
            out.append(torch.rand(3, 40, 56, generator=g))
        return torch.stack(out)


def build(model_id: str, **options: Any) -> ToyGenerator:
    return ToyGenerator(model_id)


def register() -> None:
    from evalkit import catalog

    if "dm-toy" not in catalog.models.names():
        catalog.models.register("dm-toy", "tests.detailmaster.plugin:build")
