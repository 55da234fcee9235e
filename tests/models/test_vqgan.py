"""VQGAN-style tokenizers (taming VQGAN, MaskGIT-VQGAN, LlamaGen VQ): output parity with the
official code, official key names, checkpoint unpacking, cards.

The fixtures were recorded by ``scripts/record_official_fixtures.py {vqgan,maskgit_vqgan,
llamagen_vq}`` from the official repositories (commits in their headers) with
``seeded_state_dict`` weights; the tests regenerate the same weights from the recorded names,
shapes and seed, write them in the official checkpoint format and load them through ``build``.
"""

from __future__ import annotations

import argparse
import json
import math
from pathlib import Path

import numpy as np
import pytest
import torch

from evalkit import rate, store
from evalkit.models import vqgan
from evalkit.models.vqgan_arch import ConvVQNet
from evalkit.models.weights import seeded_state_dict

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
IDS = sorted(vqgan.VARIANTS)
STEM = {
    "vqgan-f16-16384": "vqgan_official",
    "maskgit-vqgan": "maskgit_vqgan_official",
    "llamagen-vq-ds16": "llamagen_vq_official",
    "llamagen-vq-ds8": "llamagen_vq_official",
}
# Stated tolerances (our network vs the official one, same weights, float32 CPU). Measured: 0.
FEATURES_ATOL = 1e-5
RECON_ATOL = 1e-4


def _fixture(model_id: str) -> tuple[dict, np.lib.npyio.NpzFile]:
    stem = STEM[model_id]
    return json.loads((FIXTURES / f"{stem}.json").read_text()), np.load(FIXTURES / f"{stem}.npz")


def _prefix(model_id: str, variant: str) -> str:
    return f"{model_id}.{variant}" if model_id.startswith("llamagen") else variant


def _official_file(model_id: str, sd: dict[str, torch.Tensor], path: Path) -> Path:
    """``sd`` in the official file format: taming's Lightning checkpoint (with its training
    loss and a pickled config object), LlamaGen's training dict, MaskGIT's plain state dict."""
    family = vqgan.VARIANTS[model_id].family
    if family == "taming-vqgan":
        loss = {"loss.discriminator.main.0.weight": torch.zeros(2, 3, 4, 4)}
        obj = {"state_dict": {**sd, **loss}, "hparams": argparse.Namespace(n_embed=16384)}
    elif family == "llamagen-vq":
        obj = {"model": sd, "steps": 1, "args": argparse.Namespace(vq_model="VQ-16")}
    else:
        obj = sd
    torch.save(obj, path)
    return path


def _run_parity(model_id: str, variant: str, tmp_path: Path) -> dict[str, float]:
    meta, arrays = _fixture(model_id)
    p = _prefix(model_id, variant)
    rec = meta["models"][p]
    sd = seeded_state_dict(rec["state_dict"], meta["seed"])
    path = _official_file(model_id, sd, tmp_path / "official.ckpt")
    tok = vqgan.build(model_id, tiny=variant == "tiny", weights_path=str(path))
    images = torch.from_numpy(arrays["images"]).permute(0, 3, 1, 2).float() / 255.0
    signed = vqgan.VARIANTS[model_id].signed
    with torch.no_grad():
        z = tok.net.encode_features(2 * images - 1 if signed else images)
        codes = tok.encode(images)
        raw = tok.net.decode_features(tok.net.lookup(codes.tokens))
        out = tok.decode(codes)
    expected_tokens = arrays[f"{p}.tokens"]
    assert codes.tokens.shape == expected_tokens.shape
    agreement = float((codes.tokens.numpy() == expected_tokens).mean())
    assert agreement == 1.0, f"token agreement {agreement}"
    expected = torch.from_numpy(arrays[f"{p}.reconstruction"])
    n = expected.shape[0]  # the real configs keep the first photo's reconstruction only
    recon_diff = float((raw[:n] - expected).abs().max())
    assert recon_diff <= RECON_ATOL
    # the adapter's output is the official reconstruction mapped to [0, 1] and clamped
    mapped = (expected.clamp(-1, 1) + 1) / 2 if signed else expected.clamp(0, 1)
    torch.testing.assert_close(out[:n], mapped, rtol=0, atol=RECON_ATOL)
    figures = {"tokens_agree": agreement, "recon_max_abs": recon_diff}
    if f"{p}.features" in arrays:
        feat = torch.from_numpy(arrays[f"{p}.features"])
        figures["features_max_abs"] = float((z - feat).abs().max())
        assert figures["features_max_abs"] <= FEATURES_ATOL
    # the parity is not vacuous: several distinct codes, an image that is not flat
    assert len(np.unique(expected_tokens)) > 3 and float(expected.std()) > 0.05
    return figures


