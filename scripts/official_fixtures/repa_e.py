"""REPA-E's VAE: the official End2End-Diffusion/REPA-E ``models/autoencoder.py`` against diffusers'
AutoencoderKL (the format of the authors' ``-hf`` / ``e2e-flux-vae`` releases).

    python scripts/record_official_fixtures.py repa_e --official DIR

A tiny official ``AutoencoderKL`` of the f8d4 (SD-VAE) layout, its encoder / decoder rebuilt
with the official ``Encoder`` / ``Decoder`` at 32 channels, gets seeded random weights and runs
on two real photos: posterior mean (``encode``) and decoded images of the mean (``decode``).
Its state dict is converted by diffusers' own LDM -> diffusers converter
(``convert_ldm_vae_checkpoint``) into ``tests/fixtures/repa_e_tiny/`` (config.json +
safetensors) for our loader. The official module imports ``dictdot`` only to wrap decode's
output in a dict with attribute access; a stand-in with that behaviour is installed.
"""

from __future__ import annotations

import argparse
import sys
import types
from pathlib import Path

from official_fixtures.common import FIXTURES, dump_compact, git_head, randomize_, versions
from official_fixtures.common import photos as common_photos

TINY = {"ch": 32, "ch_mult": [1, 2], "num_res_blocks": 1, "resolution": 32, "embed_dim": 4}
PHOTO = 64


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--official", type=Path, required=True, help="End2End-Diffusion/REPA-E checkout")
    p.add_argument("--commit", help="commit of the checkout when it is not a git folder")
    p.add_argument("--seed", type=int, default=0)


def record(a: argparse.Namespace) -> Path:
    return record_repa_e(a.official, a.commit or git_head(a.official), a.seed)


class _AttrDict(dict):
    __getattr__ = dict.__getitem__


def record_repa_e(official: Path, commit: str, seed: int) -> Path:
    import numpy as np
    import torch
    from diffusers import AutoencoderKL as DiffusersKL
    from diffusers.loaders.single_file_utils import convert_ldm_vae_checkpoint

    stand_in = types.ModuleType("dictdot")
    stand_in.dictdot = _AttrDict
    sys.modules.setdefault("dictdot", stand_in)
    sys.path.insert(0, str(official))
    from models.autoencoder import AutoencoderKL, Decoder, Encoder

    torch.manual_seed(seed)
    tiny = AutoencoderKL(embed_dim=TINY["embed_dim"], ch_mult=TINY["ch_mult"])
    common = dict(
        ch=TINY["ch"],
        ch_mult=tuple(TINY["ch_mult"]),
        num_res_blocks=TINY["num_res_blocks"],
        resolution=TINY["resolution"],
        z_channels=TINY["embed_dim"],
        attn_resolutions=(),  # as the real f8d4 (256 px, 4 levels): attention in the middle only
    )
    tiny.encoder, tiny.decoder = Encoder(**common), Decoder(**common)
    tiny.eval()
    randomize_(tiny, seed)
    photos = common_photos(PHOTO, ("astronaut", "coffee"))
    x = torch.from_numpy(photos).permute(0, 3, 1, 2).float() / 127.5 - 1.0
    with torch.no_grad():
        mean = tiny.encode(x).mode()
        decoded = tiny.decode(mean).sample
    config = dict(
        in_channels=3,
        out_channels=3,
        down_block_types=["DownEncoderBlock2D"] * len(TINY["ch_mult"]),
        up_block_types=["UpDecoderBlock2D"] * len(TINY["ch_mult"]),
        block_out_channels=[TINY["ch"] * m for m in TINY["ch_mult"]],
        layers_per_block=TINY["num_res_blocks"],
        latent_channels=TINY["embed_dim"],
        norm_num_groups=32,
        sample_size=TINY["resolution"],
    )
    ours = DiffusersKL(**config)
    converted = convert_ldm_vae_checkpoint(dict(tiny.state_dict()), config)
    ours.load_state_dict(converted, strict=True)
    ours.save_pretrained(FIXTURES / "repa_e_tiny", safe_serialization=True)
    np.savez_compressed(
        FIXTURES / "repa_e_official.npz",
        photos_uint8=photos,
        mean=mean.numpy(),
        decoded=decoded.numpy(),
    )
    doc = {
        "_about": "Official REPA-E models/autoencoder.py (f8d4 layout, tiny, seeded) on "
        "photos_uint8: mean (encode().mode()) and decoded (decode(mean).sample, [-1, 1]) in "
        "repa_e_official.npz; the same weights through diffusers' convert_ldm_vae_checkpoint "
        "in repa_e_tiny/ (see scripts/official_fixtures/repa_e.py).",
        "source_repo": "https://github.com/End2End-Diffusion/REPA-E",
        "source_commit": commit,
        "command": "python scripts/record_official_fixtures.py repa_e --official <checkout>",
        "versions": versions("torch", "diffusers", "numpy", "scikit-image"),
        "seed": seed,
        "tiny": TINY,
    }
    out = FIXTURES / "repa_e_official.json"
    out.write_text(dump_compact(doc))
    return out
