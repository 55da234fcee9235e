"""Weights provenance: pins enforced on download, rows name the file loaded and its sha256."""

from __future__ import annotations

import hashlib
import subprocess
from pathlib import Path

import pytest
import torch

import evalkit
from evalkit import runner, store
from evalkit.types import WeightsFile
from tests.support import needs_store


@pytest.fixture
def online_store(tmp_path, monkeypatch):
    """An empty store and cache, network 'on' but faked: _fetch writes a known file."""
    monkeypatch.delenv("EVALKIT_OFFLINE", raising=False)
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.setenv("EVALKIT_CACHE_DIR", str(tmp_path / "cache"))
    store.set_store([tmp_path / "store"])
    calls: list[str] = []

    def fake_fetch(wf: WeightsFile) -> Path:
        calls.append(wf.describe())
        out = tmp_path / f"dl-{len(calls)}"
        out.write_bytes(b"downloaded bytes")
        return out

    monkeypatch.setattr(store, "_fetch", fake_fetch)
    yield calls
    store.set_store(None)


def test_unpinned_download_refused_unless_allowed(online_store):
    wf = WeightsFile("model.safetensors", hub_id="org/repo", store_path="weights/m/x")
    with pytest.raises(store.UnpinnedDownloadError, match="--allow-unpinned"):
        store.resolve(wf)
    assert online_store == []  # refused before any network access
    with store.allowing_unpinned():
        path = store.resolve(wf)
    assert online_store == ["org/repo/model.safetensors"]
    assert path.read_bytes() == b"downloaded bytes"
    assert store.resolve(wf) == path  # now local: used without the flag, and without a download


def test_git_blob_pin_verified(online_store, tmp_path):
    f = tmp_path / "x.bin"
    f.write_bytes(b"downloaded bytes")
    blob = subprocess.run(
        ["git", "hash-object", str(f)], capture_output=True, text=True, check=True
    ).stdout.strip()
    assert store.git_blob_sha1(f) == blob  # the id git itself computes
    good = WeightsFile("a.pth", url="https://example.invalid/a.pth", git_blob=blob)
    assert store.resolve(good).read_bytes() == b"downloaded bytes"  # pinned: no flag needed
    bad = WeightsFile("b.pth", url="https://example.invalid/b.pth", git_blob="0" * 40)
    with pytest.raises(store.ChecksumError, match="git blob"):
        store.resolve(bad)


def test_every_taesd_file_is_pinned_and_unpinned_cards_say_so():
    from evalkit.models import taesd, titok, vae

    for model_id in taesd.VARIANTS:
        for wf in taesd.card(model_id).weights:
            assert store.is_pinned(wf), wf
    for mod in (titok, vae):
        for model_id in mod.VARIANTS:
            c = mod.card(model_id)
            assert not any(store.is_pinned(w) for w in c.weights)
            assert "--allow-unpinned" in c.extra["weights_pin"]


def test_run_refuses_unpinned_download_and_flag_lifts_it(online_store, tmp_path):
    with pytest.raises(store.UnpinnedDownloadError):
        evalkit.run("recon", "titok-l32", options={"limit": 1}, out_dir=tmp_path / "o")
    assert online_store == []
    with pytest.raises(Exception) as err:  # the fake file is no checkpoint: loading fails after
        evalkit.run(
            "recon", "titok-l32", options={"limit": 1}, out_dir=tmp_path / "o", allow_unpinned=True
        )
    assert not isinstance(err.value, store.UnpinnedDownloadError)
    assert online_store == [
        "yucornetto/tokenizer_titok_l32_imagenet@"
        "1c9a2084c59112fd415b7ed97d4c200e864a95de/model.safetensors"
    ]
    card = runner.loaded_card("titok-l32", runner.model_card("titok-l32"), {})
    sha = hashlib.sha256(b"downloaded bytes").hexdigest()
    assert card.weights_id() == f"model.safetensors (unpinned):{sha}"


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
