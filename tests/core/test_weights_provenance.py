"""Weights provenance: pins enforced on download, rows name the file loaded and its sha256."""

from __future__ import annotations

import hashlib
from pathlib import Path

import torch

import evalkit
from evalkit import store
from tests.support import needs_store


def test_every_taesd_file_is_pinned_and_unpinned_cards_say_so():
    from evalkit.models import taesd, titok, vae

    for model_id in taesd.VARIANTS:
        for wf in taesd.card(model_id).weights:
            assert store.is_pinned(wf), wf
    for mod in (titok, vae):
        for model_id in mod.VARIANTS:
            c = mod.card(model_id)
            assert not any(store.is_pinned(w) for w in c.weights)
            assert "first use" in c.extra["weights_pin"]  # what a download is checked against


def test_cli_has_allow_unpinned():
    from typer.testing import CliRunner

    from evalkit.cli import app

    out = CliRunner().invoke(app, ["run", "--help"], terminal_width=200).output
    assert "--allow-unpinned" in out


def test_override_paths_name_the_file_and_its_sha256(tmp_path):
    from evalkit.models.taesd import TinyAutoencoder

    torch.manual_seed(0)
    net = TinyAutoencoder(4)
    enc, dec = tmp_path / "my_enc.pth", tmp_path / "my_dec.pth"
    torch.save(net.encoder.state_dict(), enc)
    torch.save(net.decoder.state_dict(), dec)
    result = evalkit.run(
        "recon",
        "taesd",
        options={"limit": 1, "resolution": 32},
        workers=0,
        model_options={"encoder_path": str(enc), "decoder_path": str(dec)},
        out_dir=tmp_path / "o",
    )
    weights = result.rows["weights"].iloc[0]
    for f in (enc, dec):
        assert f"{f.resolve()}:{hashlib.sha256(f.read_bytes()).hexdigest()}" in weights
    assert "taesd_encoder.pth" not in weights  # never the card's identity


@needs_store
def test_rows_record_sha256_of_the_store_file(tmp_path):
    from tests.support import SHARED_OFFLINE

    result = evalkit.run(
        "recon", "taef2", options={"limit": 1, "resolution": 64}, workers=0, out_dir=tmp_path / "o"
    )
    weights = result.rows["weights"].iloc[0]
    for part in ("encoder", "decoder"):
        f = Path(SHARED_OFFLINE) / "weights" / "taef2" / f"taef2_{part}.pth"
        assert f"taef2_{part}.pth:{hashlib.sha256(f.read_bytes()).hexdigest()}" in weights
