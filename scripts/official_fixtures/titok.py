"""TiTok, from the official ``TiTok(config)`` of bytedance/1d-tokenizer on CPU:

- ``keys``: key names and shapes of every variant, built (random weights) from its
  ``configs/infer/TiTok/*.yaml``;
- ``outputs``: tokens (VQ) or posterior mean and std (VAE), encoder features and reconstructions
  of three scikit-image photos (64 x 64) with evalkit's seeded random weights, for three variants'
  configs (legacy VQ, VQ, VAE) narrowed to ViT-S and 16 latent tokens at 64 px (the rest of each
  config, the pixel decoder included, as released).

    python scripts/record_official_fixtures.py titok --official DIR [--only keys|outputs]

The official code imports einops, omegaconf, accelerate and huggingface_hub; install them in a
throwaway environment (or put them on PYTHONPATH), not in evalkit's dependencies. ``outputs``
needs evalkit importable (for the seeded weights).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from official_fixtures import common

# Our model id -> the official inference config it is built from.
TITOK_CONFIGS = {
    "titok-l32": "titok_l32",
    "titok-b64": "titok_b64",
    "titok-s128": "titok_s128",
    "titok-bl64-vq": "titok_bl64_vq8k",
    "titok-bl128-vq": "titok_bl128_vq8k",
    "titok-sl256-vq": "titok_sl256_vq8k",
    "titok-ll32-vae": "titok_ll32_vae_c16",
    "titok-bl64-vae": "titok_bl64_vae_c16",
    "titok-bl128-vae": "titok_bl128_vae_c16",
}


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--official", type=Path, required=True, help="bytedance/1d-tokenizer checkout")
    p.add_argument("--commit", help="commit of the checkout when it is not a git folder")
    p.add_argument("--only", choices=("keys", "outputs"), help="record one of the two fixtures")


def record(a: argparse.Namespace) -> Path:
    commit = a.commit or common.git_head(a.official)
    out = None
    if a.only in (None, "outputs"):
        out = record_outputs(a.official, commit)
    if a.only in (None, "keys"):
        out = record_titok(a.official, commit)
    assert out is not None
    return out


# Output parity: our model id -> the overrides that narrow its released config.
OUTPUT_VARIANTS = {"titok-s128": "legacy VQ", "titok-sl256-vq": "VQ", "titok-bl64-vae": "VAE"}
NARROW = {
    "model.vq_model.vit_enc_model_size": "small",
    "model.vq_model.vit_dec_model_size": "small",
    "model.vq_model.num_latent_tokens": 16,
    "dataset.preprocessing.crop_size": 64,
}
SEED = 0


def record_outputs(official: Path, commit: str) -> Path:
    import torch
    from omegaconf import OmegaConf

    sys.path.insert(0, str(official))
    from modeling.quantizer.quantizer import DiagonalGaussianDistribution
    from modeling.titok import TiTok  # the official class

    images = common.photos(64)
    x = common.to_float(images, signed=False)  # TiTok takes [0, 1] (the official demo)
    arrays, models = {"images": images}, {}
    for model_id, kind in OUTPUT_VARIANTS.items():
        name = TITOK_CONFIGS[model_id]
        cfg = OmegaConf.load(official / "configs" / "infer" / "TiTok" / f"{name}.yaml")
        for key, value in NARROW.items():
            OmegaConf.update(cfg, key, value)
        net = TiTok(cfg).eval()
        shapes = common.load_seeded(net, SEED)
        with torch.no_grad():
            z = net.encoder(pixel_values=x, latent_tokens=net.latent_tokens)
            if net.quantize_mode == "vq":
                tokens = net.encode(x)[1]["min_encoding_indices"]  # (B, 1, N)
                arrays[f"{model_id}.tokens"] = tokens.numpy()
                recon = net.decode_tokens(tokens)
            else:
                posterior = DiagonalGaussianDistribution(z)
                arrays[f"{model_id}.mean"] = posterior.mean.numpy()
                arrays[f"{model_id}.std"] = posterior.std.numpy()
                recon = net.decode_tokens(posterior.mode())
        arrays[f"{model_id}.features"] = z.numpy()
        arrays[f"{model_id}.reconstruction"] = recon.numpy()
        models[model_id] = {
            "kind": kind,
            "official_config": f"configs/infer/TiTok/{name}.yaml",
            "overrides": NARROW,
            "num_tensors": len(shapes),
            "state_dict": shapes,
        }
        print(f"{model_id}: {len(shapes)} tensors", file=sys.stderr)
        del net
    meta = {
        "_about": (
            "Outputs of the official TiTok(config) of bytedance/1d-tokenizer, configs "
            "configs/infer/TiTok/<name>.yaml with the overrides below (ViT-S encoder and decoder, "
            "16 latent tokens, 64 px), with evalkit.models.weights.seeded_state_dict(state_dict "
            "shapes below, seed) on scikit-image photos (centre square, every k-th pixel, 64 x 64)"
            " in [0, 1]: features = encoder(x, latent_tokens); VQ: tokens = encode(x)'s "
            "min_encoding_indices, reconstruction = decode_tokens(tokens); VAE: the posterior's "
            "mean and std (DiagonalGaussianDistribution), reconstruction = decode_tokens(mean). "
            "Reconstructions unclamped. Recorded on CPU by scripts/record_official_fixtures.py "
            "titok --only outputs."
        ),
        "source_repo": "https://github.com/bytedance/1d-tokenizer",
        "source_commit": commit,
        "command": "python scripts/record_official_fixtures.py titok --official <checkout> "
        "--only outputs",
        "versions": common.versions("torch", "numpy", "scikit-image", "einops", "omegaconf"),
        "seed": SEED,
        "photos": "skimage.data astronaut, chelsea, coffee",
        "models": models,
    }
    return common.save_fixture("titok_official_outputs", arrays, meta)


def record_titok(official: Path, commit: str) -> Path:
    import torch
    from omegaconf import OmegaConf

    sys.path.insert(0, str(official))
    from modeling.titok import TiTok  # the official class

    models = {}
    for model_id, name in TITOK_CONFIGS.items():
        cfg = OmegaConf.load(official / "configs" / "infer" / "TiTok" / f"{name}.yaml")
        torch.manual_seed(0)
        net = TiTok(cfg)
        sd = net.state_dict()
        models[model_id] = {
            "official_config": f"configs/infer/TiTok/{name}.yaml",
            "num_tensors": len(sd),
            "num_parameters": sum(t.numel() for t in sd.values()),
            "state_dict": {k: list(t.shape) for k, t in sd.items()},
        }
        print(f"{model_id}: {len(sd)} tensors", file=sys.stderr)
        del net, sd
    doc = {
        "_about": (
            "Key names and shapes of the official TiTok state dicts, recorded by "
            "scripts/record_official_fixtures.py titok: the official TiTok(config) of "
            "bytedance/1d-tokenizer built on CPU with random weights (torch.manual_seed(0)) "
            "from configs/infer/TiTok/<name>.yaml. Not written by hand; rerun the script to "
            "refresh it."
        ),
        "source_repo": "https://github.com/bytedance/1d-tokenizer",
        "source_commit": commit,
        "command": "python scripts/record_official_fixtures.py titok --official <checkout>",
        "versions": common.versions(
            "torch", "einops", "omegaconf", "accelerate", "huggingface_hub"
        ),
        "models": models,
    }
    path = common.FIXTURES / "titok_official_state_dicts.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(common.dump_compact(doc))
    return path
