"""TiTok family: tiny random models of the real architecture, official key names and shapes."""

from __future__ import annotations

import io
import json
import math
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import torch

from evalkit import store
from evalkit.models import titok
from evalkit.models.titok_arch import TiTokNet
from evalkit.models.titok_config import TiTokConfig

IDS = sorted(titok.VARIANTS)
FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"


@pytest.mark.parametrize("model_id", IDS)
def test_tiny_random_shapes_range_determinism(model_id: str) -> None:
    tok = titok.build(model_id, random_init=True, tiny=True, seed=3)
    cfg = tok.net.cfg
    x = torch.rand(3, 3, cfg.image_size, cfg.image_size, generator=torch.Generator().manual_seed(0))
    codes = tok.encode(x)
    n = cfg.num_latent_tokens
    if cfg.quantize_mode == "vq":
        assert codes.discrete and codes.tokens.shape == (3, 1, n)
        assert codes.tokens.dtype == torch.int64
        assert int(codes.tokens.min()) >= 0 and int(codes.tokens.max()) < (cfg.codebook_size or 0)
        ids = tok.token_ids(codes)
        assert ids is not None and ids.shape == (3, n)
    else:
        assert not codes.discrete and codes.tokens.shape == (3, cfg.token_size, 1, n)
        assert tok.token_ids(codes) is None
    y = tok.decode(codes)
    assert y.shape == x.shape and y.dtype == torch.float32
    assert float(y.min()) >= 0.0 and float(y.max()) <= 1.0
    # deterministic: same input, same codes and image; the seed fixes the weights
    again = tok.encode(x)
    assert torch.equal(codes.tokens, again.tokens)
    assert torch.equal(y, tok.reconstruct(x))
    other = titok.build(model_id, random_init=True, tiny=True, seed=4)
    assert not torch.equal(y, other.reconstruct(x))
    # wrong input size is refused with a clear message
    with pytest.raises(ValueError, match="takes"):
        tok.encode(torch.rand(1, 3, cfg.image_size + 8, cfg.image_size))


@pytest.mark.parametrize("model_id", IDS)
def test_tiny_random_save_strict_load_round_trip(model_id: str, tmp_path: Path) -> None:
    tok = titok.build(model_id, random_init=True, tiny=True, seed=5)
    path = tmp_path / "model.safetensors"
    from safetensors.torch import save_file

    save_file({k: v.contiguous() for k, v in tok.net.state_dict().items()}, str(path))
    cfg = tok.net.cfg
    fresh = TiTokNet(cfg)
    fresh.load_state_dict(titok.load_state_dict(path), strict=True)
    loaded = titok.TiTokTokenizer(tok.card, fresh, posterior="sample", seed=tok.seed)
    x = torch.rand(2, 3, cfg.image_size, cfg.image_size)
    assert torch.equal(tok.reconstruct(x), loaded.reconstruct(x))
    # .bin through torch.load(weights_only=True) too
    buf = tmp_path / "model.bin"
    torch.save(tok.net.state_dict(), buf)
    assert set(titok.load_state_dict(buf)) == set(tok.net.state_dict())
    # a missing key is refused
    sd = dict(tok.net.state_dict())
    sd.pop("latent_tokens")
    with pytest.raises(RuntimeError, match="Missing key"):
        TiTokNet(cfg).load_state_dict(sd, strict=True)


def test_vae_posterior_sample_and_mode() -> None:
    tok = titok.build("titok-bl64-vae", random_init=True, tiny=True, seed=0)
    x = torch.rand(2, 3, 32, 32)
    with torch.no_grad():  # the same attention kernels as encode() uses
        z = tok.net.encode_features(x)
    mean, std = tok.net.posterior(z)
    seeds = [11, 12]  # what the runner passes: one seed per sample
    sampled = tok.encode(x, seeds).tokens
    assert not torch.equal(sampled, mean)  # the official default samples
    # the noise is exactly (sample - mean) / std: each row a standard normal from its own seed
    expected = torch.stack(
        [torch.randn(mean.shape[1:], generator=torch.Generator().manual_seed(s)) for s in seeds]
    )
    torch.testing.assert_close((sampled - mean) / std, expected, rtol=1e-4, atol=1e-4)
    one = tok.encode(x[1:], seeds[1:]).tokens  # batch-independent
    torch.testing.assert_close(one, sampled[1:], rtol=1e-4, atol=1e-4)
    mode = titok.build("titok-bl64-vae", random_init=True, tiny=True, seed=0, posterior="mode")
    assert torch.equal(mode.encode(x).tokens, mean)