@pytest.mark.parametrize("model_id", IDS)
def test_narrow_network_matches_the_official_code(model_id: str, tmp_path: Path) -> None:
    _run_parity(model_id, "tiny", tmp_path)


@pytest.mark.slow
@pytest.mark.parametrize("model_id", IDS)
def test_real_network_matches_the_official_code(model_id: str, tmp_path: Path) -> None:
    _run_parity(model_id, "real", tmp_path)


@pytest.mark.parametrize("model_id", IDS)
def test_fixture_names_its_source_and_our_commit_matches(model_id: str) -> None:
    meta, _ = _fixture(model_id)
    source = vqgan.VARIANTS[model_id].source
    assert meta["source_repo"] == source.repo
    assert meta["source_commit"] == source.commit
    assert "record_official_fixtures.py" in meta["command"]


@pytest.mark.parametrize("model_id", IDS)
@pytest.mark.parametrize("variant", ["real", "tiny"])
def test_official_key_names_and_shapes(model_id: str, variant: str) -> None:
    """Our network's state dict has exactly the official names and shapes (the real config in
    full), less only the training-time keys the loader drops."""
    meta, _ = _fixture(model_id)
    rec = meta["models"][_prefix(model_id, variant)]
    official = {k: tuple(s) for k, s in rec["state_dict"].items()}
    assert len(official) == rec["num_tensors"]
    cfg = vqgan.tiny_config(model_id) if variant == "tiny" else vqgan.VARIANTS[model_id].config
    with torch.device("meta"):
        net = ConvVQNet(cfg)
    ours = {k: tuple(t.shape) for k, t in net.state_dict().items()}
    dropped = set(official) - set(ours)
    assert dropped == {k for k in official if k.startswith(vqgan.VARIANTS[model_id].training_only)}
    assert not set(ours) - set(official), sorted(set(ours) - set(official))[:5]
    assert {k: official[k] for k in ours} == ours
    if variant == "real":
        n = sum(math.prod(s) for k, s in official.items() if k not in dropped)
        assert sum(math.prod(s) for s in ours.values()) == n


def test_checkpoint_unpacking() -> None:
    sd = {"encoder.conv_in.weight": torch.zeros(1)}
    ema = {"encoder.conv_in.weight": torch.ones(1), "quantize.codebook_used": torch.zeros(3)}
    got = vqgan.official_state_dict("llamagen-vq-ds16", {"model": sd, "ema": ema})
    assert list(got) == ["encoder.conv_in.weight"] and float(got["encoder.conv_in.weight"]) == 1
    lightning = {"state_dict": {**sd, "loss.logvar": torch.zeros(())}, "epoch": 3}
    assert list(vqgan.official_state_dict("vqgan-f16-16384", lightning)) == list(sd)
    assert vqgan.official_state_dict("vqgan-f16-16384", sd) == sd  # a plain state dict too
    with pytest.raises(ValueError, match="no state dict"):
        vqgan.official_state_dict("llamagen-vq-ds8", {"optimizer": {"lr": 1.0}})


