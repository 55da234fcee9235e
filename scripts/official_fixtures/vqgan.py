"""taming-transformers VQGAN (vqgan-f16-16384): tokens, features and reconstructions of three
scikit-image photos (64 x 64) computed by the official ``VQModel`` of CompVis/taming-transformers
with evalkit's seeded random weights, at the real ImageNet f16-16384 configuration and at a
narrow one of the same architecture (what the default tests run).

    python scripts/record_official_fixtures.py vqgan --official DIR --config MODEL_YAML

``--config``: the checkpoint's ``model.yaml`` (LlamaGen ships a copy as
``tokenizer/vqgan/configs/vqgan_imagenet_f16_16384.yaml``). The training loss (LPIPS and a
discriminator, whose VGG weights would be downloaded) is replaced by ``torch.nn.Identity``: it is
not part of the tokenizer (the released checkpoint's ``loss.*`` keys are dropped by evalkit).
The official code needs pytorch-lightning 1.x, omegaconf and einops; its ``main.py`` imports
``torch._six`` (gone from torch 2), given here as a two-name stand-in module. Run with evalkit
importable (for the seeded weights).
"""

from __future__ import annotations

import argparse
import copy
import sys
import types
from pathlib import Path

from official_fixtures import common

MODEL_ID = "vqgan-f16-16384"
SEED = 0
SIZE = 64
# The narrow configuration: evalkit.models.vqgan.tiny_config("vqgan-f16-16384") in taming's terms
# (attention where the real one has it: the 1/16 resolution, i.e. 4 px at 64 px).
TINY = {"ch": 32, "z_channels": 32, "embed_dim": 16, "n_embed": 128, "resolution": 64}


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--official", type=Path, required=True, help="taming-transformers checkout")
    p.add_argument("--config", type=Path, required=True, help="the f16-16384 model.yaml")
    p.add_argument("--commit", help="commit of the checkout when it is not a git folder")


def _tiny(params: dict) -> dict:
    out = copy.deepcopy(params)
    out["embed_dim"], out["n_embed"] = TINY["embed_dim"], TINY["n_embed"]
    dd = out["ddconfig"]
    dd["ch"], dd["z_channels"], dd["resolution"] = (
        TINY["ch"],
        TINY["z_channels"],
        TINY["resolution"],
    )
    dd["attn_resolutions"] = [TINY["resolution"] // 16]
    return out


def record(a: argparse.Namespace) -> Path:
    import torch
    from omegaconf import OmegaConf

    six = types.ModuleType("torch._six")  # torch 1.x names taming's data utilities import
    six.string_classes = (str, bytes)  # type: ignore[attr-defined]
    sys.modules.setdefault("torch._six", six)
    sys.path.insert(0, str(a.official))
    from taming.models.vqgan import VQModel  # the official class

    real = OmegaConf.to_container(OmegaConf.load(a.config).model.params)
    real["lossconfig"] = {"target": "torch.nn.Identity"}
    images = common.photos(SIZE)
    x = common.to_float(images, signed=True)
    arrays, models = {"images": images}, {}
    for variant, params in (("real", real), ("tiny", _tiny(real))):
        model = VQModel(**params).eval()
        shapes = common.load_seeded(model, SEED)
        with torch.no_grad():
            z = model.quant_conv(model.encoder(x))
            _, _, (_, _, flat) = model.quantize(z)
            b, c, h, w = z.shape
            codes = model.quantize.get_codebook_entry(flat, shape=(b, h, w, c))
            recon = model.decode(codes)
        arrays.update(common.vq_arrays(variant, variant == "tiny", flat, z, recon))
        models[variant] = {"config": params, "num_tensors": len(shapes), "state_dict": shapes}
    meta = {
        "_about": (
            "Outputs of the official taming-transformers VQModel (loss replaced by Identity) "
            "with evalkit.models.weights.seeded_state_dict(state_dict shapes below, seed) on "
            "scikit-image photos (centre square, every k-th pixel, 64 x 64), input 2x - 1, for "
            "the real f16-16384 config and a narrow one (ch 32): features = "
            "quant_conv(encoder(x)), tokens = the quantizer's indices, reconstruction = "
            "decode(get_codebook_entry(tokens)) (unclamped; real: first photo only). Recorded on "
            "CPU by "
            "scripts/record_official_fixtures.py vqgan."
        ),
        "model_id": MODEL_ID,
        "source_repo": "https://github.com/CompVis/taming-transformers",
        "source_commit": a.commit or common.git_head(a.official),
        "command": "python scripts/record_official_fixtures.py vqgan --official <checkout> "
        "--config <vqgan_imagenet_f16_16384.yaml>",
        "versions": common.versions(
            "torch", "numpy", "scikit-image", "pytorch-lightning", "omegaconf"
        ),
        "seed": SEED,
        "photos": "skimage.data astronaut, chelsea, coffee",
        "models": models,
    }
    return common.save_fixture("vqgan_official", arrays, meta)
