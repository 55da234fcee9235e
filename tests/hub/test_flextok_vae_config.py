"""FlexTok's VAE scaling factor on the connected path: a checkpoint whose config names the VAE's
Hub repository but no scaling factor takes it from that repository's config.json (as the official
``StableDiffusionVAE`` does), fetched and verified like any weights file; another repository is
refused by name."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from evalkit.models import flextok

pytest.importorskip("torch")
pytest.importorskip("diffusers")


def _checkpoint(tmp_path: Path, vae: dict) -> bytes:
    from safetensors.torch import save_file

    net = flextok.build("flextok-d18-d28", random_init=True, tiny=True).net
    meta = {"vae": str(vae), "regularizer": str({"levels": [8, 8, 8, 5, 5, 5]})}
    path = tmp_path / "model.safetensors"
    save_file({k: v.contiguous() for k, v in net.state_dict().items()}, str(path), metadata=meta)
    return path.read_bytes()


def test_scaling_factor_comes_from_the_vae_repositorys_config(local_hub, tmp_path: Path) -> None:
    vae = {"hf_hub_path": flextok.VAE_HUB_ID, "latent_channels": 16}
    local_hub.add_repo(flextok.HUB_ID, {"model.safetensors": _checkpoint(tmp_path, vae)})
    config = {"_class_name": "AutoencoderKL", "scaling_factor": 0.6}
    local_hub.add_repo(flextok.VAE_HUB_ID, {"config.json": json.dumps(config).encode()})
    tok = flextok.build("flextok-d18-d28", arch=flextok.TINY)
    assert tok.net.cfg.vae_scaling_factor == 0.6


def test_a_vae_from_another_repository_is_refused_by_name(local_hub, tmp_path: Path) -> None:
    vae = {"hf_hub_path": "someone/other-vae", "latent_channels": 16}
    local_hub.add_repo(flextok.HUB_ID, {"model.safetensors": _checkpoint(tmp_path, vae)})
    with pytest.raises(RuntimeError, match="someone/other-vae.*vae_scaling_factor"):
        flextok.build("flextok-d18-d28", arch=flextok.TINY)
