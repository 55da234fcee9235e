"""MAETok: latents and reconstructions from the official code of Hhhhhhao/continuous_tokenizer
(``modelling/tokenizer.py`` ``AEModel``, as demo/maetok.ipynb loads MAETok/maetok-b-128) with a
seeded random checkpoint (evalkit.models.weights.seeded_state_dict), plus the key names and shapes
of the b-128 network.

    python scripts/record_official_fixtures.py maetok --official DIR [--commit SHA]

The b-128 settings are the repository's MAETok training config as published in its later
``configs/maetok-b-64.yaml`` (128 latent tokens, 32 dims, ViT-B encoder, ``*_movqv2`` decoder, mixed
RoPE, no decoder class token, encoder token drop 0.4); the Hub's config.json could not be read here.
The parity model is that network at 64 x 64 pixels with 2 blocks per side (timm's ``depth``, passed
through the official ``create_model`` call) so the default suite runs it on CPU. The official code
needs timm==1.0.12 (requirements.txt) and einops; it imports peft at module level without using it
for ``tuning_method: full``: put an empty ``peft`` package first on PYTHONPATH.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

from official_fixtures.common import FIXTURES, dump_compact, git_head, photos, versions

B128 = {
    "image_size": 256,
    "num_latent_tokens": 128,
    "codebook_embed_dim": 32,
    "enc_type": "vit",
    "encoder_model": "vit_base_patch14_dinov2.lvd142m",
    "enc_pretrained": False,
    "enc_patch_size": 16,
    "enc_tuning_method": "full",
    "dec_type": "vit",
    "decoder_model": "vit_base_patch14_dinov2_movqv2",
    "dec_pretrained": False,
    "dec_patch_size": 16,
    "dec_tuning_method": "full",
    "dec_cls_token": False,
    "use_ape": False,
    "use_rope": True,
    "rope_mixed": True,
    "rope_theta": 10.0,
    "enc_token_drop": 0.4,
    "enc_token_drop_max": 0.6,
    "repa": False,  # training-only (a frozen DINOv2 and a projector); not in inference
}
PARITY_SIZE = 64
PARITY_DEPTH = 2
SEED = 0
BUFFERS = ("encoder.freqs_t_x", "encoder.freqs_t_y", "decoder.freqs_t_x", "decoder.freqs_t_y")


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--official", type=Path, required=True, help="continuous_tokenizer folder")
    p.add_argument("--commit", help="commit of the checkout when it is not a git folder")


def _official(size: int, depth: int | None = None):  # noqa: ANN202
    from modelling import tokenizer
    from modelling.modules.timm_vit import timm_vit_models

    if depth is not None:  # the official create_model call, with timm's depth argument added
        create = timm_vit_models.create_model
        timm_vit_models.create_model = lambda name, **kw: create(name, depth=depth, **kw)
    try:
        return tokenizer.AEModel(tokenizer.ModelArgs(**dict(B128, image_size=size)))
    finally:
        if depth is not None:
            timm_vit_models.create_model = create


def record(a: argparse.Namespace) -> Path:
    import torch

    from evalkit.judges.mask2former_random import state_dict_sha256
    from evalkit.models.weights import seeded_state_dict

    sys.path.insert(0, str(a.official))
    commit = a.commit or git_head(a.official)
    real = {k: list(t.shape) for k, t in _official(256).state_dict().items()}
    net = _official(PARITY_SIZE, PARITY_DEPTH).eval()
    full = net.state_dict()
    shapes = {k: list(t.shape) for k, t in full.items() if k not in BUFFERS}
    state = seeded_state_dict(shapes, SEED)
    sha = state_dict_sha256(state)
    state.update({k: full[k] for k in BUFFERS})  # patch positions, as the official code sets them
    net.load_state_dict(state, strict=True)
    images = photos(PARITY_SIZE)
    x = torch.from_numpy(images).permute(0, 3, 1, 2).float() / 127.5 - 1.0
    with torch.no_grad():
        latents, _, _ = net.encode(x)
        recon = net.decode(latents, x=x, h=PARITY_SIZE, w=PARITY_SIZE)
        forward, _, _ = net(x)
    assert torch.equal(forward, recon)
    npz = FIXTURES / "maetok_official.npz"
    np.savez_compressed(
        npz, images=images, latents=latents.numpy(), recon=recon.numpy().astype(np.float32)
    )
    doc = {
        "_about": (
            "MAETok parity fixture, recorded by scripts/record_official_fixtures.py maetok: the "
            "official AEModel (modelling/tokenizer.py) of Hhhhhhao/continuous_tokenizer built "
            f"with ModelArgs(**b128) at image_size {PARITY_SIZE} and timm depth {PARITY_DEPTH}, "
            f"loaded (strict) with evalkit.models.weights.seeded_state_dict(shapes, {SEED}) "
            "(the RoPE position buffers freqs_t_* kept as the official code sets them); inputs: "
            "common.photos, uint8 / 127.5 - 1 (npz 'images'); latents = encode()[0], recon = "
            "decode(latents, h, w) (= forward()[0]), unclamped. real_model: key names and shapes "
            "of the b-128 network at 256. Not written by hand."
        ),
        "source_repo": "https://github.com/Hhhhhhao/continuous_tokenizer",
        "source_commit": commit,
        "command": "python scripts/record_official_fixtures.py maetok --official <checkout>",
        "versions": versions("torch", "timm", "einops", "numpy"),
        "b128": B128,
        "parity_image_size": PARITY_SIZE,
        "parity_depth": PARITY_DEPTH,
        "seed": SEED,
        "state_dict_sha256": sha,
        "npz": npz.name,
        "parity_state_dict": shapes,
        "real_model": {"num_tensors": len(real), "state_dict": real},
    }
    path = FIXTURES / "maetok_official.json"
    path.write_text(dump_compact(doc))
    return path
