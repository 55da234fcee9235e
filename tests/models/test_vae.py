"""Diffusers VAEs: tiny random AutoencoderKL of the real architecture, value mapping, loading."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

pytest.importorskip("diffusers", reason="diffusers (evalkit[vae]) is not installed")

from evalkit import store  # noqa: E402
from evalkit.models import vae as vae_mod  # noqa: E402

IDS = sorted(vae_mod.VARIANTS)


def tiny_config(model_id: str) -> dict:
    v = vae_mod.VARIANTS[model_id]
    return dict(
        in_channels=3,
        out_channels=3,
        down_block_types=("DownEncoderBlock2D",) * 4,  # 3 downsamples: /8 like the real ones
        up_block_types=("UpDecoderBlock2D",) * 4,
        block_out_channels=(32, 32, 32, 32),
        layers_per_block=1,
        latent_channels=v.latent_channels,
        norm_num_groups=32,
        sample_size=32,
        scaling_factor=v.scaling_factor,
        shift_factor=v.shift_factor or None,
    )


@pytest.mark.parametrize("model_id", IDS)
def test_tiny_random_shapes_range_determinism(model_id: str) -> None:
    tok = vae_mod.build(model_id, random_config=tiny_config(model_id), seed=0)
    v = vae_mod.VARIANTS[model_id]
    x = torch.rand(2, 3, 32, 48, generator=torch.Generator().manual_seed(0))
    z = tok.encode(x)
    assert z.shape == (2, v.latent_channels, 4, 6)
    y = tok.decode(z)
    assert y.shape == x.shape and float(y.min()) >= 0.0 and float(y.max()) <= 1.0
    assert torch.equal(y, tok.reconstruct(x))  # mode posterior: deterministic
    assert tok.reconstruct(torch.rand(1, 3, 30, 45)).shape == (1, 3, 30, 45)


def test_value_range_and_scaling_are_applied() -> None:
    """encode = (mode(E(2x-1)) - shift) * scale; decode = (D(z/scale + shift) + 1) / 2."""
    model_id = "flux1-vae"  # has both a scale and a shift
    tok = vae_mod.build(model_id, random_config=tiny_config(model_id), seed=0)
    v = vae_mod.VARIANTS[model_id]
    x = torch.rand(1, 3, 16, 16)
    with torch.no_grad():
        raw = tok.module.encode(x * 2 - 1).latent_dist.mode()
        z = tok.encode(x)
        torch.testing.assert_close(z, (raw - v.shift_factor) * v.scaling_factor)
        dec = tok.module.decode(raw).sample
        torch.testing.assert_close(tok.decode(z), ((dec + 1) / 2).clamp(0, 1), atol=1e-5, rtol=0)
    sampled = vae_mod.build(model_id, random_config=tiny_config(model_id), posterior="sample")
    zs = sampled.encode(x)
    assert not torch.equal(zs, z) and torch.equal(zs, sampled.encode(x))  # seeded


@pytest.mark.parametrize("model_id", IDS)
def test_store_loading_path_strict(model_id: str, tmp_path: Path) -> None:
    """save_pretrained files placed in the store load through build() with identical output."""
    ref = vae_mod.build(model_id, random_config=tiny_config(model_id), seed=1)
    d = tmp_path / "weights" / model_id
    ref.module.save_pretrained(d, safe_serialization=True)
    assert {p.name for p in d.iterdir()} >= {"config.json", vae_mod.WEIGHTS_NAME}
    store.set_store([tmp_path])
    try:
        tok = vae_mod.build(model_id)
    finally:
        store.set_store(None)
    x = torch.rand(1, 3, 16, 16)
    assert torch.equal(tok.reconstruct(x), ref.reconstruct(x))
    # a weights file with a tensor missing is refused
    from safetensors.torch import load_file, save_file

    sd = load_file(str(d / vae_mod.WEIGHTS_NAME))
    sd.pop(next(iter(sd)))
    save_file(sd, str(d / vae_mod.WEIGHTS_NAME))
    store.set_store([tmp_path])
    try:
        with pytest.raises(RuntimeError, match="strictly"):
            vae_mod.build(model_id)
    finally:
        store.set_store(None)


@pytest.mark.parametrize("model_id", IDS)
def test_card_and_missing_weights_message(
    model_id: str, empty_store: Path
) -> None:
    c = vae_mod.card(model_id)
    v = vae_mod.VARIANTS[model_id]
    assert c.discrete is False and c.compression == "8x"
    assert c.latent_channels == v.latent_channels
    assert c.extra["scaling_factor"] == v.scaling_factor
    with pytest.raises(store.MissingAssetError) as err:
        vae_mod.build(model_id)
    msg = str(err.value)
    assert v.hub_id in msg and "config.json" in msg
    assert str(empty_store / "weights" / model_id / "config.json") in msg
    assert f"huggingface-cli download {v.hub_id}" in msg


def test_tokbench_names_match_the_reported_table() -> None:
    csv = Path(__file__).resolve().parents[2].parent / "shared" / "protocols"
    path = csv / "tokbench_reported.csv"
    if not path.is_file():
        pytest.skip(f"{path} absent")
    methods = {line.split(",")[1] for line in path.read_text().splitlines()[1:]}
    for model_id in IDS:
        name = vae_mod.card(model_id).tokbench_name
        assert name is None or name in methods, (model_id, name)
