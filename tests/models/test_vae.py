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
def test_card_and_missing_weights_message(model_id: str, empty_store: Path) -> None:
    c = vae_mod.card(model_id)
    v = vae_mod.VARIANTS[model_id]
    assert c.discrete is False and c.compression == "8x"
    assert c.latent_channels == v.latent_channels
    assert c.extra["scaling_factor"] == v.scaling_factor
    with pytest.raises(store.MissingAssetError) as err:
        vae_mod.build(model_id)
    msg = str(err.value)
    assert v.hub_id in msg and "2 of 2 files" in msg  # one message naming both files
    for wf in c.weights:
        assert wf.filename in msg
    folder = empty_store / "weights" / model_id
    assert f"{folder}/<file>" in msg or all(
        str(folder / Path(w.filename).name) in msg for w in c.weights
    )
    assert f"evalkit fetch --model {model_id} --store <store>" in msg


def test_tokbench_names_match_the_reported_table() -> None:
    csv = Path(__file__).resolve().parents[2].parent / "shared" / "protocols"
    path = csv / "tokbench_reported.csv"
    if not path.is_file():
        pytest.skip(f"{path} absent")
    methods = {line.split(",")[1] for line in path.read_text().splitlines()[1:]}
    for model_id in IDS:
        name = vae_mod.card(model_id).tokbench_name
        assert name is None or name in methods, (model_id, name)


def test_posterior_sampling_is_seeded_per_sample_not_per_batch(tmp_path: Path) -> None:
    """Batch sizes 1, 3 and 8 give identical rows: each sample's noise is its own."""
    import numpy as np
    import pandas as pd

    import evalkit
    from evalkit.benchmarks.images import embedded_photos

    photos = embedded_photos()
    folder = tmp_path / "imgs"
    folder.mkdir()
    for sample_id, path in list(zip(photos.ids, photos.paths))[:8]:
        (folder / sample_id).write_bytes(path.read_bytes())
    model_id = "sdxl-vae"
    mopts = {"random_config": tiny_config(model_id), "posterior": "sample"}
    runs = [
        evalkit.run(
            "recon",
            model_id,
            options={"data": str(folder), "resolution": 32},
            model_options=mopts,
            batch_size=b,
            workers=0,
            out_dir=tmp_path / f"b{b}",
        )
        for b in (1, 3, 8)
    ]
    key = ["metric", "value", "n"]
    # identical noise; what remains is float32 convolution order on CPU (~1e-6 relative)
    for other in runs[1:]:
        assert other.run_id == runs[0].run_id
        pd.testing.assert_frame_equal(other.rows[key], runs[0].rows[key], rtol=1e-4)
        np.testing.assert_allclose(other.samples["psnr"], runs[0].samples["psnr"], atol=1e-3)
    # and the noise is visible at that scale: another run seed moves PSNR far more
    reseeded = evalkit.run(
        "recon",
        model_id,
        options={"data": str(folder), "resolution": 32},
        model_options=mopts,
        seed=1,
        workers=0,
        out_dir=tmp_path / "s1",
    )
    assert np.abs(reseeded.samples["psnr"] - runs[0].samples["psnr"]).max() > 1e-2


def test_runner_seeds_give_each_sample_its_own_noise() -> None:
    """The seeds the runner passes fix each sample's latents whatever the batch."""
    from evalkit.seeding import sample_seed

    model_id = "sdxl-vae"
    tok = vae_mod.build(model_id, random_config=tiny_config(model_id), posterior="sample")
    x = torch.rand(8, 3, 16, 16, generator=torch.Generator().manual_seed(6))
    seeds = [sample_seed(0, f"img{i}") for i in range(8)]
    whole = tok.encode(x, seeds)
    for b in (1, 3):
        parts = torch.cat([tok.encode(x[i : i + b], seeds[i : i + b]) for i in range(0, 8, b)])
        torch.testing.assert_close(parts, whole, rtol=1e-5, atol=1e-5)
    assert (tok.encode(x, [sample_seed(1, f"img{i}") for i in range(8)]) - whole).abs().max() > 0.1


def test_direct_encode_is_batch_independent() -> None:
    """Without the runner's seeds, a sample's noise comes from the adapter seed and the image."""
    model_id = "flux1-vae"
    tok = vae_mod.build(model_id, random_config=tiny_config(model_id), posterior="sample")
    x = torch.rand(3, 3, 16, 16, generator=torch.Generator().manual_seed(5))
    whole = tok.encode(x)
    parts = torch.cat([tok.encode(x[i : i + 1]) for i in range(3)])
    torch.testing.assert_close(whole, parts, rtol=1e-5, atol=1e-5)
    assert not torch.allclose(whole[0], whole[1])
