"""CLIP-S: the paper's own code (jmhessel/clipscore ``clipscore.py``, OpenAI's ``clip`` package)
on scikit-image photos with a seeded random CLIP ViT-B/32 of the real architecture.

The weights are :func:`evalkit.scores.random_clip.random_real_clip` (transformers layout, full
ViT-B/32 shapes, float16-exact), renamed here to OpenAI's layout (``q/k/v_proj`` stacked into
``in_proj``, projections transposed) and built by ``clip.model.build_model`` then ``.float()``
as ``clip.load`` does on CPU. The photos are written as PNG files and the captions passed raw:
``get_clip_score`` runs the paper's dataloaders (``Image.open`` -> torchvision Resize(224,
bicubic), CenterCrop(224), RGB, ToTensor, Normalize; "A photo depicts " + caption through
``clip.tokenize(truncate=True)``), then ``2.5 x max(cos, 0)``. Neither package is a dependency
of evalkit: put OpenAI's clip (PyPI ``openai-clip``) and a checkout of jmhessel/clipscore on
PYTHONPATH (with scikit-learn and ftfy).

    python scripts/record_official_fixtures.py clips --clipscore-commit <sha> [--seed 3]
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import tempfile
import types
from pathlib import Path

from official_fixtures.clipscore import PHOTOS, PROMPTS  # the CLIPScore recorder's pairs
from official_fixtures.common import FIXTURES, skimage_photo, versions

# PHOTOS: camera is greyscale and logo RGBA (the paper converts to RGB after the resize);
# PROMPTS' last is over 77 tokens (clip.tokenize(truncate=True) keeps the end token)
OUT = "clips_official_random"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--seed", type=int, default=3, help="seed of the random ViT-B/32 weights")
    p.add_argument("--clipscore-commit", required=True, help="jmhessel/clipscore commit run")


def to_openai_layout(hf: dict) -> dict:
    """transformers CLIPModel state dict -> OpenAI clip's names and shapes."""
    import torch

    out = {
        "logit_scale": hf["logit_scale"],
        "text_projection": hf["text_projection.weight"].T,
        "visual.proj": hf["visual_projection.weight"].T,
        "token_embedding.weight": hf["text_model.embeddings.token_embedding.weight"],
        "positional_embedding": hf["text_model.embeddings.position_embedding.weight"],
        "ln_final.weight": hf["text_model.final_layer_norm.weight"],
        "ln_final.bias": hf["text_model.final_layer_norm.bias"],
        "visual.class_embedding": hf["vision_model.embeddings.class_embedding"],
        "visual.conv1.weight": hf["vision_model.embeddings.patch_embedding.weight"],
        "visual.positional_embedding": hf["vision_model.embeddings.position_embedding.weight"],
    }
    for ours, theirs in (("pre_layrnorm", "ln_pre"), ("post_layernorm", "ln_post")):
        for p in ("weight", "bias"):
            out[f"visual.{theirs}.{p}"] = hf[f"vision_model.{ours}.{p}"]
    block = {"layer_norm1": "ln_1", "layer_norm2": "ln_2", "mlp.fc1": "mlp.c_fc"}
    block |= {"mlp.fc2": "mlp.c_proj", "self_attn.out_proj": "attn.out_proj"}
    for tower, prefix in (("text_model", "transformer"), ("vision_model", "visual.transformer")):
        layer = re.compile(rf"{tower}\.encoder\.layers\.(\d+)\.(.+)\.(weight|bias)$")
        for name, value in hf.items():
            m = layer.match(name)
            if m is None or m.group(2).endswith(("q_proj", "k_proj", "v_proj")):
                continue
            i, module, p = m.groups()
            out[f"{prefix}.resblocks.{i}.{block[module]}.{p}"] = value
        for i in {int(layer.match(n).group(1)) for n in hf if layer.match(n)}:
            attn = f"{tower}.encoder.layers.{i}.self_attn"
            for p in ("weight", "bias"):
                qkv = [hf[f"{attn}.{x}_proj.{p}"] for x in "qkv"]
                out[f"{prefix}.resblocks.{i}.attn.in_proj_{p}"] = torch.cat(qkv)
    return {k: v.clone() for k, v in out.items()}


def _official() -> types.ModuleType:
    """jmhessel/clipscore's clipscore.py; its generation_eval_utils (pycocoevalcap, used only
    by the reference-based metrics) is replaced by an empty module."""
    sys.modules.setdefault("generation_eval_utils", types.ModuleType("generation_eval_utils"))
    import clipscore

    return clipscore


def record(a: argparse.Namespace) -> Path:
    import clip
    import numpy as np

    from evalkit.scores.random_clip import random_real_clip, state_digest

    official = _official()
    hf = random_real_clip("openai/clip-vit-base-patch32", seed=a.seed)
    digest = state_digest(hf)
    model = clip.model.build_model(to_openai_layout(hf.state_dict())).float().eval()
    n_hf = sum(p.numel() for p in hf.parameters())
    n_openai = sum(p.numel() for p in model.parameters())
    assert n_hf == n_openai, (n_hf, n_openai)
    with tempfile.TemporaryDirectory() as tmp:
        paths = []
        for name in PHOTOS:
            path = Path(tmp) / f"{name}.png"
            skimage_photo(name).save(path)
            paths.append(str(path))
        mean, per, text_features = official.get_clip_score(model, paths, list(PROMPTS), "cpu")
        image_features = official.extract_all_images(paths, model, "cpu")
    image_features = image_features / np.linalg.norm(image_features, axis=1, keepdims=True)
    cos = np.sum(image_features * text_features, axis=1)
    np.savez_compressed(
        FIXTURES / f"{OUT}.npz",
        image_features=image_features.astype(np.float32),
        text_features=np.asarray(text_features, dtype=np.float32),
    )
    doc = {
        "_about": __doc__.split("\n\n")[0],
        "reference": "jmhessel/clipscore clipscore.py get_clip_score (w = 2.5), OpenAI clip",
        "reference_commit": a.clipscore_commit,
        "command": (
            "PYTHONPATH=<openai-clip>:<clipscore checkout>:<sklearn, ftfy> python "
            f"scripts/record_official_fixtures.py clips --clipscore-commit {a.clipscore_commit} "
            f"--seed {a.seed}"
        ),
        "weights": f"evalkit.scores.random_clip.random_real_clip(seed={a.seed}) -> OpenAI layout",
        "seed": a.seed,
        "weights_digest": digest,
        "photos": [f"skimage.data.{n}() -> PIL (mode as stored) -> PNG file" for n in PHOTOS],
        "photo_names": list(PHOTOS),
        "prompts": list(PROMPTS),
        "clip_s": [float(v) for v in per],
        "clip_s_mean": float(mean),
        "cos": [float(v) for v in cos],
        "arrays": f"{OUT}.npz: image_features (L2-normalised), text_features (as returned)",
        "versions": versions(
            "openai-clip", "torch", "torchvision", "numpy", "scikit-image", "Pillow"
        ),
        "device": "cpu",
    }
    out = FIXTURES / f"{OUT}.json"
    out.write_text(json.dumps(doc, indent=1) + "\n")
    return out
