"""One-D-Piece: tokens and reconstructions at several token budgets from the official code of
turingmotors/One-D-Piece (``modeling/one_d_piece.py``, ``OneDPiece``) with a seeded random
checkpoint (evalkit.models.weights.seeded_state_dict), plus the key names and shapes of the three
real models.

    python scripts/record_official_fixtures.py one_d_piece --official DIR [--commit SHA]

The parity model is the official S-256 config at 64 x 64 pixels (``crop_size: 64``: a 4 x 4 patch
grid; everything else, 256 tokens included, as released) so that the default suite runs it on CPU
in seconds; the real configs' key names and shapes are recorded in full. The official code imports
einops, omegaconf and huggingface_hub; put them on PYTHONPATH in a throwaway folder.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

from official_fixtures.common import FIXTURES, dump_compact, git_head, versions

CONFIGS = {
    "one-d-piece-l256": "one-d-piece_l256",
    "one-d-piece-b256": "one-d-piece_b256",
    "one-d-piece-s256": "one-d-piece_s256",
}
PARITY_MODEL = "one-d-piece-s256"
PARITY_SIZE = 64
BUDGETS = (1, 16, 64, 256)
SEED = 0
PHOTOS = ("astronaut", "coffee")


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--official", type=Path, required=True, help="turingmotors/One-D-Piece folder")
    p.add_argument("--commit", help="commit of the checkout when it is not a git folder")


def photos(size: int) -> np.ndarray:
    """skimage's photos, shorter side resized to ``size`` (PIL bicubic) and centre-cropped."""
    from PIL import Image
    from skimage import data

    out = []
    for name in PHOTOS:
        img = Image.fromarray(getattr(data, name)())
        w, h = img.size
        s = size / min(w, h)
        img = img.resize((max(size, round(w * s)), max(size, round(h * s))), Image.BICUBIC)
        left, top = (img.size[0] - size) // 2, (img.size[1] - size) // 2
        out.append(np.asarray(img.crop((left, top, left + size, top + size)).convert("RGB")))
    return np.stack(out)


def _official(official: Path, name: str, crop: int | None = None):  # noqa: ANN202
    from omegaconf import OmegaConf

    cfg = OmegaConf.load(official / "configs" / f"{name}.yaml")
    cfg.model.vq_model.finetune_decoder = True  # as scripts/inference_tokenizer.py sets them
    cfg.model.vq_model.strict_length_assertion = False
    if crop is not None:
        cfg.dataset.preprocessing.crop_size = crop
    from modeling.one_d_piece import OneDPiece  # the official class

    return OneDPiece(cfg)


def record(a: argparse.Namespace) -> Path:
    import torch

    from evalkit.judges.mask2former_random import state_dict_sha256
    from evalkit.models.weights import seeded_state_dict

    sys.path.insert(0, str(a.official))
    commit = a.commit or git_head(a.official)
    torch.manual_seed(0)
    real = {}
    for model_id, name in CONFIGS.items():
        sd = _official(a.official, name).state_dict()
        real[model_id] = {
            "official_config": f"configs/{name}.yaml",
            "num_tensors": len(sd),
            "state_dict": {k: list(t.shape) for k, t in sd.items()},
        }
        del sd
    net = _official(a.official, CONFIGS[PARITY_MODEL], PARITY_SIZE)
    shapes = {k: list(t.shape) for k, t in net.state_dict().items()}
    state = seeded_state_dict(shapes, SEED)
    net.load_state_dict(state, strict=True)
    net.eval()
    images = photos(PARITY_SIZE)
    x = torch.from_numpy(images).permute(0, 3, 1, 2).float() / 255.0
    arrays: dict[str, np.ndarray] = {"images": images}
    with torch.no_grad():
        _, result = net.encode(x)
        tokens = result["min_encoding_indices"]  # (B, 1, 256)
        arrays["tokens"] = tokens.reshape(len(images), -1).numpy().astype(np.int64)
        for n in BUDGETS:
            rec = net.decode_tokens(tokens, length=n)  # unclamped: every pixel compared
            arrays[f"recon_{n}"] = rec.numpy().astype(np.float32)
    npz = FIXTURES / "one_d_piece_official.npz"
    np.savez_compressed(npz, **arrays)
    doc = {
        "_about": (
            "One-D-Piece parity fixture, recorded by scripts/record_official_fixtures.py "
            "one_d_piece: the official OneDPiece (modeling/one_d_piece.py) of "
            f"turingmotors/One-D-Piece built from configs/{CONFIGS[PARITY_MODEL]}.yaml with "
            f"crop_size {PARITY_SIZE}, finetune_decoder True, strict_length_assertion False, "
            f"loaded (strict) with evalkit.models.weights.seeded_state_dict(shapes, {SEED}); "
            f"inputs: skimage.data {', '.join(PHOTOS)} resized (shorter side, PIL "
            f"bicubic) and centre-cropped to {PARITY_SIZE}, uint8 -> float / 255 (npz 'images'); "
            "tokens = encode()'s min_encoding_indices (all 256), recon_N = "
            "decode_tokens(tokens, length=N), unclamped (the official tail-token path). "
            "real_models: the key names and shapes of the three released configs. Not written "
            "by hand."
        ),
        "source_repo": "https://github.com/turingmotors/One-D-Piece",
        "source_commit": commit,
        "command": "python scripts/record_official_fixtures.py one_d_piece --official <checkout>",
        "versions": versions("torch", "einops", "omegaconf", "huggingface_hub", "numpy"),
        "parity_model": PARITY_MODEL,
        "parity_image_size": PARITY_SIZE,
        "seed": SEED,
        "state_dict_sha256": state_dict_sha256(state),
        "budgets": list(BUDGETS),
        "npz": npz.name,
        "parity_state_dict": shapes,
        "real_models": real,
    }
    path = FIXTURES / "one_d_piece_official.json"
    path.write_text(dump_compact(doc))
    print(json.dumps({"tokens_unique": int(len(np.unique(arrays["tokens"])))}), file=sys.stderr)
    return path
