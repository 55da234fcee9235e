"""TiTok: key names and shapes of every variant, built by the official ``TiTok(config)`` of
bytedance/1d-tokenizer (random weights, CPU) from its ``configs/infer/TiTok/*.yaml``.

    python scripts/record_official_fixtures.py titok --official DIR

The official code imports einops, omegaconf, accelerate and huggingface_hub; install them in a
throwaway environment (or put them on PYTHONPATH), not in evalkit's dependencies.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from official_fixtures.common import FIXTURES, dump_compact, git_head, versions

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


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--official", type=Path, required=True, help="bytedance/1d-tokenizer checkout")
    p.add_argument("--commit", help="commit of the checkout when it is not a git folder")


def record(a: argparse.Namespace) -> Path:
    return record_titok(a.official, a.commit or git_head(a.official))


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
        "versions": versions("torch", "einops", "omegaconf", "accelerate", "huggingface_hub"),
        "models": models,
    }
    path = FIXTURES / "titok_official_state_dicts.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(dump_compact(doc))
    return path
