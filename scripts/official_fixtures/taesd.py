"""TAESD: TAEF2 latents and reconstruction of skimage's astronaut (128 x 128) computed by the
official madebyollin/taesd ``taesd.py`` with the real taef2 weights.

    python scripts/record_official_fixtures.py taesd --official DIR --weights DIR
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from official_fixtures.common import FIXTURES, git_head, versions


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--official", type=Path, required=True, help="madebyollin/taesd checkout")
    p.add_argument("--weights", type=Path, required=True, help="folder with taef2_*.pth")
    p.add_argument("--commit", help="commit of the checkout when it is not a git folder")


def record(a: argparse.Namespace) -> Path:
    return record_taesd(a.official, a.weights, a.commit or git_head(a.official))


def record_taesd(official: Path, weights: Path, commit: str) -> Path:
    import hashlib

    import numpy as np
    import torch
    from skimage import data

    sys.path.insert(0, str(official))
    from taesd import TAESD  # the official class

    enc, dec = weights / "taef2_encoder.pth", weights / "taef2_decoder.pth"
    model = TAESD(encoder_path=str(enc), decoder_path=str(dec)).eval()
    photo = data.astronaut()[::4, ::4]  # uint8 RGB 512 x 512 -> every 4th pixel: 128 x 128
    x = torch.from_numpy(np.ascontiguousarray(photo)).permute(2, 0, 1)[None].float() / 255.0
    with torch.no_grad():
        latents = model.encoder(x)
        recon = model.decoder(latents).clamp(0, 1)
    out = FIXTURES / "taef2_astronaut128.npz"
    out.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(
        out,
        latents=latents[0].numpy().astype(np.float32),
        reconstruction=recon[0].numpy().astype(np.float32),
    )
    meta = {
        "_about": (
            "Golden outputs of the official madebyollin/taesd taesd.py (TAESD class, taef2 "
            "weights) on skimage.data.astronaut()[::4, ::4] / 255 (the whole photo, every 4th "
            "pixel: 128 x 128, no resampling library involved; float32 NCHW in [0, 1]): "
            "latents = encoder(x), reconstruction = decoder(latents).clamp(0, 1), both float32, "
            "batch dimension dropped. 128 px keeps the fixture small at full float32 precision. "
            "Recorded on CPU by scripts/record_official_fixtures.py."
        ),
        "source_repo": "https://github.com/madebyollin/taesd",
        "source_commit": commit,
        "command": (
            "python scripts/record_official_fixtures.py taesd --official <checkout> "
            "--weights <store>/weights/taef2"
        ),
        "weights_sha256": {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in (enc, dec)},
        "input": "skimage.data.astronaut()[::4, ::4], uint8 -> float32 / 255",
        "versions": versions("torch", "numpy", "scikit-image"),
        "device": "cpu",
        "shapes": {"latents": list(latents.shape[1:]), "reconstruction": list(recon.shape[1:])},
    }
    (FIXTURES / "taef2_astronaut128.json").write_text(json.dumps(meta, indent=1) + "\n")
    return out
