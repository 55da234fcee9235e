"""MaskGIT-VQGAN (maskgit-vqgan): tokens, features and reconstructions of three scikit-image
photos (64 x 64) computed by bytedance/1d-tokenizer's ``PretrainedTokenizer`` (its PyTorch port of
MaskGIT's VQGAN) with evalkit's seeded random weights: the real network (loaded by the official
constructor from a saved state dict, strictly) and a narrow one of the same architecture built
from the official ``Encoder``/``Decoder``/``VectorQuantizer`` classes with a smaller config.

    python scripts/record_official_fixtures.py maskgit_vqgan --official DIR

The official code imports einops, omegaconf, accelerate and huggingface_hub. Run with evalkit
importable (for the seeded weights).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

from official_fixtures import common

MODEL_ID = "maskgit-vqgan"
SEED = 0
SIZE = 64
# evalkit.models.vqgan.tiny_config("maskgit-vqgan") in the official config's terms
TINY = {"hidden_channels": 32, "z_channels": 32, "num_embeddings": 128}


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--official", type=Path, required=True, help="bytedance/1d-tokenizer checkout")
    p.add_argument("--commit", help="commit of the checkout when it is not a git folder")


def _assembled(cls: type, hidden: int, z: int, codes: int) -> object:
    """The official tokenizer class around official modules built from the given config
    (``PretrainedTokenizer`` itself hard-codes hidden 128, z 256, 1024 codes)."""
    from modeling.modules.maskgit_vqgan import Decoder, Encoder, VectorQuantizer
    from omegaconf import OmegaConf
    from torch import nn

    conf = OmegaConf.create(
        {
            "channel_mult": [1, 1, 2, 2, 4],
            "num_resolutions": 5,
            "dropout": 0.0,
            "hidden_channels": hidden,
            "num_channels": 3,
            "num_res_blocks": 2,
            "resolution": 256,
            "z_channels": z,
        }
    )
    tok = cls.__new__(cls)
    nn.Module.__init__(tok)
    tok.encoder, tok.decoder = Encoder(conf), Decoder(conf)
    tok.quantize = VectorQuantizer(codes, z, 0.25)
    return tok.eval()


def record(a: argparse.Namespace) -> Path:
    import torch

    sys.path.insert(0, str(a.official))
    from modeling.titok import PretrainedTokenizer  # the official class

    from evalkit.models.weights import seeded_state_dict

    images = common.photos(SIZE)
    x = common.to_float(
        images, signed=False
    )  # MaskGIT-VQ expects [0, 1] (official pretokenization)
    arrays, models = {"images": images}, {}
    with tempfile.TemporaryDirectory() as tmp:
        # the real network: its names and shapes, then the official constructor loads the seeded
        # weights from a file, strictly (as it loads maskgit-vqgan-imagenet-f16-256.bin)
        names = _assembled(PretrainedTokenizer, 128, 256, 1024).state_dict()
        real_shapes = {k: list(t.shape) for k, t in names.items()}
        path = Path(tmp) / "maskgit-vqgan.bin"
        torch.save(seeded_state_dict(real_shapes, SEED), path)
        real = PretrainedTokenizer(str(path))
        tiny = _assembled(PretrainedTokenizer, *TINY.values())
        tiny_shapes = common.load_seeded(tiny, SEED)
        for variant, tok, shapes in (("real", real, real_shapes), ("tiny", tiny, tiny_shapes)):
            with torch.no_grad():
                z = tok.encoder(x)
                flat = tok.encode(x)  # (B, h * w)
                recon = tok.decoder(tok.quantize.get_codebook_entry(flat))
            arrays.update(common.vq_arrays(variant, variant == "tiny", flat, z, recon))
            models[variant] = {"num_tensors": len(shapes), "state_dict": shapes}
    models["tiny"]["config"] = TINY
    meta = {
        "_about": (
            "Outputs of 1d-tokenizer's MaskGIT-VQGAN (PretrainedTokenizer; the narrow variant: "
            "the same class around official modules with hidden_channels 32, z_channels 32, "
            "128 codes) with evalkit.models.weights.seeded_state_dict(state_dict shapes below, "
            "seed) on scikit-image photos (centre square, every k-th pixel, 64 x 64) in [0, 1]: "
            "features = encoder(x), tokens = encode(x), reconstruction = "
            "decoder(get_codebook_entry(tokens)) (unclamped, real: first photo only; the official "
            "decode clamps it to "
            "[0, 1]). Recorded on CPU by scripts/record_official_fixtures.py maskgit_vqgan."
        ),
        "model_id": MODEL_ID,
        "source_repo": "https://github.com/bytedance/1d-tokenizer",
        "source_commit": a.commit or common.git_head(a.official),
        "command": "python scripts/record_official_fixtures.py maskgit_vqgan --official <checkout>",
        "versions": common.versions("torch", "numpy", "scikit-image", "omegaconf", "einops"),
        "seed": SEED,
        "photos": "skimage.data astronaut, chelsea, coffee",
        "models": models,
    }
    return common.save_fixture("maskgit_vqgan_official", arrays, meta)
