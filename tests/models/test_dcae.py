"""DC-AE f32c32 through diffusers' AutoencoderDC against the official efficientvit DCAE.

Fixture (scripts/official_fixtures/dcae.py, efficientvit@de7d773 + diffusers' conversion script
@58eb52c): the released configuration's tensors (names, shapes) through the converter, and a tiny
seeded official model of the same block layout run on real photos, its converted weights loaded
here through our store path."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
import torch

pytest.importorskip("diffusers", reason="diffusers (evalkit[vae]) is not installed")

from evalkit import store  # noqa: E402
from evalkit.models import dcae  # noqa: E402
from evalkit.models.vae import WEIGHTS_NAME  # noqa: E402

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "dcae_f32c32_official.json"

TINY = dict(  # the f32c32 block layout (ResBlock x3, EfficientViTBlock x3), narrow and shallow
    latent_channels=32,
    attention_head_dim=8,
    encoder_block_types=["ResBlock"] * 3 + ["EfficientViTBlock"] * 3,
    decoder_block_types=["ResBlock"] * 3 + ["EfficientViTBlock"] * 3,
    encoder_block_out_channels=[8, 16, 16, 16, 32, 32],
    decoder_block_out_channels=[8, 16, 16, 16, 32, 32],
    encoder_layers_per_block=[0, 1, 1, 1, 1, 1],
    decoder_layers_per_block=[0, 1, 1, 1, 1, 1],
    encoder_qkv_multiscales=[[]] * 6,
    decoder_qkv_multiscales=[[]] * 6,
    decoder_norm_types=["batch_norm"] * 3 + ["rms_norm"] * 3,
    decoder_act_fns=["relu"] * 3 + ["silu"] * 3,
    scaling_factor=0.3189,
)


def test_encode_decode_scaling_padding_and_store_path(tmp_path: Path) -> None:
    ref = dcae.build("dc-ae-f32c32", random_config=TINY, seed=3)
    x = torch.rand(2, 3, 64, 96, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        raw = ref.module.encode(x * 2 - 1).latent
        z = ref.encode(x)
        torch.testing.assert_close(z, raw * 0.3189)
        assert z.shape == (2, 32, 2, 3)  # /32
        dec = ref.module.decode(raw).sample
        torch.testing.assert_close(ref.decode(z), ((dec + 1) / 2).clamp(0, 1), atol=1e-5, rtol=0)
    odd = torch.rand(1, 3, 40, 50)
    assert ref.reconstruct(odd).shape == odd.shape  # padded to 64 x 64, cropped back
    # save_pretrained files in the store load through build() strictly, same outputs
    d = tmp_path / "weights" / "dc-ae-f32c32"
    ref.module.save_pretrained(d, safe_serialization=True)
    store.set_store([tmp_path])
    try:
        tok = dcae.build("dc-ae-f32c32")
        assert torch.equal(tok.reconstruct(x), ref.reconstruct(x))
        from safetensors.torch import load_file, save_file

        sd = load_file(d / WEIGHTS_NAME)
        sd.pop(sorted(sd)[0])
        save_file(sd, d / WEIGHTS_NAME)
        with pytest.raises(RuntimeError, match="strictly"):
            dcae.build("dc-ae-f32c32")
    finally:
        store.set_store(None)


def test_outputs_equal_the_official_dcae(tmp_path: Path) -> None:
    """Latents and decoded images of the official model (seeded tiny config, real photos)."""
    shutil.copytree(FIXTURE.parent / "dcae_tiny", tmp_path / "weights" / "dc-ae-f32c32")
    store.set_store([tmp_path])
    try:
        tok = dcae.build("dc-ae-f32c32")
    finally:
        store.set_store(None)
    out = np.load(FIXTURE.parent / "dcae_official.npz")
    x = torch.from_numpy(out["photos_uint8"]).permute(0, 3, 1, 2).float() / 255.0
    z = tok.encode(x)
    scale = dcae.VARIANTS["dc-ae-f32c32"].scaling_factor
    official = torch.from_numpy(out["latent"])
    torch.testing.assert_close(z / scale, official, atol=1e-4, rtol=0)  # measured 1.0e-5
    decoded = tok.decode(torch.from_numpy(out["latent"]) * scale)
    want = ((torch.from_numpy(out["decoded"]) + 1) / 2).clamp(0, 1)
    torch.testing.assert_close(decoded, want, atol=1e-4, rtol=0)  # measured 2e-6


def test_released_config_matches_the_official_model_names_and_shapes() -> None:
    """diffusers' f32c32-in-1.0 config, built on meta, has exactly the tensors of efficientvit's
    dc_ae_f32c32 renamed by diffusers' conversion script (recorded in the fixture)."""
    doc = json.loads(FIXTURE.read_text())
    from diffusers import AutoencoderDC

    with torch.device("meta"):
        ae = AutoencoderDC(**doc["diffusers_config"])
    ours = {k: list(v.shape) for k, v in ae.state_dict().items()}
    assert ours == doc["converted_state_dict"]
    assert doc["diffusers_config"]["scaling_factor"] == dcae.VARIANTS["dc-ae-f32c32"].scaling_factor


def test_card_and_missing_weights_message(empty_store: Path) -> None:
    c = dcae.card("dc-ae-f32c32")
    assert c.compression == "32x" and c.latent_channels == 32 and c.discrete is False
    with pytest.raises(store.MissingAssetError) as err:
        dcae.build("dc-ae-f32c32")
    msg = str(err.value)
    assert "mit-han-lab/dc-ae-f32c32-in-1.0-diffusers" in msg and "config.json" in msg
