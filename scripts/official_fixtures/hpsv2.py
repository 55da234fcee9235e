"""HPSv2.1: ``hpsv2.img_score.score`` (hpsv2 1.2.0, ``hps_version="v2.1"``) on scikit-image
photos with a seeded random checkpoint of a small ViT-H-14.

Run in a throwaway site (hpsv2 pins protobuf < 4):
    pip install --target SITE --no-deps hpsv2==1.2.0 "protobuf<4" ftfy clint==0.5.1 args==0.1.0
    cp <open_clip>/bpe_simple_vocab_16e6.txt.gz SITE/hpsv2/src/open_clip/  # missing from the wheel
    PYTHONPATH=SITE:. python scripts/record_official_fixtures.py hpsv2 [--seed 0]

The official ``score`` is called unchanged, one (image, prompt) pair per call, with ``cp=`` the
random checkpoint. One substitution: its ``create_model_and_transforms('ViT-H-14',
'laion2B-s32B-b79K', ...)`` (which downloads the LAION weights the checkpoint then replaces) is
wrapped to build hpsv2's own open_clip with the small ViT-H-14 config
(:data:`evalkit.scores.random_clip.SMALL_VIT_H_14`) and no pretrained tag, every other argument
as the official passes it, so the validation transform is the official one.
"""

from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path

from official_fixtures.common import (
    FIXTURES,
    SCORE_PHOTOS,
    SCORE_PROMPTS,
    skimage_photo,
    versions,
)

PHOTOS = (*SCORE_PHOTOS, "immunohistochemistry")  # (not "logo": RGBA stays 4-channel there)
PROMPTS = (*SCORE_PROMPTS, "a microscope slide of stained tissue")
OUT = "hpsv2_official_random.json"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--seed", type=int, default=0, help="seed of the random checkpoint")


def record(a: argparse.Namespace) -> Path:
    from importlib.metadata import version

    import hpsv2.img_score as official
    from hpsv2.src.open_clip import add_model_config, create_model

    from evalkit.scores.random_clip import (
        SMALL_VIT_H_14_NAME,
        write_random_hps_checkpoint,
        write_small_vit_h14_config,
    )

    real = official.create_model_and_transforms

    def small(model_name: str, pretrained: str | None = None, **kwargs: object) -> object:
        assert model_name == "ViT-H-14", model_name
        return real(SMALL_VIT_H_14_NAME, None, **kwargs)

    official.create_model_and_transforms = small
    photos = [skimage_photo(n) for n in PHOTOS]
    with tempfile.TemporaryDirectory() as tmp:
        add_model_config(write_small_vit_h14_config(Path(tmp)))
        ckpt = Path(tmp) / "hps_random.pt"
        digest = write_random_hps_checkpoint(ckpt, lambda n, p: create_model(n, p), a.seed)
        values = [
            float(official.score(im, prompt, cp=str(ckpt), hps_version="v2.1")[0])
            for im, prompt in zip(photos, PROMPTS)
        ]
    doc = {
        "_about": __doc__.split("\n\n")[0],
        "reference": f"hpsv2 {version('hpsv2')}: hpsv2.img_score.score(..., hps_version='v2.1')",
        "command": "PYTHONPATH=SITE:. python scripts/record_official_fixtures.py hpsv2 "
        f"--seed {a.seed}",
        "weights": f"evalkit.scores.random_clip.write_random_hps_checkpoint(seed={a.seed})",
        "seed": a.seed,
        "weights_digest": digest,
        "photo_names": list(PHOTOS),
        "prompts": list(PROMPTS),
        "hpsv2": values,
        "versions": versions("hpsv2", "torch", "torchvision", "protobuf", "scikit-image", "Pillow"),
        "device": "cpu",
    }
    out = FIXTURES / OUT
    out.write_text(json.dumps(doc, indent=1) + "\n")
    return out
