"""ImageReward: the official package's ``ImageReward.score(prompt, image)`` on scikit-image
photos and prompts, with a seeded random checkpoint of the official architecture.

    PYTHONPATH=<site with image-reward 1.5>:. \\
        python scripts/record_official_fixtures.py imagereward [--seed 3] [--out DIR]

The official runtime is PyPI ``image-reward==1.5`` at its pins (timm 0.6.13, fairscale 0.4.13)
with transformers 4.27.4 (its lower bound), installed in a throwaway ``--target`` folder put first
on PYTHONPATH, never in evalkit's environment. Two things are bypassed, both outside the scored
path: the package's and ``models``' ``__init__`` (they import ReFL's diffusers training code and
the CLIP/aesthetic scores' ``clip``) are skipped by importing ``ImageReward.ImageReward``
directly, and ``BertTokenizer.from_pretrained('bert-base-uncased')`` (a download) reads the small
vocabulary written beside the fixture (bert-base-uncased's special-token ids, the prompts' words).

Two outputs: the key/shape list of the REAL-size official model (ViT-L, 12-layer BERT: what
``ImageReward.pt`` holds) and, on the small architecture of
:mod:`evalkit.scores.imagereward_random` (real widths, 2 + 2 layers), the rewards of every
(photo, prompt) pair with the random checkpoint loaded strictly.
"""

from __future__ import annotations

import argparse
import importlib
import json
import sys
import tempfile
import types
from pathlib import Path

from official_fixtures.common import FIXTURES, dump_compact, versions

ROOT = Path(__file__).resolve().parents[2]
NAME = "imagereward_official_random"
KEYS_NAME = "imagereward_official_keys"
VOCAB_NAME = "imagereward_vocab.txt"

#: photo name -> scikit-image function; two colour photos, one not square, one greyscale
PHOTOS = ("astronaut", "chelsea", "coffee", "rocket", "camera")
PROMPTS = (
    "an astronaut in a white suit standing in front of a flag",
    "a ginger cat looking at the camera",
    "a cup of coffee on a saucer",
    "a rocket on a launch pad at dusk",
    "a black and white photo of a man with a camera",
    # longer than ImageReward's 35 tokens (truncated); some words outside the small vocabulary
    "a very detailed photograph of a tall skyscraper behind a cat and a cup of coffee on a "
    "table next to a rocket and an astronaut holding a camera in a white suit at dusk",
)
#: pairs scored: every photo with every prompt
SPECIALS = ["[PAD]"] + [f"[unused{i}]" for i in range(99)] + ["[UNK]", "[CLS]", "[SEP]", "[MASK]"]


def vocabulary() -> list[str]:
    """bert-base-uncased's special ids (0, 100-103) and the prompts' words but 'skyscraper'."""
    words = {w for p in PROMPTS for w in p.lower().split()} - {"skyscraper"}
    return SPECIALS + sorted(words) + ["##s", "##ing", "sky", "##scraper"]


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--seed", type=int, default=3, help="seed of the random checkpoint")
    p.add_argument("--out", type=Path, default=FIXTURES, help="folder for the fixture files")


def record(a: argparse.Namespace) -> Path:
    return record_imagereward(a.seed, a.out)


def _official_module(vocab: Path) -> types.ModuleType:
    """``ImageReward.ImageReward`` without the package ``__init__``; the tokenizer read from
    ``vocab``."""
    import transformers

    spec = importlib.util.find_spec("ImageReward")
    if spec is None or not spec.submodule_search_locations:
        sys.exit("image-reward is not importable: put its --target folder first on PYTHONPATH")
    root = Path(list(spec.submodule_search_locations)[0])
    for name, folder in (("ImageReward", root), ("ImageReward.models", root / "models")):
        pkg = types.ModuleType(name)  # skip __init__: ReFL (diffusers), CLIP/Aesthetic scores
        pkg.__path__ = [str(folder)]
        sys.modules[name] = pkg
    original = transformers.BertTokenizer.from_pretrained.__func__

    def from_vocab(cls, name, *args, **kwargs):
        assert name == "bert-base-uncased", name
        return original(cls, str(vocab.parent), *args, **kwargs)

    transformers.BertTokenizer.from_pretrained = classmethod(from_vocab)
    return importlib.import_module("ImageReward.ImageReward")