def test_strict_load_refuses_a_missing_or_extra_key(tmp_path: Path) -> None:
    tok = vqgan.build("maskgit-vqgan", random_init=True, tiny=True)
    sd = dict(tok.net.state_dict())
    assert "decoder.up.1.upsample_conv.weight" in sd  # the official name, not ours
    extra = _official_file(
        "maskgit-vqgan", {**sd, "quantize.extra": torch.zeros(1)}, tmp_path / "a"
    )
    with pytest.raises(RuntimeError, match="Unexpected key"):
        vqgan.build("maskgit-vqgan", tiny=True, weights_path=str(extra))
    sd.pop("encoder.conv_in.weight")
    missing = _official_file("maskgit-vqgan", sd, tmp_path / "b")
    with pytest.raises(RuntimeError, match="Missing key"):
        vqgan.build("maskgit-vqgan", tiny=True, weights_path=str(missing))


@pytest.mark.parametrize("model_id", IDS)
def test_tiny_random_shapes_range_and_sizes(model_id: str) -> None:
    tok = vqgan.build(model_id, random_init=True, tiny=True, seed=1)
    f = tok.net.cfg.factor
    x = torch.rand(2, 3, 4 * f, 2 * f, generator=torch.Generator().manual_seed(0))
    codes = tok.encode(x)
    assert codes.tokens.shape == (2, 4, 2) and codes.tokens.dtype == torch.int64
    ids = tok.token_ids(codes)
    assert ids is not None and ids.shape == (2, 8) and int(ids.max()) < tok.net.cfg.codebook_size
    y = tok.reconstruct(x)
    assert y.shape == x.shape and float(y.min()) >= 0 and float(y.max()) <= 1
    assert torch.equal(y, tok.decode(tok.encode(x)))
    with pytest.raises(ValueError, match=f"divisible by {f}"):
        tok.encode(torch.rand(1, 3, f + 1, f))


@pytest.mark.parametrize("model_id", IDS)
def test_card_rate_and_missing_checkpoint_message(model_id: str, empty_store: Path) -> None:
    c = vqgan.card(model_id)
    v = vqgan.VARIANTS[model_id]
    grid = 256 // v.config.factor
    assert c.discrete and c.num_tokens == grid**2 and c.codebook_size == v.config.codebook_size
    assert c.compression == f"{v.config.factor}x" and c.resolution == 256
    assert c.extra["published_rfid"] == v.rfid and c.extra["source_commit"] == v.source.commit
    metric, per_image = rate.sample_rates(object(), c, 256, 256, 1) or ("", [0.0])
    bits = math.log2(v.config.codebook_size)
    assert metric == "bpp" and per_image[0] == pytest.approx(grid**2 * bits / 256**2)
    _, at512 = rate.sample_rates(object(), c, 512, 512, 1) or ("", [0.0])
    assert at512[0] == pytest.approx(per_image[0])  # 4x the tokens for 4x the pixels
    wf = c.weights[0]
    assert wf.sha256 is None and (wf.hub_id or wf.url)
    with pytest.raises(store.MissingAssetError) as err:
        vqgan.build(model_id)
    msg = str(err.value)
    assert wf.filename in msg and str(empty_store / "weights" / model_id / wf.filename) in msg


def test_published_rfid_rows_match_the_cards() -> None:
    import csv

    path = Path(__file__).resolve().parents[2] / "benchmarks" / "imagenet-rfid" / "reported.csv"
    rows = {r["model"]: r for r in csv.DictReader(path.open()) if r["metric"] == "rfid"}
    for model_id, v in vqgan.VARIANTS.items():
        assert float(rows[model_id]["value"]) == v.rfid and rows[model_id]["setting"] == "256"


def test_unknown_options_are_refused() -> None:
    with pytest.raises(ValueError, match="unknown options"):
        vqgan.build("llamagen-vq-ds8", random_init=True, resolution=512)
    with pytest.raises(ValueError, match="tiny=True"):
        vqgan.build("llamagen-vq-ds8", tiny=True)
