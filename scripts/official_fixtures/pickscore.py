"""PickScore: the official inference snippet (yuvalkirstain/PickScore README, "Inference with
PickScore") under transformers 4.57.1, on scikit-image photos with a seeded random CLIP-H.

Run in a throwaway site with transformers 4.x:
    pip install --target SITE --no-deps transformers==4.57.1 huggingface_hub==0.36.0 \
        tokenizers==0.22.1
    PYTHONPATH=SITE:. python scripts/record_official_fixtures.py pickscore [--seed 1]

The snippet's steps, by the README: ``AutoProcessor.from_pretrained(<processor>)``,
``AutoModel.from_pretrained(<model>)``; ``processor(images=..., padding=True, truncation=True,
max_length=77)`` and the same for the text; ``get_image_features`` / ``get_text_features``, each
divided by its norm; ``scores = model.logit_scale.exp() * (text_embs @ image_embs.T)[0]``. One
prompt and all photos per call, so each prompt scores every photo (36 values). The processor
folder has laion/CLIP-ViT-H-14-laion2B-s32B-b79K's settings (OpenAI mean/std, 224, pad "!");
the model folder a small CLIPConfig of PickScore_v1's architecture (gelu, patch 14).
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
PROMPTS = (*SCORE_PROMPTS, LONG_PROMPT)
OUT = "pickscore_official_random.json"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--seed", type=int, default=1, help="seed of the random CLIP-H weights")


def record(a: argparse.Namespace) -> Path:
    import torch
    from transformers import AutoModel, AutoProcessor

    from evalkit.scores.random_clip import state_digest, write_random_pickscore

    photos = [skimage_photo(n) for n in PHOTOS]
    with tempfile.TemporaryDirectory() as tmp:
        model_dir, proc_dir = write_random_pickscore(Path(tmp), seed=a.seed)
        processor = AutoProcessor.from_pretrained(proc_dir)
        model = AutoModel.from_pretrained(model_dir).eval()
        digest = state_digest(model)
        image_inputs = processor(
            images=photos, padding=True, truncation=True, max_length=77, return_tensors="pt"
        )
        table = []
        for prompt in PROMPTS:
            text_inputs = processor(
                text=prompt, padding=True, truncation=True, max_length=77, return_tensors="pt"
            )
            with torch.no_grad():
                image_embs = model.get_image_features(**image_inputs)
                image_embs = image_embs / torch.norm(image_embs, dim=-1, keepdim=True)
                text_embs = model.get_text_features(**text_inputs)
                text_embs = text_embs / torch.norm(text_embs, dim=-1, keepdim=True)
                scores = model.logit_scale.exp() * (text_embs @ image_embs.T)[0]
            table.append([float(s) for s in scores])
    doc = {
        "_about": __doc__.split("\n\n")[0],
        "reference": "yuvalkirstain/PickScore README inference snippet, transformers 4.57.1",
        "command": "PYTHONPATH=SITE:. python scripts/record_official_fixtures.py pickscore "
        f"--seed {a.seed}",
        "weights": f"evalkit.scores.random_clip.write_random_pickscore(seed={a.seed})",
        "seed": a.seed,
        "weights_digest": digest,
        "photo_names": list(PHOTOS),
        "prompts": list(PROMPTS),
        "scores_prompt_by_photo": table,
        "versions": versions("transformers", "torch", "scikit-image", "Pillow"),
        "device": "cpu",
    }
    out = FIXTURES / OUT
    out.write_text(json.dumps(doc, indent=1) + "\n")
    return out
