"""VA-VAE against the official hustvl/LightningDiT tokenizer/autoencoder.py (@2725fed).

Fixture (scripts/official_fixtures/vavae.py): a tiny seeded official AutoencoderKL (attention
placed) run on two real photos, saved as a training-style checkpoint with loss tensors beside
the VAE's; and the tensor names and shapes of the released f16d32 model. Here the checkpoint goes
through our real loading path (store -> safe pickle reader -> strict load)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
import torch

from evalkit import store
from evalkit.models import vavae

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
DOC = json.loads((FIXTURES / "vavae_official.json").read_text())
OUT = np.load(FIXTURES / "vavae_official.npz")


def _from_store(tmp_path: Path) -> vavae.VAVAETokenizer:
    d = tmp_path / "weights" / "vavae-f16d32"
    d.mkdir(parents=True)
    shutil.copy(FIXTURES / "vavae_tiny" / "vavae-tiny.pt", d / vavae.CKPT)
    store.set_store([tmp_path])
    try:
        return vavae.build("vavae-f16d32", arch=DOC["tiny"])
    finally:
        store.set_store(None)


def test_outputs_equal_the_official_autoencoder(tmp_path: Path) -> None:
    assert DOC["tiny_attention_tensors"] > 0  # the tiny config exercises attention
    tok = _from_store(tmp_path)
    x = torch.from_numpy(OUT["photos_uint8"]).permute(0, 3, 1, 2).float() / 255.0
    z = tok.encode(x)
    torch.testing.assert_close(z, torch.from_numpy(OUT["mean"]), atol=1e-4, rtol=0)
    decoded = tok.decode(torch.from_numpy(OUT["mean"]))
    want = ((torch.from_numpy(OUT["decoded"]) + 1) / 2).clamp(0, 1)
    torch.testing.assert_close(decoded, want, atol=1e-4, rtol=0)
    assert tok.reconstruct(x[:, :, :50, :60]).shape == (2, 3, 50, 60)  # padded to 16, cropped


def test_released_config_has_the_official_names_and_shapes() -> None:
    with torch.device("meta"):
        module = vavae.make_module(vavae.RELEASED)
    ours = {k: list(v.shape) for k, v in module.state_dict().items()}
    assert ours == DOC["released"]


def test_checkpoint_missing_a_vae_tensor_is_refused(tmp_path: Path) -> None:
    ckpt = torch.load(FIXTURES / "vavae_tiny" / "vavae-tiny.pt", weights_only=True)
    ckpt["state_dict"].pop("decoder.conv_out.bias")
    d = tmp_path / "weights" / "vavae-f16d32"
    d.mkdir(parents=True)
    torch.save(ckpt, d / vavae.CKPT)
    store.set_store([tmp_path])
    try:
        with pytest.raises(RuntimeError, match=r"missing \(1\): decoder.conv_out.bias"):
            vavae.build("vavae-f16d32", arch=DOC["tiny"])
    finally:
        store.set_store(None)


def test_card_and_missing_weights_message(empty_store: Path) -> None:
    c = vavae.card("vavae-f16d32")
    assert c.compression == "16x" and c.latent_channels == 32 and not c.discrete
    with pytest.raises(store.MissingAssetError) as err:
        vavae.build("vavae-f16d32")
    assert vavae.HUB_ID in str(err.value) and vavae.CKPT in str(err.value)
