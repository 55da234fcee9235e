"""VQAScore, CLIP-FlanT5 (the paper's default): t2v-metrics 3.0's ``CLIPT5Model.forward`` on
scikit-image photos and prompts, with a seeded random tiny CLIP-FlanT5 of the real architecture.

Two steps, two environments:

    # 1. evalkit's environment: the random checkpoint folders (transformers 5)
    python scripts/record_official_fixtures.py vqascore_flant5 --make-checkpoint DIR
    # 2. the official runtime: t2v-metrics 3.0 with its pinned transformers 4.49.0
    PYTHONPATH=<site with t2v-metrics 3.0, transformers 4.49.0>:. \\
        python scripts/record_official_fixtures.py vqascore_flant5 --checkpoint DIR

Bypassed, outside the scored path: the package ``__init__`` files (they import every other
score's dependencies); the model table's Hub paths (the random folders instead); and
``load_pretrained_model``'s cast to bfloat16 (float32 on CPU: its ``torch`` is seen through a
proxy whose ``bfloat16`` is ``float32``). The tokenizer is the checkpoint's word-level stand-in
(Flan-T5's cannot be had offline), loaded by the official ``AutoTokenizer(use_fast=False)`` call.
"""

from __future__ import annotations

import argparse
import importlib
import json
import sys
import types
from pathlib import Path

from official_fixtures import vqascore as qwen_recorder
from official_fixtures.common import versions
from official_fixtures.vqascore import (  # the Qwen variant's photos and prompts
    PHOTOS,
    PROMPTS,
    bypass_package_inits,
    forward_on_photos,
)

add_arguments = qwen_recorder.add_arguments  # --make-checkpoint DIR / --checkpoint DIR / --out

NAME = "vqascore_flant5_official_random"
SEED = 11


def record(a: argparse.Namespace) -> Path:
    if a.make_checkpoint:
        from evalkit.scores.vqascore_flant5_random import make_checkpoint

        return make_checkpoint(a.make_checkpoint, PROMPTS, SEED)
    if not a.checkpoint:
        sys.exit("pass --make-checkpoint DIR (evalkit's env) or --checkpoint DIR (official env)")
    return record_flant5(a.checkpoint, a.out)


class _Float32Torch(types.ModuleType):
    """``torch`` with ``bfloat16`` read as ``float32`` (the CPU recording runs in float32)."""

    def __getattr__(self, name: str) -> object:
        import torch

        return torch.float32 if name == "bfloat16" else getattr(torch, name)


def _official_model_module() -> types.ModuleType:
    bypass_package_inits()
    module = importlib.import_module("t2v_metrics.models.vqascore_models.clip_t5_model")
    mm_utils = importlib.import_module("t2v_metrics.models.vqascore_models.mm_utils")
    mm_utils.torch = _Float32Torch("torch")
    return module


def record_flant5(checkpoint: Path, out: Path) -> Path:

    from evalkit.scores.vqascore_flant5_random import LOGIT_GAIN, weights_sha256

    official = _official_model_module()
    entry = official.CLIP_T5_MODELS["clip-flant5-xxl"]
    entry["tokenizer"]["path"] = str(checkpoint / "tokenizer")
    entry["model"]["path"] = str(checkpoint / "model")
    model = official.CLIPT5Model("clip-flant5-xxl", device="cpu")
    dtype = str(next(model.model.parameters()).dtype)
    probs = forward_on_photos(model)
    doc = {
        "_about": {
            "what": "t2v-metrics 3.0 CLIPT5Model('clip-flant5-xxl').forward(paths, texts): "
            "exp(-mean CE of 'Yes </s>') per (photo, prompt), default question template, "
            "t5_chat style, pad-to-square; random tiny CLIP-FlanT5, 4 prompts per batch",
            "official": "PyPI t2v-metrics==3.0 (linzhiqiu/t2v_metrics), transformers 4.49.0 "
            "(its pin); torch not its pinned 2.5.1",
            "checkpoint": "evalkit.scores.vqascore_flant5_random.make_checkpoint(prompts, seed)",
            "model_dtype": dtype,
            "weights_sha256": weights_sha256(checkpoint),
            "logit_gain": LOGIT_GAIN,
            "command": "python scripts/record_official_fixtures.py vqascore_flant5 "
            "--make-checkpoint D; PYTHONPATH=SITE:. python "
            "scripts/record_official_fixtures.py vqascore_flant5 --checkpoint D",
            "versions": versions("t2v-metrics", "transformers", "torch", "pillow", "scikit-image"),
        },
        "seed": SEED,
        "photos": list(PHOTOS),
        "prompts": list(PROMPTS),
        "p_yes": probs,
    }
    out.mkdir(parents=True, exist_ok=True)
    (out / f"{NAME}.json").write_text(json.dumps(doc, indent=1) + "\n")
    return out / f"{NAME}.json"
