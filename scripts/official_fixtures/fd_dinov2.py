"""FD-DINOv2: dgm-eval's DINOv2 feature pipeline (and EDM2's fd_dinov2 detector) on seeded random
DINOv2 ViT-L/14 weights, on scikit-image photos; dgm-eval's Fréchet distance on fixed features.

    python scripts/record_official_fixtures.py fd_dinov2 --dgm-eval DIR --dinov2 DIR --edm2 DIR

Runs, unmodified and outside this repository: dgm-eval's ``DINOv2Encoder.transform``, its
``DataLoader`` over a folder of the photos (PNG) and ``get_representations``, with the network of
facebookresearch/dinov2 (``dinov2_vitl14`` from ``dinov2.hub.backbones``, or, for the reduced
depth, ``DinoVisionTransformer`` with vit_large's arguments and fewer blocks) in place of
``torch.hub.load``; EDM2's ``DINOv2Detector`` in both resize modes; dgm-eval's
``compute_FD_with_stats`` on seeded Gaussian features. Weights: evalkit.fid.random_weights.
"""

from __future__ import annotations

import argparse
import importlib.util
import sys
import tempfile
import types
from pathlib import Path

from official_fixtures.common import FIXTURES, git_head, versions

PHOTOS = ("astronaut", "chelsea", "coffee", "rocket")
OUT = FIXTURES / "fd_dinov2_official.npz"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--dgm-eval", type=Path, required=True, help="layer6ai-labs/dgm-eval checkout")
    p.add_argument("--dinov2", type=Path, required=True, help="facebookresearch/dinov2 checkout")
    p.add_argument("--edm2", type=Path, required=True, help="NVlabs/edm2 checkout")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--depths", type=int, nargs="+", default=[2, 24])


def photos() -> list:
    """The uint8 RGB photos every DINOv2 / CLIP fixture uses (scikit-image's, various sizes)."""
    from skimage import data

    return [getattr(data, name)() for name in PHOTOS]


def _load_by_path(name: str, path: Path) -> types.ModuleType:
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def _dgm_eval(root: Path) -> tuple[types.ModuleType, types.ModuleType, types.ModuleType]:
    """dgm-eval's dinov2, dataloaders and representations modules, without models/__init__
    (which imports every other encoder's dependencies)."""
    pkg = types.ModuleType("dgm_eval")
    pkg.__path__ = [str(root / "dgm_eval")]
    models = types.ModuleType("dgm_eval.models")
    models.__path__ = [str(root / "dgm_eval" / "models")]
    sys.modules.update({"dgm_eval": pkg, "dgm_eval.models": models})
    _load_by_path("dgm_eval.models.encoder", root / "dgm_eval/models/encoder.py")
    _load_by_path("dgm_eval.resizer", root / "dgm_eval/resizer.py")
    dinov2 = _load_by_path("dgm_eval.models.dinov2", root / "dgm_eval/models/dinov2.py")
    loaders = _load_by_path("dgm_eval.dataloaders", root / "dgm_eval/dataloaders.py")
    reps = _load_by_path("dgm_eval.representations", root / "dgm_eval/representations.py")
    return dinov2, loaders, reps


def official_model(dinov2_root: Path, depth: int, state: dict) -> object:
    """The official network: ``dinov2_vitl14(pretrained=False)`` (depth 24) or vit_large's
    constructor arguments with ``depth`` blocks; loaded with ``state`` (strict)."""
    sys.path.insert(0, str(dinov2_root))
    from functools import partial

    from dinov2.hub.backbones import dinov2_vitl14
    from dinov2.layers import MemEffAttention
    from dinov2.layers import NestedTensorBlock as Block
    from dinov2.models.vision_transformer import DinoVisionTransformer

    if depth == 24:
        model = dinov2_vitl14(pretrained=False)
    else:  # vit_large() with the hub's defaults (backbones._make_dinov2_model), fewer blocks
        model = DinoVisionTransformer(
            img_size=518,
            patch_size=14,
            embed_dim=1024,
            depth=depth,
            num_heads=16,
            mlp_ratio=4,
            block_fn=partial(Block, attn_class=MemEffAttention),
            num_register_tokens=0,
            init_values=1.0,
            ffn_layer="mlp",
            block_chunks=0,
            interpolate_antialias=False,
            interpolate_offset=0.1,
        )
    model.load_state_dict(state, strict=True)
    return model.eval()