def _small_vit(official: types.ModuleType) -> None:
    """Make BLIP_Pretrain build ViT-L's width with ``SMALL_VISION_DEPTH`` blocks."""
    from evalkit.scores.imagereward_random import SMALL_VISION_DEPTH

    blip_pretrain = sys.modules["ImageReward.models.BLIP.blip_pretrain"]
    vit = sys.modules["ImageReward.models.BLIP.vit"]

    def create_vit(name, image_size, *args, **kwargs):
        assert name == "large", name
        model = vit.VisionTransformer(
            img_size=image_size, patch_size=16, embed_dim=1024, depth=SMALL_VISION_DEPTH,
            num_heads=16, drop_path_rate=0.1,
        )  # fmt: skip
        return model, 1024

    blip_pretrain.create_vit = create_vit


def record_imagereward(seed: int, out: Path) -> Path:
    import numpy as np
    import torch
    from PIL import Image
    from skimage import data

    from evalkit.scores.imagereward_random import (
        MED_CONFIG,
        RECIPE,
        SMALL_MED_CONFIG,
        SMALL_VISION_DEPTH,
        random_state_dict,
    )

    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        vocab = Path(tmp) / "vocab.txt"
        vocab.write_text("\n".join(vocabulary()) + "\n")
        (out / VOCAB_NAME).write_text(vocab.read_text())
        official = _official_module(vocab)
        med = Path(tmp) / "med_config.json"
        med.write_text(json.dumps(MED_CONFIG))
        real = official.ImageReward(med_config=str(med), device="cpu")
        real_keys = {k: list(v.shape) for k, v in real.state_dict().items()}
        del real
        _small_vit(official)
        med.write_text(json.dumps(SMALL_MED_CONFIG))
        model = official.ImageReward(med_config=str(med), device="cpu").eval()
        shapes = {k: list(v.shape) for k, v in model.state_dict().items()}
        model.load_state_dict(random_state_dict(shapes, seed), strict=True)
        tokenizer = model.blip.tokenizer
        images = {n: Image.fromarray(getattr(data, n)()) for n in PHOTOS}
        rewards: dict[str, list[float]] = {}
        with torch.no_grad():
            for name, image in images.items():
                rewards[name] = [float(model.score(p, image)) for p in PROMPTS]
        token_ids = [
            tokenizer(p, padding="max_length", truncation=True, max_length=35).input_ids
            for p in PROMPTS
        ]
    command = f"python scripts/record_official_fixtures.py imagereward --seed {seed}"
    about = {
        "what": "image-reward 1.5 ImageReward.score(prompt, PIL image) -> float, official "
        "code path, seeded random checkpoint of the small architecture",
        "official": "PyPI image-reward==1.5 (THUDM/ImageReward), timm 0.6.13, fairscale 0.4.13",
        "recipe": RECIPE,
        "seed": seed,
        "vision_depth": SMALL_VISION_DEPTH,
        "med_config": SMALL_MED_CONFIG,
        "vocabulary": VOCAB_NAME,
        "command": command,
        "versions": versions(
            "image-reward", "timm", "fairscale", "transformers", "torch", "pillow", "scikit-image"
        ),
    }
    doc = {
        "_about": about,
        "photos": list(PHOTOS),
        "prompts": list(PROMPTS),
        "token_ids": token_ids,
        "rewards": rewards,
        "spread": float(np.std([v for r in rewards.values() for v in r])),
    }
    (out / f"{NAME}.json").write_text(json.dumps(doc, indent=1) + "\n")
    keys_doc = {
        "_about": {**about, "what": "state-dict keys and shapes of the real-size official "
                   "ImageReward (ViT-L/16 224 + BERT-base with cross-attention + MLP)"},
        "keys": real_keys,
    }  # fmt: skip
    (out / f"{KEYS_NAME}.json").write_text(dump_compact(keys_doc))
    return out / f"{NAME}.json"
