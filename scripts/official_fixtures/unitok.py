"""UniTok (unitok): multi-codebook tokens and reconstructions of scikit-image photos computed by
the official ``UniTok`` of FoundationVision/UniTok (models/unitok.py, its ``img_to_idx`` and
``idx_to_img`` as inference.py uses them) with evalkit's seeded random weights, at a narrow
configuration of the same architecture (64 x 64, a 4 x 4 grid; what the default tests run) and at
the released configuration (``Args()`` defaults: vitamin_large, 32768 codes in 8 codebooks of
64-dim features split 8 ways, attention projections; about 800M parameters with the text tower;
first photo at 256 x 256).

    PYTHONPATH=<site with timm==1.0.8 (UniTok's requirements.txt), typed-argument-parser, ftfy,
        regex> python scripts/record_official_fixtures.py unitok --official DIR

The narrow network is the official code unchanged except for the depth of the ViTamin transformer:
``timm``'s registry entry ``vitamin_base`` (registered by the official models/vitamin.py) is
replaced, for this process, by the official ``vitamin_base`` called with ``depth=2``; the decoder's
widths for ``vitamin_base`` are the official ones.
"""

from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path

from official_fixtures import common

SEED = 0
TINY_DEPTH = 2
# official Args fields changed for the narrow network (the rest are Args() defaults)
TINY = {
    "model": "vitamin_base",
    "img_size": 64,
    "vocab_size": 512,
    "vocab_width": 64,
    "num_codebooks": 8,
    "quant_proj": "attn",
    "embed_dim": 32,
    "text_width": 64,
    "text_heads": 2,
    "text_layers": 1,
    "text_vocab_size": 100,
    "text_context_length": 8,
    "drop_path": 0.0,
    "grad_ckpt": False,
}
REAL = {"drop_path": 0.0, "grad_ckpt": False}  # Args() defaults otherwise (the release's names)
ARGS_RECORDED = [
    "model",
    "img_size",
    "vocab_size",
    "vocab_width",
    "num_codebooks",
    "quant_proj",
    "num_query",
    "embed_dim",
    "text_width",
    "text_heads",
    "text_layers",
    "text_vocab_size",
    "text_context_length",
    "resize_ratio",
]


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--official", type=Path, required=True, help="FoundationVision/UniTok checkout")
    p.add_argument("--commit", help="commit of the checkout when it is not a git folder")


def _narrow_vitamin_base() -> None:
    """Point timm's ``vitamin_base`` at the official function with a 2-block transformer."""
    from functools import partial

    from models import vitamin  # the official module (registers vitamin_* in timm)
    from timm.models import _registry

    _registry._model_entrypoints["vitamin_base"] = partial(vitamin.vitamin_base, depth=TINY_DEPTH)


def _official_model(fields: dict):  # noqa: ANN202 - an official object
    from models.unitok import UniTok
    from utils.config import Args

    args = Args(explicit_bool=True).parse_args([])
    for k, v in fields.items():
        setattr(args, k, v)
    return UniTok(args).eval(), {k: getattr(args, k) for k in ARGS_RECORDED}


def _run(model, variant: str, size: int, n: int, arrays: dict) -> dict:  # noqa: ANN001
    """Seeded weights into the official ``model``, its outputs on ``n`` photos into ``arrays``;
    returns the fixture's entry (checks of the clamped official paths, names and shapes)."""
    import torch

    shapes = common.load_seeded(model, SEED)
    images = common.photos(size)[:n]
    x = common.to_float(images, True)
    with torch.no_grad():
        features = model.quant_proj(model.encoder(x).float())
        tokens = model.img_to_idx(x)  # (B, num_codebooks, L)
        recon = model.idx_to_img(tokens)  # clamped
        raw = model.decoder(model.post_quant_proj(model.quantizer.idx_to_f(tokens)))
        direct = model.img_to_reconstructed_img(x)
    common.put_index_outputs(arrays, variant, images, (features, tokens, raw))
    return {
        "idx_to_img_vs_clamped_decoded_max_abs": float((recon - raw.clamp(-1, 1)).abs().max()),
        "img_to_reconstructed_img_vs_idx_to_img_max_abs": float((direct - recon).abs().max()),
        "num_tensors": len(shapes),
        "num_parameters": sum(math.prod(s) for s in shapes.values()),
        "state_dict": shapes,
    }


def record(a: argparse.Namespace) -> Path:
    sys.path.insert(0, str(a.official))
    arrays: dict = {}
    real, real_args = _official_model(REAL)
    models = {"real": {"args": real_args, **_run(real, "real", 256, 1, arrays)}}
    del real
    _narrow_vitamin_base()
    tiny, tiny_args = _official_model(TINY)
    entry = _run(tiny, "tiny", TINY["img_size"], 3, arrays)
    models["tiny"] = {"args": tiny_args, "vit_depth": TINY_DEPTH, **entry}
    meta = {
        "_about": (
            "Outputs of the official UniTok (models/unitok.py, eval mode) with "
            "evalkit.models.weights.seeded_state_dict(tiny state_dict shapes below, seed) on "
            "scikit-image photos (centre square, every k-th pixel), input 2x - 1: features = "
            "quant_proj(encoder(x)), tokens = img_to_idx(x) as (B, num_codebooks, L), decoded = "
            "decoder(post_quant_proj(quantizer.idx_to_f(tokens))), i.e. idx_to_img(tokens) "
            "before its clamp (the clamped outputs' differences are recorded in the model's "
            "entry). tiny: the official code with a 2-block ViTamin-B transformer at 64 px; "
            "real: the release's Args() (vitamin_large) at 256 px, first photo. Recorded on CPU by "
            "scripts/record_official_fixtures.py unitok."
        ),
        "model_id": "unitok",
        "source_repo": "https://github.com/FoundationVision/UniTok",
        "source_commit": a.commit or common.git_head(a.official),
        "command": "python scripts/record_official_fixtures.py unitok --official <checkout>",
        "versions": common.versions("torch", "timm", "numpy", "scikit-image"),
        "seed": SEED,
        "photos": "skimage.data astronaut, chelsea, coffee",
        "models": models,
    }
    return common.save_fixture("unitok_official", arrays, meta)
