"""Open-MAGVIT2 (open-magvit2-256): LFQ tokens and reconstructions of scikit-image photos computed
by the official ``VQModel`` of TencentARC/SEED-Voken (src/Open_MAGVIT2/models/lfqgan.py) the way
its evaluation_image.py does (``use_ema`` config: encode and decode inside ``ema_scope()``), with
evalkit's seeded random weights as the EMA weights and other seeded weights as the training
weights (so a loader that takes the wrong set fails), at the released configuration (256 x 256;
first photo) and at a narrow one of the same architecture (128 x 128; what the default tests run).

    PYTHONPATH=<site with lightning 2.2.0, einops> \\
        python scripts/record_official_fixtures.py open_magvit2 --official DIR

The loss (LPIPS and a discriminator, which download weights) is replaced by ``torch.nn.Identity``
through the official ``lossconfig``; it has no part in encoding or decoding.
"""

from __future__ import annotations

import argparse
import math
import os
import sys
from pathlib import Path

from official_fixtures import common

SEED = 0  # the EMA weights; SEED + 1: the training weights beside them in the checkpoint
REAL = {"ch": 128, "ch_mult": [1, 1, 2, 2, 4], "num_res_blocks": 4, "z_channels": 18}
TINY = {"ch": 32, "ch_mult": [1, 1, 2, 2, 4], "num_res_blocks": 2, "z_channels": 18}
CONFIG_FILE = "configs/Open-MAGVIT2/gpu/imagenet_lfqgan_256_L.yaml"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--official", type=Path, required=True, help="TencentARC/SEED-Voken checkout")
    p.add_argument("--commit", help="commit of the checkout when it is not a git folder")


def _official_model(kwargs: dict):  # noqa: ANN202 - an official object
    from src.Open_MAGVIT2.models.lfqgan import VQModel

    ddconfig = {
        **kwargs,
        "double_z": False,
        "resolution": 128,
        "in_channels": 3,
        "out_ch": 3,
    }
    bits = kwargs["z_channels"]
    return VQModel(
        ddconfig=ddconfig,
        lossconfig={"target": "torch.nn.Identity"},
        n_embed=2**bits,
        embed_dim=bits,
        sample_minimization_weight=1.0,
        batch_maximization_weight=1.0,
        use_ema=True,
    ).eval()


def _seed(model, variant_kwargs: dict) -> dict[str, list[int]]:  # noqa: ANN001
    """EMA = seeded(SEED) through the official LitEma (built from the weights it is given),
    training weights = seeded(SEED + 1); returns the whole checkpoint state dict's shapes."""
    import torch
    from src.Open_MAGVIT2.modules.ema import LitEma

    from evalkit.models.weights import seeded_state_dict

    generator = {k: list(p.shape) for k, p in model.named_parameters()}
    for seed in (SEED, SEED + 1):
        weights = seeded_state_dict(generator, seed)
        with torch.no_grad():
            for name, p in model.named_parameters():
                p.copy_(weights[name])
        if seed == SEED:
            model.model_ema = LitEma(model)
    return {k: list(t.shape) for k, t in model.state_dict().items()}


def _outputs(model, x):  # noqa: ANN001, ANN202 - official objects
    import torch

    with torch.no_grad(), model.ema_scope():
        features = model.encoder(x)
        quant, _, indices, _ = model.encode(x)
        decoded = model.decode(quant)  # what evaluation_image.py reconstructs (before its clamp)
        b, c, h, w = quant.shape
        grid = indices.reshape(b, h, w)
        from_ids = model.decode(
            model.quantize.get_codebook_entry(indices.reshape(b, h * w), (b, h, w, c), None)
        )
    checks = {
        "decode_of_get_codebook_entry_vs_decoded_max_abs": float((from_ids - decoded).abs().max()),
        "quant_vs_sign_of_features_max_abs": float(
            (quant - torch.where(features > 0, 1.0, -1.0)).abs().max()
        ),
    }
    return features, grid, decoded, checks


def record(a: argparse.Namespace) -> Path:
    sys.path.insert(0, str(a.official))
    os.chdir(a.official)  # the official modules import ``main`` from the checkout's root
    arrays, models = {}, {}
    for variant, kwargs, size, n in (("real", REAL, 256, 1), ("tiny", TINY, 128, 3)):
        images = common.photos(size)[:n]
        model = _official_model(kwargs)
        shapes = _seed(model, kwargs)
        features, tokens, decoded, checks = _outputs(model, common.to_float(images, True))
        common.put_index_outputs(arrays, variant, images, (features, tokens, decoded))
        generator = {k: v for k, v in shapes.items() if not k.startswith("model_ema.")}
        models[variant] = {
            "ddconfig": kwargs,
            "image_size": size,
            **checks,
            "num_generator_parameters": sum(math.prod(s) for s in generator.values()),
            "state_dict": shapes,
        }
    meta = {
        "_about": (
            "Outputs of the official Open-MAGVIT2 VQModel (src/Open_MAGVIT2/models/lfqgan.py, "
            f"use_ema=True as in {CONFIG_FILE}; lossconfig torch.nn.Identity) on scikit-image "
            "photos (centre square, every k-th pixel), input 2x - 1, run as evaluation_image.py "
            "does inside ema_scope(): features = encoder(x) (tiny only), tokens = the LFQ "
            "indices of encode(x) as (B, h, w), decoded = decode(quant) before the clamp. "
            "Weights: the EMA buffers (model_ema.<name without dots>) hold "
            "evalkit.models.weights.seeded_state_dict(generator shapes, seed) (the official "
            "LitEma built from them), the parameters seeded_state_dict(..., seed + 1); "
            "checkpoint = {'state_dict': state_dict()} (names and shapes below). real: the "
            "released config at 256 px, first photo; tiny: a narrow config at 128 px. Recorded "
            "on CPU by scripts/record_official_fixtures.py open_magvit2."
        ),
        "model_id": "open-magvit2-256",
        "source_repo": "https://github.com/TencentARC/SEED-Voken",
        "source_commit": a.commit or common.git_head(a.official),
        "command": "python scripts/record_official_fixtures.py open_magvit2 --official <checkout>",
        "versions": common.versions("torch", "numpy", "scikit-image", "lightning", "einops"),
        "seed": SEED,
        "photos": "skimage.data astronaut, chelsea, coffee",
        "models": models,
    }
    return common.save_fixture("open_magvit2_official", arrays, meta)
