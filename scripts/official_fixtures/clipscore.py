"""CLIPScore: torchmetrics' ``CLIPScore`` on scikit-image photos with a seeded random CLIP.

The CLIP folder is :func:`evalkit.scores.random_clip.write_random_clip` (a small config of the
real ``openai/clip-vit-large-patch14`` architecture, the real tokenizer vocabulary); torchmetrics
loads it by path as it loads the Hub model. Recorded per pair: torchmetrics' unclipped
``100 x cos`` (its ``_clip_score_update``, the arithmetic before the clamp) and the metric's
``compute()`` after one ``update`` of that pair (``max(100 x cos, 0)``). The same with the
prompts prefixed "A photo depicts " for ``clip_s`` (2.5 x max(cos, 0) is then these cosines
times 0.025 on torchmetrics' pixels; the paper's own code and pixels: the ``clips`` recorder).

    python scripts/record_official_fixtures.py clipscore [--seed 2]  (seed 2: cosines of both signs)
"""

from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path

from official_fixtures.common import (
    FIXTURES,
    LONG_PROMPT,
    SCORE_PHOTOS,
    SCORE_PROMPTS,
    skimage_photo,
    versions,
)

PHOTOS = (*SCORE_PHOTOS, "logo")
PROMPTS = (*SCORE_PROMPTS, LONG_PROMPT)  # torchmetrics cuts ids and mask to 77 positions
OUT = "clipscore_torchmetrics_random.json"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--seed", type=int, default=2, help="torch seed of the random CLIP weights")


def record(a: argparse.Namespace) -> Path:
    import torch
    from torchmetrics.functional.multimodal.clip_score import (
        _clip_score_update,
        _get_clip_model_and_processor,
    )
    from torchmetrics.multimodal import CLIPScore

    from evalkit.scores.clipscore import image_tensors
    from evalkit.scores.random_clip import state_digest, write_random_clip

    images = image_tensors([skimage_photo(n).convert("RGB") for n in PHOTOS])
    prefixed = ["A photo depicts " + p for p in PROMPTS[:-1]]  # clip_s: within 77 tokens
    with tempfile.TemporaryDirectory() as tmp:
        # torchmetrics loads a path only when it names an "openai" model, as the Hub id does
        folder = write_random_clip(Path(tmp) / "openai" / "clip-vit-large-patch14", seed=a.seed)
        model, processor = _get_clip_model_and_processor(str(folder))
        digest = state_digest(model)
        with torch.no_grad():
            raw, _ = _clip_score_update(images, list(PROMPTS), model, processor)
            raw_prefixed, _ = _clip_score_update(images[:-1], prefixed, model, processor)
        metric = CLIPScore(model_name_or_path=str(folder))
        per_pair = []
        for image, prompt in zip(images, PROMPTS):
            metric.reset()
            metric.update(image, prompt)
            per_pair.append(float(metric.compute()))
        metric.reset()
        metric.update(images, list(PROMPTS))
        batch_mean = float(metric.compute())
    doc = {
        "_about": __doc__.split("\n\n")[0],
        "reference": "torchmetrics.multimodal.CLIPScore (and its _clip_score_update)",
        "command": f"python scripts/record_official_fixtures.py clipscore --seed {a.seed}",
        "weights": f"evalkit.scores.random_clip.write_random_clip(seed={a.seed})",
        "seed": a.seed,
        "photos": [f"skimage.data.{n}() -> PIL RGB -> uint8 CHW" for n in PHOTOS],
        "photo_names": list(PHOTOS),
        "prompts": list(PROMPTS),
        "clipscore_unclamped": [float(v) for v in raw],
        "clipscore": per_pair,
        "clipscore_batch_mean": batch_mean,
        "clip_s_prompts": prefixed,
        "clip_s_cos": [float(v) / 100 for v in raw_prefixed],
        "weights_digest": digest,
        "versions": versions("torchmetrics", "transformers", "torch", "scikit-image", "Pillow"),
        "device": "cpu",
    }
    out = FIXTURES / OUT
    out.write_text(json.dumps(doc, indent=1) + "\n")
    return out
