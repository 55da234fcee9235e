"""REPA-E's VAE: the official End2End-Diffusion/REPA-E models/autoencoder.py (@3ad8046) against
our diffusers AutoencoderKL path (the format the authors release the E2E-VAEs in).

Fixture (scripts/official_fixtures/repa_e.py): a tiny seeded official f8d4-layout autoencoder run
on two real photos; the same weights converted by diffusers' convert_ldm_vae_checkpoint, loaded
here through vae.build's store path."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
import torch

pytest.importorskip("diffusers", reason="diffusers (evalkit[vae]) is not installed")

from evalkit import store  # noqa: E402
from evalkit.models import vae  # noqa: E402

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"


def test_outputs_equal_the_official_repa_e_autoencoder(tmp_path: Path) -> None:
    shutil.copytree(FIXTURES / "repa_e_tiny", tmp_path / "weights" / "repa-e-sdvae")
    store.set_store([tmp_path])
    try:
        tok = vae.build("repa-e-sdvae")
    finally:
        store.set_store(None)
    out = np.load(FIXTURES / "repa_e_official.npz")
    x = torch.from_numpy(out["photos_uint8"]).permute(0, 3, 1, 2).float() / 255.0
    z = tok.encode(x)  # the posterior mode, unscaled (REPA-E's latents before its BN stats)
    torch.testing.assert_close(z, torch.from_numpy(out["mean"]), atol=1e-4, rtol=0)
    decoded = tok.decode(torch.from_numpy(out["mean"]))
    want = ((torch.from_numpy(out["decoded"]) + 1) / 2).clamp(0, 1)
    torch.testing.assert_close(decoded, want, atol=1e-4, rtol=0)


def test_cards_say_where_the_hub_ids_come_from() -> None:
    sd, flux = vae.card("repa-e-sdvae"), vae.card("repa-e-flux")
    assert "not read from REPA-E itself" in sd.extra["hub_id_source"]
    assert "third-party code loads it" in sd.extra["hub_id_source"]
    assert flux.extra["hub_id_source"].startswith("end2end-diffusion.github.io")
    assert sd.extra["latents"].startswith("raw posterior mode") and flux.latent_channels == 16
