"""VA-VAE: outputs of the official hustvl/LightningDiT ``tokenizer/autoencoder.py`` with seeded
random weights, and the names and shapes of the released f16d32 configuration.

    python scripts/record_official_fixtures.py vavae --official DIR

The official ``AutoencoderKL(embed_dim=32, ch_mult=(1, 1, 2, 2, 4))`` (the released VA-VAE) is
built on the meta device for its tensor names and shapes. A tiny one of the same class has its
encoder / decoder rebuilt with the official ``Encoder`` / ``Decoder`` at 32 channels and
resolution 32 (so attention at 16 is placed), seeded random weights, and runs on two real photos:
posterior mean and std (``encode``), decoded images of the mean (``decode``). Its state dict is
saved as a training-style checkpoint ``{"state_dict": ..., "loss.*": extra}`` (the released file
holds loss tensors too) for our loader.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from official_fixtures.common import FIXTURES, dump_compact, git_head, randomize_, versions
from official_fixtures.common import photos as common_photos

TINY = {
    "ch": 32,
    "ch_mult": [1, 2],
    "num_res_blocks": 1,
    "attn_resolutions": [16],
    "resolution": 32,
    "embed_dim": 8,
}
PHOTO = 64


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--official", type=Path, required=True, help="hustvl/LightningDiT checkout")
    p.add_argument("--commit", help="commit of the checkout when it is not a git folder")
    p.add_argument("--seed", type=int, default=0)


def record(a: argparse.Namespace) -> Path:
    return record_vavae(a.official, a.commit or git_head(a.official), a.seed)


def record_vavae(official: Path, commit: str, seed: int) -> Path:
    import numpy as np
    import torch

    sys.path.insert(0, str(official))
    from tokenizer.autoencoder import AutoencoderKL, Decoder, Encoder

    with torch.device("meta"):
        big = AutoencoderKL(embed_dim=32, ch_mult=(1, 1, 2, 2, 4))
    released = {k: list(v.shape) for k, v in big.state_dict().items()}

    torch.manual_seed(seed)
    tiny = AutoencoderKL(embed_dim=TINY["embed_dim"], ch_mult=tuple(TINY["ch_mult"]))
    common = dict(
        ch=TINY["ch"],
        ch_mult=tuple(TINY["ch_mult"]),
        num_res_blocks=TINY["num_res_blocks"],
        attn_resolutions=tuple(TINY["attn_resolutions"]),
        resolution=TINY["resolution"],
        z_channels=TINY["embed_dim"],
    )
    tiny.encoder, tiny.decoder = Encoder(**common), Decoder(**common)
    tiny.eval()
    randomize_(tiny, seed)
    photos = common_photos(PHOTO, ("astronaut", "coffee"))
    x = torch.from_numpy(photos).permute(0, 3, 1, 2).float() / 127.5 - 1.0
    with torch.no_grad():
        post = tiny.encode(x)
        decoded = tiny.decode(post.mode())
    n_attn = sum("attn" in k for k in tiny.state_dict())
    sd = dict(tiny.state_dict())
    folder = FIXTURES / "vavae_tiny"
    folder.mkdir(exist_ok=True)
    extra = {"loss.logvar": torch.zeros(()), "loss.discriminator.main.0.weight": torch.ones(2, 3)}
    torch.save({"state_dict": {**sd, **extra}, "global_step": 0}, folder / "vavae-tiny.pt")
    np.savez_compressed(
        FIXTURES / "vavae_official.npz",
        photos_uint8=photos,
        mean=post.mean.numpy(),
        std=post.std.numpy(),
        decoded=decoded.numpy(),
    )
    doc = {
        "_about": "Official LightningDiT tokenizer/autoencoder.py outputs with seeded random "
        "weights (scripts/official_fixtures/vavae.py): tiny config (attention placed) on "
        "photos_uint8 -> mean / std (encode), decoded (decode of the mean, [-1, 1]) in "
        "vavae_official.npz; its checkpoint in vavae_tiny/. 'released': tensor names and shapes "
        "of AutoencoderKL(embed_dim=32, ch_mult=(1, 1, 2, 2, 4)).",
        "source_repo": "https://github.com/hustvl/LightningDiT",
        "source_commit": commit,
        "command": "python scripts/record_official_fixtures.py vavae --official <checkout>",
        "versions": versions("torch", "numpy", "scikit-image"),
        "seed": seed,
        "tiny": TINY,
        "tiny_attention_tensors": n_attn,
        "released": released,
    }
    out = FIXTURES / "vavae_official.json"
    out.write_text(dump_compact(doc))
    return out