def test_vq_indices_are_nearest_codes() -> None:
    """Brute force: every index is the argmin of the (normalised) Euclidean distance."""
    for model_id in ("titok-l32", "titok-bl64-vq"):  # with and without l2 normalisation
        tok = titok.build(model_id, random_init=True, tiny=True, seed=0)
        x = torch.rand(2, 3, 32, 32)
        with torch.no_grad():
            z = tok.net.encode_features(x)  # B, C, 1, N
        vecs = z[:, :, 0, :].permute(0, 2, 1).reshape(-1, z.shape[1])
        codes = tok.net.quantize.embedding.weight
        if tok.net.cfg.use_l2_norm:
            vecs = torch.nn.functional.normalize(vecs, dim=-1)
            codes = torch.nn.functional.normalize(codes, dim=-1)
        brute = torch.cdist(vecs, codes).argmin(1).reshape(2, 1, -1)
        assert torch.equal(tok.encode(x).tokens, brute)


# --- official key names and shapes, full size ---------------------------------------------------

# Recorded from the official TiTok(config) of bytedance/1d-tokenizer (random weights, CPU) by
# scripts/record_official_fixtures.py; its header says which commit and command.
OFFICIAL = json.loads((FIXTURES / "titok_official_state_dicts.json").read_text())


def test_fixture_covers_every_variant_and_names_its_source() -> None:
    assert set(OFFICIAL["models"]) == set(IDS)
    assert OFFICIAL["source_commit"] == titok.SOURCE_COMMIT
    assert "record_official_fixtures.py titok" in OFFICIAL["command"]
    for model_id, rec in OFFICIAL["models"].items():
        name = titok.VARIANTS[model_id].official_config
        assert rec["official_config"] == f"configs/infer/TiTok/{name}.yaml"


@pytest.mark.parametrize("model_id", IDS)
def test_official_state_dict_loads_strictly(model_id: str) -> None:
    rec = OFFICIAL["models"][model_id]
    expected = {k: tuple(v) for k, v in rec["state_dict"].items()}
    assert len(expected) == rec["num_tensors"]
    with torch.device("meta"):
        net = TiTokNet(titok.VARIANTS[model_id].config)
    ours = {k: tuple(v.shape) for k, v in net.state_dict().items()}
    assert set(ours) == set(expected), sorted(set(ours) ^ set(expected))[:10]
    wrong = {k: (ours[k], expected[k]) for k in expected if ours[k] != expected[k]}
    assert not wrong, list(wrong.items())[:10]
    assert list(ours) == list(expected)  # same order too: same module structure
    assert sum(math.prod(s) for s in ours.values()) == rec["num_parameters"]
    # a state dict with exactly the official names and shapes loads strictly into our model
    fake = {k: torch.empty(s, device="meta") for k, s in expected.items()}
    result = net.load_state_dict(fake, strict=True, assign=True)
    assert not result.missing_keys and not result.unexpected_keys


def test_build_loads_a_checkpoint_file_strictly(tmp_path: Path) -> None:
    """The real loading path (file -> meta model -> assign) with a tiny legacy checkpoint."""
    tok = titok.build("titok-s128", random_init=True, tiny=True, seed=7)
    path = tmp_path / "ckpt.bin"
    torch.save(tok.net.state_dict(), path)
    cfg = tok.net.cfg
    with torch.device("meta"):
        net = TiTokNet(cfg)
    net.load_state_dict(titok.load_state_dict(path), strict=True, assign=True)
    x = torch.rand(1, 3, cfg.image_size, cfg.image_size)
    again = titok.TiTokTokenizer(tok.card, net.float())
    assert torch.equal(again.reconstruct(x), tok.reconstruct(x))
    bad = dict(tok.net.state_dict())
    bad["quantize.embed_prob"] = torch.zeros(cfg.codebook_size or 1)
    buf = io.BytesIO()
    torch.save(bad, buf)
    buf.seek(0)
    with pytest.raises(RuntimeError, match="Unexpected key"):
        TiTokNet(cfg).load_state_dict(torch.load(buf, weights_only=True), strict=True)


@pytest.mark.parametrize("model_id", IDS)
def test_card_and_missing_checkpoint_message(model_id: str, empty_store: Path) -> None:
    c = titok.card(model_id)
    v = titok.VARIANTS[model_id]
    assert c.family == "titok" and c.resolution == 256
    assert c.num_tokens == v.config.num_latent_tokens
    assert c.discrete is (v.config.quantize_mode == "vq")
    assert c.compression == f"1D-{v.config.num_latent_tokens}"
    wf = c.weights[0]
    assert wf.hub_id == v.hub_id and wf.hub_id.startswith("yucornetto/tokenizer_titok_")
    with pytest.raises(store.MissingAssetError) as err:
        titok.build(model_id)
    msg = str(err.value)
    assert v.hub_id in msg and titok.HUB_FILENAME in msg
    assert str(empty_store / "weights" / model_id / titok.HUB_FILENAME) in msg
    assert f"evalkit fetch --model {model_id} --store <store>" in msg  # the one command
    assert f"hf download {v.hub_id} {titok.HUB_FILENAME}" in msg  # or by hand


def test_unknown_options_are_refused() -> None:
    with pytest.raises(ValueError, match="unknown options"):
        titok.build("titok-l32", random_init=True, tiny=True, resolution=512)
    with pytest.raises(ValueError, match="posterior"):
        titok.build("titok-bl64-vae", random_init=True, tiny=True, posterior="median")
    assert replace(titok.tiny_config("titok-l32"), legacy=True).legacy


