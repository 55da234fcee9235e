"""Record test fixtures from the official implementations (run by hand; never imported by evalkit).

The official code is NOT part of this repository: check it out somewhere else and pass its folder.

    titok: key names and shapes of every TiTok variant, built by the official ``TiTok(config)``
        of bytedance/1d-tokenizer (random weights, CPU) from its ``configs/infer/TiTok/*.yaml``:
        python scripts/record_official_fixtures.py titok --official DIR
    taesd: TAEF2 latents and reconstruction of skimage's astronaut (128 x 128) computed by the
        official madebyollin/taesd ``taesd.py`` with the real taef2 weights:
        python scripts/record_official_fixtures.py taesd --official DIR --weights DIR

The official TiTok code imports einops, omegaconf, accelerate and huggingface_hub; install them in
a throwaway environment (or put them on PYTHONPATH), not in evalkit's dependencies.
"""

from __future__ import annotations

import argparse
import json
import platform
import subprocess
import sys
from importlib.metadata import version
from pathlib import Path

FIXTURES = Path(__file__).resolve().parents[1] / "tests" / "fixtures"
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


def _git_head(folder: Path) -> str:
    """The commit of a git checkout, or what the user passed with --commit."""
    try:
        out = subprocess.run(
            ["git", "-C", str(folder), "rev-parse", "HEAD"],
            check=True,
            capture_output=True,
            text=True,
        )
        return out.stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def _versions(*names: str) -> dict[str, str]:
    out = {"python": platform.python_version()}
    for n in names:
        try:
            out[n] = version(n)
        except Exception:  # noqa: BLE001 - a missing package is recorded as such
            out[n] = "not installed"
    return out


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
        "versions": _versions("torch", "einops", "omegaconf", "accelerate", "huggingface_hub"),
        "models": models,
    }
    path = FIXTURES / "titok_official_state_dicts.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(_dump_compact(doc))
    return path


def _dump_compact(doc: dict) -> str:
    """JSON with one line per state-dict key (``"name": [shape]``), for readable diffs."""
    text = json.dumps(doc, indent=1)
    out, buf = [], None
    for line in text.splitlines():  # fold the shape lists json.dumps spreads over many lines
        stripped = line.strip()
        if buf is not None:
            buf.append(stripped)
            if stripped.startswith("]"):
                out.append(
                    buf[0] + " ".join(buf[1:-1]).replace(",", ", ").replace(",  ", ", ") + buf[-1]
                )
                buf = None
            continue
        if stripped.endswith("[") and stripped.startswith('"'):
            buf = [line]
            continue
        out.append(line)
    folded = "\n".join(out) + "\n"
    assert json.loads(folded) == json.loads(text)
    return folded


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
        "versions": _versions("torch", "numpy", "scikit-image"),
        "device": "cpu",
        "shapes": {"latents": list(latents.shape[1:]), "reconstruction": list(recon.shape[1:])},
    }
    (FIXTURES / "taef2_astronaut128.json").write_text(json.dumps(meta, indent=1) + "\n")
    return out


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("what", choices=["titok", "taesd"])
    p.add_argument("--official", type=Path, required=True, help="official code checkout")
    p.add_argument("--weights", type=Path, help="folder with taef2_{encoder,decoder}.pth")
    p.add_argument("--commit", help="commit of the checkout when it is not a git folder")
    a = p.parse_args()
    commit = a.commit or _git_head(a.official)
    if a.what == "titok":
        print(record_titok(a.official, commit))
    else:
        if a.weights is None:
            p.error("taesd needs --weights")
        print(record_taesd(a.official, a.weights, commit))


if __name__ == "__main__":
    main()
