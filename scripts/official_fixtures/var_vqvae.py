"""VAR VQ-VAE (var-vqvae): multi-scale tokens and reconstructions of scikit-image photos computed
by the official ``VQVAE`` of FoundationVision/VAR with evalkit's seeded random weights, at the
released configuration (256 x 256, ten scales; first photo) and at a narrow one of the same
architecture (128 x 128, seven scales; what the default tests run).

    python scripts/record_official_fixtures.py var_vqvae --official DIR

The official code needs only torch and numpy (run with evalkit importable, for the weights).
"""

from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path

from official_fixtures import common

SEED = 0
# VQVAE(...) arguments: the release (models/__init__.py build_vae_var defaults) and the narrow
# network, evalkit.models.var_vqvae.tiny_config() in the official terms.
REAL = {
    "vocab_size": 4096,
    "z_channels": 32,
    "ch": 160,
    "share_quant_resi": 4,
    "v_patch_nums": [1, 2, 3, 4, 5, 6, 8, 10, 13, 16],
}
TINY = {
    "vocab_size": 64,
    "z_channels": 8,
    "ch": 32,
    "share_quant_resi": 4,
    "v_patch_nums": [1, 2, 3, 4, 5, 6, 8],
}


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--official", type=Path, required=True, help="FoundationVision/VAR checkout")
    p.add_argument("--commit", help="commit of the checkout when it is not a git folder")


def _outputs(vae, x):  # noqa: ANN001, ANN202 - official objects
    import torch

    with torch.no_grad():
        features = vae.quant_conv(vae.encoder(x))
        tokens = vae.img_to_idxBl(x)
        recon = vae.idxBl_to_img(tokens, same_shape=True, last_one=True)  # clamped
        # the same path without the final clamp: embed_to_fhat -> post_quant_conv -> decoder
        b, c = x.shape[0], vae.Cvae
        ms = [
            vae.quantize.embedding(t).transpose(1, 2).reshape(b, c, round(t.shape[1] ** 0.5), -1)
            for t in tokens
        ]
        f_hat = vae.quantize.embed_to_fhat(ms, all_to_max_scale=True, last_one=True)
        raw = vae.decoder(vae.post_quant_conv(f_hat))
        direct = vae.img_to_reconstructed_img(x, last_one=True)
    checks = {  # how the clamped official paths relate to ``raw`` (kept instead of their arrays)
        "idxBl_to_img_vs_clamped_decoded_max_abs": float((recon - raw.clamp(-1, 1)).abs().max()),
        "img_to_reconstructed_img_vs_idxBl_to_img_max_abs": float((direct - recon).abs().max()),
    }
    return features, torch.cat(tokens, dim=1), raw, checks


def record(a: argparse.Namespace) -> Path:
    sys.path.insert(0, str(a.official))
    from models.vqvae import VQVAE  # the official class

    arrays, models = {}, {}
    for variant, kwargs, size, n in (("real", REAL, 256, 1), ("tiny", TINY, 128, 3)):
        images = common.photos(size)[:n]
        vae = VQVAE(**{**kwargs, "v_patch_nums": tuple(kwargs["v_patch_nums"])}, test_mode=True)
        shapes = common.load_seeded(vae, SEED)
        features, tokens, raw, checks = _outputs(vae, common.to_float(images, True))
        common.put_index_outputs(arrays, variant, images, (features, tokens, raw))
        models[variant] = {
            "config": kwargs,
            "image_size": size,
            **checks,
            "num_tensors": len(shapes),
            "num_parameters": sum(math.prod(s) for s in shapes.values()),
            "state_dict": shapes,
        }
    meta = {
        "_about": (
            "Outputs of the official VAR VQVAE (models/vqvae.py, test_mode=True) with "
            "evalkit.models.weights.seeded_state_dict(state_dict shapes below, seed) on "
            "scikit-image photos (centre square, every k-th pixel), input 2x - 1: features = "
            "quant_conv(encoder(x)) (tiny only), tokens = torch.cat(img_to_idxBl(x), 1), "
            "decoded = decoder(post_quant_conv(embed_to_fhat(embeddings of tokens))), i.e. the "
            "official idxBl_to_img(tokens, same_shape=True, last_one=True) before its clamp "
            "(the clamped outputs' differences from clamp(decoded) are in each model's checks). "
            "real: the released config at 256 px, first photo; tiny: a narrow config at 128 px. "
            "Recorded on CPU by scripts/record_official_fixtures.py var_vqvae."
        ),
        "model_id": "var-vqvae",
        "source_repo": "https://github.com/FoundationVision/VAR",
        "source_commit": a.commit or common.git_head(a.official),
        "command": "python scripts/record_official_fixtures.py var_vqvae --official <checkout>",
        "versions": common.versions("torch", "numpy", "scikit-image"),
        "seed": SEED,
        "photos": "skimage.data astronaut, chelsea, coffee",
        "models": models,
    }
    return common.save_fixture("var_vqvae_official", arrays, meta)