def test_l32_parameter_count_matches_the_published_checkpoint_size() -> None:
    """fun-research/TiTok tokenizer_titok_l32.bin (fp32 pickle) is 2,564,477,610 bytes (a third
    party's record, see titok.FALLBACK_L32); our L32 network must hold just under bytes / 4
    parameters, the rest being pickle overhead (a few hundred bytes per tensor)."""
    rec = OFFICIAL["models"]["titok-l32"]  # the official model's own count (see the fixture)
    with torch.device("meta"):
        net = TiTokNet(titok.VARIANTS["titok-l32"].config)
    sd = net.state_dict()
    params = sum(t.numel() for t in sd.values())
    assert params == rec["num_parameters"]
    overhead = 2_564_477_610 - 4 * params
    assert 0 < overhead < 1000 * len(sd), overhead


# --- output parity with the official TiTok ----------------------------------------------------

# Recorded by `scripts/record_official_fixtures.py titok --only outputs`: the official TiTok(config)
# of each variant's released config narrowed to ViT-S, 16 latent tokens, 64 px (header: commit,
# overrides), with seeded_state_dict weights, on three scikit-image photos.
OUTPUTS = json.loads((FIXTURES / "titok_official_outputs.json").read_text())
OUTPUT_IDS = sorted(OUTPUTS["models"])
FEATURES_ATOL = 1e-4  # stated tolerances, float32 CPU (measured figures in the report)
RECON_ATOL = 1e-4


def _narrowed(model_id: str) -> TiTokConfig:
    """Our config for the official config + the fixture's overrides."""
    o = OUTPUTS["models"][model_id]["overrides"]
    c = titok.VARIANTS[model_id].config
    cfg = TiTokConfig.official(
        o["model.vq_model.vit_enc_model_size"],
        o["model.vq_model.vit_dec_model_size"],
        o["model.vq_model.num_latent_tokens"],
        c.token_size,
        c.quantize_mode,
        c.codebook_size,
        c.use_l2_norm,
        c.legacy,
    )
    return replace(cfg, image_size=o["dataset.preprocessing.crop_size"])


def test_output_fixture_covers_vq_legacy_and_vae_and_names_its_source() -> None:
    assert OUTPUTS["source_commit"] == titok.SOURCE_COMMIT
    assert "--only outputs" in OUTPUTS["command"]
    kinds = {OUTPUTS["models"][m]["kind"] for m in OUTPUT_IDS}
    assert kinds == {"legacy VQ", "VQ", "VAE"}
    for m in OUTPUT_IDS:  # same config file as the key/shape fixture, only the overrides differ
        assert OUTPUTS["models"][m]["official_config"] == OFFICIAL["models"][m]["official_config"]


@pytest.mark.parametrize("model_id", OUTPUT_IDS)
def test_outputs_match_the_official_code(model_id: str, tmp_path: Path) -> None:
    from evalkit.models.weights import seeded_state_dict

    rec = OUTPUTS["models"][model_id]
    arrays = np.load(FIXTURES / "titok_official_outputs.npz")
    sd = seeded_state_dict(rec["state_dict"], OUTPUTS["seed"])
    path = tmp_path / "model.bin"
    torch.save(sd, path)
    cfg = _narrowed(model_id)
    tok = titok.TiTokTokenizer(titok.card(model_id), titok.load_net(cfg, path), posterior="mode")
    assert list(tok.net.state_dict()) == list(rec["state_dict"])  # official names, same order
    x = torch.from_numpy(arrays["images"]).permute(0, 3, 1, 2).float() / 255.0
    with torch.no_grad():
        z = tok.net.encode_features(x)
        codes = tok.encode(x)
        raw = tok.net.decode_features(
            tok.net.lookup(codes.tokens) if codes.discrete else codes.tokens
        )
    torch.testing.assert_close(
        z, torch.from_numpy(arrays[f"{model_id}.features"]), rtol=0, atol=FEATURES_ATOL
    )
    if codes.discrete:
        expected = arrays[f"{model_id}.tokens"]
        assert codes.tokens.shape == expected.shape
        assert (codes.tokens.numpy() == expected).all()  # every token
        assert len(np.unique(expected)) > 3
    else:
        mean, std = tok.net.posterior(z)
        for ours, name in ((mean, "mean"), (std, "std")):
            official = torch.from_numpy(arrays[f"{model_id}.{name}"])
            torch.testing.assert_close(ours, official, rtol=0, atol=FEATURES_ATOL)
        assert torch.equal(codes.tokens, mean)  # posterior="mode"
    official = torch.from_numpy(arrays[f"{model_id}.reconstruction"])
    torch.testing.assert_close(raw, official, rtol=0, atol=RECON_ATOL)
    assert float(official.std()) > 0.05  # not a flat image: the comparison says something
    torch.testing.assert_close(tok.decode(codes), official.clamp(0, 1), rtol=0, atol=RECON_ATOL)
