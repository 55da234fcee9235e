"""var-vqvae against the official VAR VQVAE (FoundationVision/VAR at the fixture's commit): the
same seeded random weights, saved as the release's plain state dict and loaded through
``var_vqvae.build(weights_path=...)``, give the official tokens exactly and its decodes to a stated
tolerance (fixture recorded by ``scripts/record_official_fixtures.py var_vqvae``)."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
import torch

from evalkit import store
from evalkit.models import var_vqvae
from evalkit.models.var_vqvae_arch import VarVQVAE
from evalkit.models.weights import seeded_state_dict
from evalkit.rate import BPP, sample_rates
from tests.models.index_parity import check_index_outputs, fixture_images, run_recon

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
OFFICIAL = json.loads((FIXTURES / "var_vqvae_official.json").read_text())
ARRAYS = np.load(FIXTURES / "var_vqvae_official.npz")
# float32 CPU kernels in another order than the official modules': measured at most 3.7e-5 on
# the unclamped decodes (values up to a few units), see var_vqvae.PARITY
FEATURE_ATOL = 1e-4
DECODE_ATOL = 1e-4


def _official_checkpoint(variant: str, tmp_path: Path) -> Path:
    """The recorded seeded weights, saved the way the release is (torch.save of a state dict)."""
    rec = OFFICIAL["models"][variant]
    path = tmp_path / f"{variant}.pth"
    torch.save(seeded_state_dict(rec["state_dict"], OFFICIAL["seed"]), path)
    return path


def test_tiny_tokens_and_decodes_match_the_official_vqvae(tmp_path: Path) -> None:
    path = _official_checkpoint("tiny", tmp_path)
    tok = var_vqvae.build(tiny=True, weights_path=str(path))
    check_index_outputs(tok, ARRAYS, "tiny", DECODE_ATOL)
    with torch.no_grad():
        features = tok.net.encode_features(2 * fixture_images(ARRAYS, "tiny") - 1)
    official = torch.from_numpy(ARRAYS["tiny.features"])
    assert float((features - official).abs().max()) < FEATURE_ATOL


@pytest.mark.slow
def test_released_config_tokens_and_decode_match_the_official_vqvae(tmp_path: Path) -> None:
    """The full 109M-parameter network at 256 x 256 (about a minute on two shared cores)."""
    path = _official_checkpoint("real", tmp_path)
    tok = var_vqvae.build(weights_path=str(path))
    assert tok.card.id == "var-vqvae" and "random" not in tok.card.description
    check_index_outputs(tok, ARRAYS, "real", DECODE_ATOL)


@pytest.mark.slow
def test_recon_run_with_an_official_layout_checkpoint(tmp_path: Path) -> None:
    rows = run_recon("var-vqvae", _official_checkpoint("real", tmp_path), tmp_path / "runs")
    assert (
        rows.loc["bpp", "value"] == pytest.approx(680 * 12 / 256**2) and rows.loc["psnr", "n"] == 2
    )
    assert 5 < rows.loc["psnr", "value"] < 60 and 0 < rows.loc["ssim", "value"] < 1


def test_released_config_has_the_official_names_and_shapes() -> None:
    rec = OFFICIAL["models"]["real"]
    assert rec["config"]["v_patch_nums"] == list(var_vqvae.CONFIG.patch_nums)
    assert rec["config"]["vocab_size"] == var_vqvae.CONFIG.vocab_size
    expected = {k: tuple(v) for k, v in rec["state_dict"].items()}
    assert len(expected) == rec["num_tensors"]
    with torch.device("meta"):
        net = VarVQVAE(var_vqvae.CONFIG)
    ours = {k: tuple(v.shape) for k, v in net.state_dict().items()}
    assert list(ours.items()) == list(expected.items())  # names, shapes and order
    assert sum(math.prod(s) for s in ours.values()) == rec["num_parameters"]


def test_fixture_names_its_source() -> None:
    assert OFFICIAL["source_commit"] == var_vqvae.SOURCE_COMMIT
    assert OFFICIAL["source_repo"] == var_vqvae.SOURCE_REPO
    assert "record_official_fixtures.py var_vqvae" in OFFICIAL["command"]
    assert ARRAYS["real.tokens"].shape == (1, var_vqvae.CONFIG.num_tokens) == (1, 680)


def test_checkpoint_with_a_wrong_name_is_refused(tmp_path: Path) -> None:
    sd = seeded_state_dict(OFFICIAL["models"]["tiny"]["state_dict"], 1)
    sd["quantize.embed"] = sd.pop("quantize.embedding.weight")
    path = tmp_path / "bad.pth"
    torch.save(sd, path)
    with pytest.raises(RuntimeError, match="quantize.embedding.weight"):
        var_vqvae.build(tiny=True, weights_path=str(path))
    torch.save({"model": sd}, path)  # not the release's layout (a plain state dict)
    with pytest.raises(ValueError, match="not a dict of tensors"):
        var_vqvae.build(tiny=True, weights_path=str(path))


def test_random_tiny_model_range_sizes_and_determinism() -> None:
    tok = var_vqvae.build(random_init=True, tiny=True, seed=3)
    x = torch.rand(2, 3, 128, 128, generator=torch.Generator().manual_seed(0))
    codes = tok.encode(x)
    ids = tok.token_ids(codes)
    assert ids is not None and ids.shape == (2, 155) and ids.dtype == torch.int64
    assert [t.shape[1] for t in codes.indices] == [
        p * p for p in var_vqvae.tiny_config().patch_nums
    ]
    assert int(ids.min()) >= 0 and int(ids.max()) < 64
    y = tok.decode(codes)
    assert y.shape == x.shape and float(y.min()) >= 0 and float(y.max()) <= 1
    assert torch.equal(y, tok.reconstruct(x))
    assert not torch.equal(y, var_vqvae.build(random_init=True, tiny=True, seed=4).reconstruct(x))
    with pytest.raises(ValueError, match="128 x 128 images only"):
        tok.encode(torch.rand(1, 3, 256, 256))
    with pytest.raises(ValueError, match="unknown options"):
        var_vqvae.build(random_init=True, tiny=True, resolution=512)
    with pytest.raises(ValueError, match="tiny=True needs"):
        var_vqvae.build(tiny=True)


def test_card_rate_and_missing_weights_message(empty_store: Path) -> None:
    c = var_vqvae.card()
    assert (c.num_tokens, c.codebook_size, c.resolution, c.discrete) == (680, 4096, 256, True)
    assert c.extra["published_rfid"] == 0.90 and "UniTok" in c.extra["published_rfid_source"]
    metric, rates = sample_rates(object(), c, 256, 256, 2)
    assert metric == BPP and rates == [680 * 12 / 256**2] * 2
    with pytest.raises(store.MissingAssetError) as err:
        var_vqvae.build()
    msg = str(err.value)
    assert var_vqvae.HUB_ID in msg and var_vqvae.FILENAME in msg
    assert "evalkit fetch --model var-vqvae" in msg
