"""Cosmos image tokenizers against the official NVIDIA/Cosmos-Tokenizer code.

Fixture (scripts/official_fixtures/cosmos.py): tiny official networks with seeded random weights,
traced into TorchScript archives as NVIDIA ships them, run by the official ``ImageTokenizer`` on
two real photos of a size the official code pads; and the names and shapes of the four released
configurations. Here the archives go through our real loading path (store -> safe reader -> strict
load) and our outputs are compared with the official ones.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
import torch

from evalkit import store
from evalkit.imagefiles import to_uint8
from evalkit.models import cosmos
from evalkit.models.cosmos_arch import CosmosConfig, CosmosDecoder, CosmosEncoder

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
DOC = json.loads((FIXTURES / "cosmos_official.json").read_text())
OUT = np.load(FIXTURES / "cosmos_official.npz")


def _from_store(model_id: str, tmp_path: Path, **options: object) -> cosmos.CosmosTokenizer:
    folder = tmp_path / "weights" / model_id
    folder.mkdir(parents=True)
    for name in ("encoder.jit", "decoder.jit"):
        shutil.copy(FIXTURES / "cosmos" / model_id / name, folder / name)
    store.set_store([tmp_path])
    try:
        return cosmos.build(model_id, arch=DOC["tiny"][model_id]["config_overrides"], **options)
    finally:
        store.set_store(None)


def _photos() -> torch.Tensor:
    return torch.from_numpy(OUT["photos_uint8"]).permute(0, 3, 1, 2).float() / 255.0


@pytest.mark.parametrize("model_id", sorted(DOC["tiny"]))
def test_outputs_equal_the_official_image_tokenizer(model_id: str, tmp_path: Path) -> None:
    """Latents / FSQ ids, decoded images and uint8 reconstructions of the official code."""
    tok = _from_store(model_id, tmp_path)
    prefix = model_id.replace("-", "_")
    x = _photos()
    codes = tok.encode(x)
    if tok.card.discrete:
        ids = codes.indices.numpy()
        assert ids.shape == OUT[f"{prefix}_indices"].shape
        agree = float((ids == OUT[f"{prefix}_indices"]).mean())
        assert agree == 1.0, f"token agreement {agree:.6f}"
        np.testing.assert_allclose(codes.latent.numpy(), OUT[f"{prefix}_codes"], atol=0, rtol=0)
        assert torch.equal(tok.token_ids(codes), codes.indices.flatten(1).long())
    else:
        assert tok.token_ids(codes) is None
        latent = OUT[f"{prefix}_latent"]  # max |diff| measured 5e-6 (values up to 3.6)
        np.testing.assert_allclose(codes.latent.numpy(), latent, atol=5e-5)
    decoded = tok.decode(codes)  # [0, 1], cropped back to the photo
    official = (torch.from_numpy(OUT[f"{prefix}_decoded"]) + 1.0) / 2.0
    assert decoded.shape == x.shape
    torch.testing.assert_close(decoded, official.clamp(0, 1), atol=1e-4, rtol=0)  # measured 2.6e-5
    ours_u8 = to_uint8(tok.reconstruct(x))
    theirs_u8 = OUT[f"{prefix}_reconstruction_uint8"]
    diff = np.abs(ours_u8.astype(int) - theirs_u8.astype(int))
    # official: floor(y * 255 + 0.5); ours: round half to even -> at most 1 apart, rarely
    assert diff.max() <= 1 and (diff > 0).mean() < 1e-3


def test_padding_is_the_official_one(tmp_path: Path) -> None:
    """60 x 76 photos are padded to 64 x 80 with black, 2 rows / 2 columns on each side."""
    tok = _from_store("cosmos-ci8x8", tmp_path)
    codes = tok.encode(_photos())
    assert codes.crop == (2, 2, 60, 76)
    assert codes.latent.shape[-2:] == (64 // 8, 80 // 8)


@pytest.mark.parametrize("model_id", sorted(cosmos.VARIANTS))
def test_released_configs_have_the_official_names_and_shapes(model_id: str) -> None:
    v = cosmos.VARIANTS[model_id]
    cfg = CosmosConfig(v.discrete, v.compression, z_channels=256 if v.discrete else 16)
    official = DOC["released"][model_id]
    with torch.device("meta"):
        parts = {"encoder_jit": CosmosEncoder(cfg), "decoder_jit": CosmosDecoder(cfg)}
    for part, module in parts.items():
        sd = module.state_dict()
        assert {k: list(t.shape) for k, t in sd.items()} == official[part]["state_dict"], part
        buffers = {n: list(b.shape) for n, b in module.named_buffers() if n not in sd}
        assert buffers == official[part]["non_persistent_buffers"], part


def test_archive_with_a_wrong_tensor_is_refused(tmp_path: Path) -> None:
    """Strict: a tensor missing from an archive stops the load with its name."""
    from evalkit.models.safe_checkpoint import torchscript_tensors
    from evalkit.models.weights import load_strict

    cfg = CosmosConfig(False, 8, z_channels=16, **_tiny_arch("cosmos-ci8x8"))
    tensors = torchscript_tensors(FIXTURES / "cosmos" / "cosmos-ci8x8" / "encoder.jit")
    load_strict(CosmosEncoder(cfg), dict(tensors), "ok")
    broken = dict(tensors)
    broken.pop("quant_conv.bias")
    with pytest.raises(RuntimeError, match=r"missing \(1\): quant_conv.bias"):
        load_strict(CosmosEncoder(cfg), broken, "archive")
    broken = dict(tensors, **{"encoder.patcher.wavelets": torch.tensor([0.5, 0.5])})
    with pytest.raises(RuntimeError, match="constants that differ"):
        load_strict(CosmosEncoder(cfg), broken, "archive")


def _tiny_arch(model_id: str) -> dict:
    over = DOC["tiny"][model_id]["config_overrides"]
    return {k: tuple(v) if isinstance(v, list) else v for k, v in over.items()}


def test_random_init_runs_any_size_and_is_seeded() -> None:
    arch = _tiny_arch("cosmos-di16x16")
    tok = cosmos.build("cosmos-di8x8", random_init=True, arch=arch, seed=1)
    assert tok.card.weights == ()
    x = torch.rand(1, 3, 33, 47, generator=torch.Generator().manual_seed(0))
    y = tok.reconstruct(x)
    assert y.shape == x.shape and float(y.min()) >= 0.0 and float(y.max()) <= 1.0
    again = cosmos.build("cosmos-di8x8", random_init=True, arch=arch, seed=1)
    assert torch.equal(y, again.reconstruct(x))
    ids = tok.token_ids(tok.encode(x))
    assert ids is not None and int(ids.min()) >= 0 and int(ids.max()) < cosmos.CODEBOOK


@pytest.mark.parametrize("model_id", sorted(cosmos.VARIANTS))
def test_card_and_missing_weights_message(model_id: str, empty_store: Path) -> None:
    c = cosmos.card(model_id)
    v = cosmos.VARIANTS[model_id]
    assert c.discrete is v.discrete and c.compression == f"{v.compression}x"
    assert "NVIDIA Open Model License" in c.license
    with pytest.raises(store.MissingAssetError) as err:
        cosmos.build(model_id)
    msg = str(err.value)
    assert v.hub_id in msg and "encoder.jit" in msg and "decoder.jit" in msg
    assert f"evalkit fetch --model {model_id}" in msg