def record(a: argparse.Namespace) -> Path:
    import json

    import numpy as np
    import torch
    from PIL import Image

    from evalkit.fid.random_weights import dinov2_state

    dinov2_mod, loaders, reps = _dgm_eval(a.dgm_eval)
    sys.path.insert(0, str(a.edm2))
    import calculate_metrics as edm2  # EDM2's calculate_metrics.py (DINOv2Detector)

    arrays: dict[str, np.ndarray] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for i, photo in enumerate(photos()):
            Image.fromarray(photo).save(Path(tmp) / f"{i}.png")
        for depth in a.depths:
            state = dinov2_state(a.seed, depth)
            model = official_model(a.dinov2, depth, state)
            torch.hub.load = lambda *_a, _m=model, **_k: _m  # what DINOv2Encoder.setup calls
            encoder = dinov2_mod.DINOv2Encoder(arch="vitl14", clean_resize=False)
            loader = loaders.DataLoader(
                tmp, transform=encoder.transform, batch_size=2, num_workers=0
            )
            got = reps.get_representations(encoder, loader, "cpu", normalized=False)
            arrays[f"dgm_eval_depth{depth}"] = got.astype(np.float32)
            for mode in ("pil", "torch"):
                det = edm2.DINOv2Detector(resize_mode=mode)
                feats = [
                    det(torch.from_numpy(p).permute(2, 0, 1)[None]).double().numpy()[0]
                    for p in photos()
                ]
                arrays[f"edm2_{mode}_depth{depth}"] = np.stack(feats).astype(np.float32)
    fd_module = _load_by_path("dgm_eval.metrics.fd", a.dgm_eval / "dgm_eval/metrics/fd.py")
    rng = np.random.default_rng(a.seed)
    fa = rng.standard_normal((1500, 1024)) * 0.5 + 0.1
    fb = rng.standard_normal((1500, 1024)) @ (np.eye(1024) * 0.45 + 0.01) + 0.05
    mu1, s1 = fd_module.compute_statistics(fa)
    mu2, s2 = fd_module.compute_statistics(fb)
    fd = fd_module.compute_FD_with_stats(mu1, mu2, s1, s2)
    fd_value = float(fd)
    np.savez_compressed(OUT, **arrays)
    meta = {
        "_about": (
            "Features of the official DINOv2 pipelines on seeded random weights "
            "(evalkit.fid.random_weights.dinov2_state(seed, depth): timm layout, 518 px grid, "
            "loaded strictly into facebookresearch/dinov2's DinoVisionTransformer), on "
            f"skimage.data {', '.join(PHOTOS)} (saved as PNG for dgm-eval's DataLoader). "
            "dgm_eval_depth<d>: dgm-eval DINOv2Encoder.transform (torchvision Resize((224,224), "
            "BICUBIC) on PIL, ToTensor, ImageNet Normalize) + get_representations; "
            "edm2_<mode>_depth<d>: EDM2 calculate_metrics.DINOv2Detector(resize_mode) on uint8 "
            "NCHW. depth 24 = dinov2_vitl14(pretrained=False); depth 2 = vit_large's arguments "
            "with 2 blocks. float32 (N, 1024) in photo order. 'fd': dgm-eval "
            "metrics/fd.py compute_statistics + compute_FD_with_stats on the Gaussian features "
            "of numpy default_rng(seed) described in 'fd_features'."
        ),
        "source_repos": {
            "dgm-eval": "https://github.com/layer6ai-labs/dgm-eval",
            "dinov2": "https://github.com/facebookresearch/dinov2",
            "edm2": "https://github.com/NVlabs/edm2",
        },
        "source_commits": {
            "dgm-eval": git_head(a.dgm_eval),
            "dinov2": git_head(a.dinov2),
            "edm2": git_head(a.edm2),
        },
        "command": (
            "python scripts/record_official_fixtures.py fd_dinov2 --dgm-eval <checkout> "
            "--dinov2 <checkout> --edm2 <checkout>"
        ),
        "seed": a.seed,
        "depths": a.depths,
        "photos": list(PHOTOS),
        "fd_features": (
            "rng = numpy.random.default_rng(seed); a = rng.standard_normal((1500, 1024)) * 0.5 "
            "+ 0.1; b = rng.standard_normal((1500, 1024)) @ (eye(1024) * 0.45 + 0.01) + 0.05"
        ),
        "fd": fd_value,
        "versions": versions("torch", "torchvision", "pillow", "numpy", "scipy", "timm"),
        "device": "cpu",
    }
    (FIXTURES / "fd_dinov2_official.json").write_text(json.dumps(meta, indent=1) + "\n")
    return OUT
