"""Cosmos image tokenizers: outputs of the official NVIDIA/Cosmos-Tokenizer code on real photos
with seeded random weights, and the key names and shapes of the four released configurations.

    python scripts/record_official_fixtures.py cosmos --official DIR

For two small configurations of the real architecture (CI at 8x, DI at 16x; 32 channels), the
official networks are built with seeded random weights, traced into ``encoder.jit`` /
``decoder.jit`` as NVIDIA ships them (parameters stored as bfloat16, as a small archive), and run
by the official ``ImageTokenizer`` (JIT mode, CPU, float32) on two skimage photos whose size is
not a multiple of 16 (so the official padding is exercised): latents or FSQ indices from
``encode``, decoded images from ``decode``, uint8 reconstructions from ``forward``. The archives
go to ``tests/fixtures/cosmos/<id>/`` for our loader; the outputs to ``cosmos_official.npz``.
For the four released configurations (CI8x8, CI16x16, DI8x8, DI16x16) the official
``encoder_jit()`` / ``decoder_jit()`` tensors' names and shapes go to ``cosmos_official.json``.

The official code imports einops, loguru and mediapy (mediapy only to read and write files: an
empty stand-in module is installed, as the recording passes arrays). Run it with those on
PYTHONPATH, outside this repository.
"""

from __future__ import annotations

import argparse
import sys
import types
from pathlib import Path

from official_fixtures.common import FIXTURES, dump_compact, git_head, randomize_, versions

RELEASED = {
    "cosmos-ci8x8": ("CI", 8),
    "cosmos-ci16x16": ("CI", 16),
    "cosmos-di8x8": ("DI", 8),
    "cosmos-di16x16": ("DI", 16),
}
# Small configurations of the same architecture (attention placed inside a level on purpose).
TINY = {
    "cosmos-ci8x8": {
        "channels": 32,
        "channels_mult": [1],
        "num_res_blocks": 1,
        "attn_resolutions": [16],
        "resolution": 64,
    },
    "cosmos-di16x16": {
        "channels": 32,
        "channels_mult": [1, 1],
        "num_res_blocks": 1,
        "attn_resolutions": [8],
        "resolution": 64,
        "z_channels": 32,
    },
}
PHOTO_SIZE = (60, 76)  # H, W: padded to 64 x 80 by the official forward


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--official", type=Path, required=True, help="NVIDIA/Cosmos-Tokenizer checkout")
    p.add_argument("--commit", help="commit of the checkout when it is not a git folder")
    p.add_argument("--seed", type=int, default=0)


def record(a: argparse.Namespace) -> Path:
    return record_cosmos(a.official, a.commit or git_head(a.official), a.seed)


def photos():  # noqa: ANN201 - numpy array
    """Two real photos (skimage astronaut and coffee), every 4th pixel, cropped to PHOTO_SIZE."""
    import numpy as np
    from skimage import data

    h, w = PHOTO_SIZE
    return np.stack([data.astronaut()[::4, ::4][:h, :w], data.coffee()[::4, ::4][:h, :w]])


def _official(official: Path):  # noqa: ANN202 - modules
    sys.modules.setdefault("mediapy", types.ModuleType("mediapy"))  # file I/O only
    sys.path.insert(0, str(official))
    from cosmos_tokenizer import image_lib, utils
    from cosmos_tokenizer.networks import TokenizerConfigs, TokenizerModels

    return image_lib, utils, TokenizerConfigs, TokenizerModels


def _config(configs, kind: str, compression: int, extra: dict | None = None) -> dict:  # noqa: ANN001
    cfg = dict(configs[kind].value)
    cfg.update(spatial_compression=compression, **(extra or {}))
    return cfg


