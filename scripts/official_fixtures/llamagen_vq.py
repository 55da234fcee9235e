"""LlamaGen VQ tokenizers (llamagen-vq-ds16, llamagen-vq-ds8): tokens, features and
reconstructions of three scikit-image photos (64 x 64) computed by the official ``VQ_models`` of
FoundationVision/LlamaGen with evalkit's seeded random weights, at the released configurations
(VQ-16 and VQ-8, 16384 codes of 8 dims) and at narrow ones of the same architectures (the
official ``VQModel`` with its encoder and decoder rebuilt by the official classes at 32 base
channels: ``VQModel`` has no option for it).

    python scripts/record_official_fixtures.py llamagen_vq --official DIR

Run with evalkit importable (for the seeded weights).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from official_fixtures import common

SEED = 0
SIZE = 64
MODELS = {"llamagen-vq-ds16": "VQ-16", "llamagen-vq-ds8": "VQ-8"}
# evalkit.models.vqgan.tiny_config(<id>) in LlamaGen's terms
TINY = {"ch": 32, "z_channels": 32, "codebook_size": 128, "codebook_embed_dim": 8}


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--official", type=Path, required=True, help="FoundationVision/LlamaGen checkout"
    )
    p.add_argument("--commit", help="commit of the checkout when it is not a git folder")


def _tiny(name: str) -> object:
    from tokenizer.tokenizer_image.vq_model import Decoder, Encoder, VQ_models

    model = VQ_models[name](
        codebook_size=TINY["codebook_size"],
        codebook_embed_dim=TINY["codebook_embed_dim"],
        z_channels=TINY["z_channels"],
    )
    mult = model.config.encoder_ch_mult
    model.encoder = Encoder(ch=TINY["ch"], ch_mult=mult, z_channels=TINY["z_channels"])
    model.decoder = Decoder(ch=TINY["ch"], ch_mult=mult, z_channels=TINY["z_channels"])
    return model


def record(a: argparse.Namespace) -> Path:
    import torch

    sys.path.insert(0, str(a.official))
    from tokenizer.tokenizer_image.vq_model import VQ_models  # the official models

    images = common.photos(SIZE)
    x = common.to_float(images, signed=True)  # the official demo: 2 * img - 1
    arrays, models = {"images": images}, {}
    for model_id, name in MODELS.items():
        for variant in ("real", "tiny"):
            model = (
                VQ_models[name](codebook_size=16384, codebook_embed_dim=8)
                if variant == "real"
                else _tiny(name)
            ).eval()
            shapes = common.load_seeded(model, SEED)
            with torch.no_grad():
                z = model.quant_conv(model.encoder(x))
                latent, _, (_, _, flat) = model.encode(x)
                recon = model.decode_code(flat, latent.shape)  # as reconstruction_vq_ddp.py
            key = f"{model_id}.{variant}"
            arrays.update(common.vq_arrays(key, variant == "tiny", flat, z, recon))
            models[key] = {"num_tensors": len(shapes), "state_dict": shapes}
            if variant == "tiny":
                models[key]["config"] = TINY
    meta = {
        "_about": (
            "Outputs of the official LlamaGen VQ_models['VQ-16'|'VQ-8'] (real: codebook 16384 x 8;"
            " tiny: 32 base channels, z 32, 128 codes of 8) with "
            "evalkit.models.weights.seeded_state_dict(state_dict shapes below, seed) on "
            "scikit-image photos (centre square, every k-th pixel, 64 x 64), input 2x - 1: "
            "features = quant_conv(encoder(x)), tokens = encode(x)'s indices, reconstruction = "
            "decode_code(tokens, latent.shape) (unclamped; real configs: the first photo only), as "
            "reconstruction_vq_ddp.py. "
            "Recorded on CPU by scripts/record_official_fixtures.py llamagen_vq."
        ),
        "source_repo": "https://github.com/FoundationVision/LlamaGen",
        "source_commit": a.commit or common.git_head(a.official),
        "command": "python scripts/record_official_fixtures.py llamagen_vq --official <checkout>",
        "versions": common.versions("torch", "numpy", "scikit-image"),
        "seed": SEED,
        "photos": "skimage.data astronaut, chelsea, coffee",
        "models": models,
    }
    return common.save_fixture("llamagen_vq_official", arrays, meta)
