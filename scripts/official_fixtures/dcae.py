"""DC-AE f32c32: the official efficientvit model against diffusers' AutoencoderDC.

    python scripts/record_official_fixtures.py dcae --official EFFICIENTVIT --converter SCRIPT

``--official``: a checkout of mit-han-lab/efficientvit (its ``efficientvit`` package: DCAE,
``dc_ae_f32c32``); ``--converter``: diffusers' ``scripts/convert_dcae_to_diffusers.py`` (the
script that made the ``-diffusers`` Hub repos). Both run outside this repository (efficientvit
imports omegaconf).

1. Released configuration ``dc-ae-f32c32-in-1.0``: the official model's tensors, renamed by the
   converter's own ``convert_ae`` (its Hub download replaced by those tensors, zeros), must load
   strictly into ``AutoencoderDC(**get_ae_config(...))``; the names and shapes and the config go
   to ``tests/fixtures/dcae_f32c32_official.json``.
2. A tiny configuration of the same block layout (ResBlock x3 then EViT_GLU x3, bn2d/trms2d,
   relu/silu): the official model with seeded random weights runs on two real photos; the same
   weights converted by ``convert_ae`` are saved as the diffusers folder our loader reads
   (``tests/fixtures/dcae_tiny/``), and the official latents and decoded images go to
   ``dcae_official.npz``.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from official_fixtures.common import FIXTURES, dump_compact, git_head, randomize_, versions

NAME = "dc-ae-f32c32-in-1.0"
TINY_WIDTHS = [8, 16, 32, 32, 32, 32]  # EViT stages 32 wide: one head of 32 (the default)
TINY_DEPTHS_ENC = [0, 1, 1, 1, 1, 1]
TINY_DEPTHS_DEC = [0, 1, 1, 1, 1, 1]
PHOTO_SIZE = 64


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--official", type=Path, required=True, help="mit-han-lab/efficientvit checkout")
    p.add_argument("--commit", help="efficientvit commit when --official is not a git folder")
    p.add_argument("--converter", type=Path, required=True, help="convert_dcae_to_diffusers.py")
    p.add_argument("--converter-commit", required=True, help="diffusers commit of the script")
    p.add_argument("--seed", type=int, default=0)


def record(a: argparse.Namespace) -> Path:
    return record_dcae(a.official, a.commit or git_head(a.official), a.converter, a)


def _tiny_cfg_str() -> str:
    def lst(xs: list) -> str:
        return "[" + ",".join(str(x) for x in xs) + "]"

    blocks = "[ResBlock,ResBlock,ResBlock,EViT_GLU,EViT_GLU,EViT_GLU]"
    return (
        f"latent_channels=32 encoder.block_type={blocks} encoder.width_list={lst(TINY_WIDTHS)} "
        f"encoder.depth_list={lst(TINY_DEPTHS_ENC)} decoder.block_type={blocks} "
        f"decoder.width_list={lst(TINY_WIDTHS)} decoder.depth_list={lst(TINY_DEPTHS_DEC)} "
        "decoder.norm=[bn2d,bn2d,bn2d,trms2d,trms2d,trms2d] "
        "decoder.act=[relu,relu,relu,silu,silu,silu]"
    )


class _CpuScratch:
    """``torch`` for the Triton RMSNorm module: the same, except ``empty(..., device="cuda")``
    allocates on the CPU (the kernel itself runs under TRITON_INTERPRET=1)."""

    def __getattr__(self, name: str):  # noqa: ANN204 - torch attributes
        import torch

        return getattr(torch, name)

    def empty(self, *args, **kwargs):  # noqa: ANN002, ANN003, ANN201 - torch.empty
        import torch

        kwargs["device"] = "cpu"
        return torch.empty(*args, **kwargs)


def _official(official: Path):  # noqa: ANN202 - classes
    """efficientvit's dc_ae module, imported without the package __init__ files (they pull in
    onnxsim, segment_anything and the trainers, none of which DC-AE uses)."""
    import importlib
    import types

    sys.path.insert(0, str(official))
    for pkg in (
        "efficientvit",
        "efficientvit.models",
        "efficientvit.models.nn",
        "efficientvit.models.efficientvit",
    ):
        module = types.ModuleType(pkg)
        module.__path__ = [str(official / pkg.replace(".", "/"))]
        sys.modules[pkg] = module
    os.environ["TRITON_INTERPRET"] = "1"  # the official trms2d Triton kernel, run on the CPU
    kernel = importlib.import_module("efficientvit.models.nn.triton_rms_norm")
    kernel.torch = _CpuScratch()  # its 1/rms scratch buffer is allocated on "cuda" by name
    norm = importlib.import_module("efficientvit.models.nn.norm")
    apply = kernel.TritonRMSNorm2dFunc.apply
    # The kernel indexes raw memory as contiguous NCHW, which CUDA convolutions give; CPU ones
    # may return channels-last strides, so the input is made contiguous (values unchanged).
    norm.TritonRMSNorm2d.forward = lambda self, x: apply(
        x.contiguous(), self.weight, self.bias, self.eps
    )
    dc_ae = importlib.import_module("efficientvit.models.efficientvit.dc_ae")
    return dc_ae.DCAE, dc_ae.DCAEConfig, dc_ae.dc_ae_f32c32


def _convert(conv, config: dict, tensors: dict):  # noqa: ANN001, ANN202 - modules
    """The converter's convert_ae with its download replaced by ``tensors`` and its config."""
    conv.get_ae_config(NAME)  # registers the f32c32 renames, as convert_ae would
    saved = conv.get_ae_config, conv.hf_hub_download, conv.load_file
    conv.get_ae_config = lambda name: dict(config)
    conv.hf_hub_download = lambda *a, **k: "<in memory>"
    conv.load_file = lambda path: dict(tensors)
    try:
        import torch

        return conv.convert_ae(NAME, torch.float32)
    finally:
        conv.get_ae_config, conv.hf_hub_download, conv.load_file = saved