def record_cosmos(official: Path, commit: str, seed: int) -> Path:
    import numpy as np
    import torch

    image_lib, utils, configs, models = _official(official)
    released = {}
    for model_id, (kind, comp) in RELEASED.items():
        net = models[kind].value(**_config(configs, kind, comp))
        parts = {}
        for part in ("encoder_jit", "decoder_jit"):
            mod = getattr(net, part)()
            sd = mod.state_dict()
            constants = {n: list(b.shape) for n, b in mod.named_buffers() if n not in sd}
            parts[part] = {
                "state_dict": {k: list(t.shape) for k, t in sd.items()},
                "non_persistent_buffers": constants,
            }
        released[model_id] = {"config": {"kind": kind, "spatial_compression": comp}, **parts}
        print(f"{model_id}: {sum(len(p['state_dict']) for p in parts.values())} tensors")
        del net

    u8 = photos()
    arrays: dict[str, np.ndarray] = {"photos_uint8": u8}
    tiny_docs = {}
    out_root = FIXTURES / "cosmos"
    for model_id, extra in TINY.items():
        kind, comp = RELEASED[model_id]
        torch.manual_seed(seed)
        net = models[kind].value(**_config(configs, kind, comp, extra)).eval()
        randomize_(net, seed)
        with torch.no_grad():  # the archive stores bfloat16: the values we run are exactly those
            for t in net.state_dict().values():
                if t.is_floating_point():
                    t.copy_(t.to(torch.bfloat16).float())
        if kind == "DI":
            net.to(dtype=torch.float32)  # the official override: FSQ outputs in float32
        padded, crop = utils.pad_image_batch(u8)
        x = utils.numpy2tensor(padded, dtype=torch.float32, device="cpu")
        folder = out_root / model_id
        folder.mkdir(parents=True, exist_ok=True)
        enc_in = x
        with torch.no_grad():
            enc = torch.jit.trace(net.encoder_jit(), enc_in, check_trace=False)
            dec_in = enc(enc_in)[0]  # CI: the latent; DI: the FSQ indices
            dec = torch.jit.trace(net.decoder_jit(), dec_in, check_trace=False)
        for name, traced in (("encoder.jit", enc), ("decoder.jit", dec)):
            torch.jit.save(traced.to(torch.bfloat16), str(folder / name))
        tok = image_lib.ImageTokenizer(
            checkpoint_enc=str(folder / "encoder.jit"),
            checkpoint_dec=str(folder / "decoder.jit"),
            device="cpu",
            dtype="float32",
        )
        encoded = tok.encode(x)
        decoded = tok.decode(encoded[0])
        y1, x1, y2, x2 = crop
        prefix = model_id.replace("-", "_")
        if kind == "CI":
            arrays[f"{prefix}_latent"] = encoded[0].float().numpy()
        else:
            arrays[f"{prefix}_indices"] = encoded[0].numpy().astype(np.int32)
            arrays[f"{prefix}_codes"] = encoded[1].float().numpy()
        arrays[f"{prefix}_decoded"] = decoded[..., y1:y2, x1:x2].float().numpy()
        arrays[f"{prefix}_reconstruction_uint8"] = tok(u8)
        native = _native_check(utils, configs, models, kind, comp, extra, folder, x, decoded)
        tiny_docs[model_id] = {
            "config_overrides": extra,
            "archives": [f"tests/fixtures/cosmos/{model_id}/encoder.jit", "decoder.jit"],
            "official_native_torch_vs_jit_max_abs_diff": native,
        }
        print(f"{model_id} tiny: native vs JIT decoded max |diff| {native:.2e}")
    npz = FIXTURES / "cosmos_official.npz"
    np.savez_compressed(npz, **arrays)
    doc = {
        "_about": (
            "Official NVIDIA/Cosmos-Tokenizer outputs with seeded random weights, recorded by "
            "scripts/record_official_fixtures.py cosmos (see its docstring). Tiny models: "
            "archives in tests/fixtures/cosmos/<id>/, outputs in cosmos_official.npz: "
            "<id>_latent (CI, encode), <id>_indices and <id>_codes (DI, encode), <id>_decoded "
            "(decode of the encoder's first output, cropped to the photo, [-1, 1]), "
            "<id>_reconstruction_uint8 (ImageTokenizer.forward on photos_uint8). 'released': "
            "names and shapes of the official encoder_jit()/decoder_jit() tensors of the four "
            "released configurations (networks/configs.py with spatial_compression set)."
        ),
        "source_repo": "https://github.com/NVIDIA/Cosmos-Tokenizer",
        "source_commit": commit,
        "command": "python scripts/record_official_fixtures.py cosmos --official <checkout>",
        "versions": versions("torch", "numpy", "einops", "loguru", "scikit-image"),
        "device": "cpu",
        "dtype": "float32 (archives store bfloat16 parameters; ImageTokenizer casts to float32)",
        "seed": seed,
        "photos": "skimage astronaut and coffee, [::4, ::4], cropped to 60 x 76",
        "tiny": tiny_docs,
        "released": released,
    }
    path = FIXTURES / "cosmos_official.json"
    path.write_text(dump_compact(doc))
    return path


def _native_check(utils, configs, models, kind, comp, extra, folder, x, decoded) -> float:  # noqa: ANN001
    """The official native-PyTorch mode (state dicts taken from the archives) against JIT."""
    import torch

    cfg = _config(configs, kind, comp, extra)
    enc = utils.load_encoder_model(str(folder / "encoder.jit"), cfg, "cpu").float()
    dec = utils.load_decoder_model(str(folder / "decoder.jit"), cfg, "cpu").float()
    if kind == "DI":
        enc.quantizer.dtype = dec.inv_quant.quantizer.dtype = torch.float32
    with torch.no_grad():
        out = dec(enc(x)[0])
    return float((out - decoded).abs().max())