def record_dcae(official: Path, commit: str, converter: Path, a: argparse.Namespace) -> Path:
    import importlib.util

    import numpy as np
    import torch
    from omegaconf import OmegaConf
    from skimage import data

    DCAE, DCAEConfig, dc_ae_f32c32 = _official(official)  # noqa: N806 - official names

    spec = importlib.util.spec_from_file_location("convert_dcae_to_diffusers", converter)
    conv = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(conv)

    # 1. the released configuration: names and shapes through the converter, strictly
    real_cfg = conv.get_ae_config(NAME)
    with torch.device("meta"):
        big = DCAE(dc_ae_f32c32(NAME, None))
    zeros = {k: torch.zeros(v.shape) for k, v in big.state_dict().items()}
    converted = _convert(conv, real_cfg, zeros)  # load_state_dict(strict=True) inside
    released = {k: list(v.shape) for k, v in converted.state_dict().items()}
    del converted, zeros

    # 2. a tiny configuration: official outputs on photos, converted weights for our loader
    cfg = OmegaConf.to_object(
        OmegaConf.merge(
            OmegaConf.structured(DCAEConfig), OmegaConf.from_dotlist(_tiny_cfg_str().split())
        )
    )
    torch.manual_seed(a.seed)
    tiny = DCAE(cfg).eval()
    randomize_(tiny, a.seed)
    tiny_cfg = dict(
        real_cfg,
        encoder_block_out_channels=TINY_WIDTHS,
        decoder_block_out_channels=TINY_WIDTHS,
        encoder_layers_per_block=TINY_DEPTHS_ENC,
        decoder_layers_per_block=TINY_DEPTHS_DEC,
    )
    ours = _convert(conv, tiny_cfg, {k: v.clone() for k, v in tiny.state_dict().items()}).eval()
    photos = np.stack(
        [im[: PHOTO_SIZE * 4 : 4, : PHOTO_SIZE * 4 : 4] for im in (data.astronaut(), data.coffee())]
    )
    x = torch.from_numpy(photos).permute(0, 3, 1, 2).float() / 127.5 - 1.0
    with torch.no_grad():
        latent = tiny.encode(x)
        decoded = tiny.decode(latent)
        check = (ours.decode(ours.encode(x).latent).sample - decoded).abs().max().item()
    folder = FIXTURES / "dcae_tiny"
    ours.save_pretrained(folder, safe_serialization=True)
    np.savez_compressed(
        FIXTURES / "dcae_official.npz",
        photos_uint8=photos,
        latent=latent.numpy(),
        decoded=decoded.numpy(),
    )
    doc = {
        "_about": "mit-han-lab/efficientvit's DCAE against diffusers' AutoencoderDC through "
        "diffusers' convert_dcae_to_diffusers.py (see scripts/official_fixtures/dcae.py). "
        "diffusers_config / converted_state_dict: the released dc-ae-f32c32-in-1.0 configuration "
        "(official tensors renamed by the converter, loaded strictly). tiny: a seeded random "
        "official model of the same block layout; dcae_official.npz holds its latents "
        "(encode) and decoded images (decode of those latents, [-1, 1]) on photos_uint8; "
        "tests/fixtures/dcae_tiny/ holds the same weights converted by the script.",
        "source_repo": "https://github.com/mit-han-lab/efficientvit",
        "source_commit": commit,
        "converter": f"huggingface/diffusers@{a.converter_commit} "
        "scripts/convert_dcae_to_diffusers.py",
        "command": "python scripts/record_official_fixtures.py dcae --official <efficientvit> "
        "--converter <convert_dcae_to_diffusers.py> --converter-commit <sha>",
        "versions": versions("torch", "diffusers", "omegaconf", "numpy", "scikit-image"),
        "seed": a.seed,
        "tiny_official_config": _tiny_cfg_str(),
        "tiny_converted_vs_official_decoded_max_abs_diff_at_recording": check,
        "diffusers_config": {
            k: (list(v) if isinstance(v, tuple) else v) for k, v in real_cfg.items()
        },
        "converted_state_dict": released,
    }
    out = FIXTURES / "dcae_f32c32_official.json"
    out.write_text(dump_compact(doc))
    return out
