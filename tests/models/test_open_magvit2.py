"""open-magvit2-256 against the official Open-MAGVIT2 VQModel (TencentARC/SEED-Voken at the
fixture's commit, run as its evaluation_image.py does: inside ema_scope()). The test writes the
official checkpoint layout (a Lightning-style dict whose state_dict holds training weights and
model_ema.* buffers) from the fixture's seeds, loads it through ``open_magvit2.build(weights_path=
...)``, and compares tokens exactly and decodes to a stated tolerance (fixture recorded by
``scripts/record_official_fixtures.py open_magvit2``)."""

from __future__ import annotations

import argparse
import json
import math
from pathlib import Path

import numpy as np
import pytest
import torch

from evalkit import store
from evalkit.models import open_magvit2
from evalkit.models.open_magvit2_arch import OpenMagvit2
from evalkit.models.weights import seeded_state_dict
from evalkit.rate import BPP, sample_rates
from tests.models.index_parity import check_index_outputs, fixture_images, run_recon

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
OFFICIAL = json.loads((FIXTURES / "open_magvit2_official.json").read_text())
ARRAYS = np.load(FIXTURES / "open_magvit2_official.npz")
EMA = open_magvit2.EMA_PREFIX
FEATURE_ATOL = 1e-4  # float32 CPU kernels in another order: see open_magvit2.PARITY
DECODE_ATOL = 1e-4


def _checkpoint(variant: str, tmp_path: Path, *, with_ema: bool = True) -> Path:
    """The official layout: {'state_dict': ...} with the parameters (seed + 1) and their EMA
    (seed) as model_ema.<name without dots>, plus a training-code object beside them."""
    rec = OFFICIAL["models"][variant]
    seed = OFFICIAL["seed"]
    generator = {k: v for k, v in rec["state_dict"].items() if not k.startswith(EMA)}
    sd = dict(seeded_state_dict(generator, seed + 1))
    if with_ema:
        ema = seeded_state_dict(generator, seed)
        sd.update({EMA + k.replace(".", ""): v for k, v in ema.items()})
        sd[EMA + "decay"] = torch.tensor(0.999)
        sd[EMA + "num_updates"] = torch.tensor(-1, dtype=torch.int)
    assert set(sd) == set(rec["state_dict"]) or not with_ema
    path = tmp_path / f"{variant}.ckpt"
    hparams = argparse.Namespace(learning_rate=1e-4)  # refused by weights_only: a stand-in
    torch.save({"state_dict": sd, "hyper_parameters": hparams, "epoch": 3}, path)
    return path


def test_tiny_tokens_and_decodes_match_the_official_vqmodel(tmp_path: Path) -> None:
    tok = open_magvit2.build(tiny=True, weights_path=str(_checkpoint("tiny", tmp_path)))
    check_index_outputs(tok, ARRAYS, "tiny", DECODE_ATOL)
    with torch.no_grad():
        features = tok.net.encoder(2 * fixture_images(ARRAYS, "tiny") - 1)
    official = torch.from_numpy(ARRAYS["tiny.features"])
    assert float((features - official).abs().max()) < FEATURE_ATOL
    ids = tok.token_ids(tok.encode(fixture_images(ARRAYS, "tiny")))
    assert ids is not None and ids.shape == (3, 64) and int(ids.max()) < 2**18


@pytest.mark.slow
def test_released_config_tokens_and_decode_match_the_official_vqmodel(tmp_path: Path) -> None:
    """The full 115M-parameter generator at 256 x 256."""
    tok = open_magvit2.build(weights_path=str(_checkpoint("real", tmp_path)))
    assert "random" not in tok.card.description
    check_index_outputs(tok, ARRAYS, "real", DECODE_ATOL)


@pytest.mark.slow
def test_recon_run_with_an_official_layout_checkpoint(tmp_path: Path) -> None:
    rows = run_recon("open-magvit2-256", _checkpoint("real", tmp_path), tmp_path / "runs")
    assert (
        rows.loc["bpp", "value"] == pytest.approx(256 * 18 / 256**2) and rows.loc["psnr", "n"] == 2
    )
    assert 5 < rows.loc["psnr", "value"] < 60 and 0 < rows.loc["ssim", "value"] < 1


def test_released_config_has_the_official_names_and_shapes() -> None:
    rec = OFFICIAL["models"]["real"]
    assert rec["ddconfig"]["ch_mult"] == list(open_magvit2.CONFIG.ch_mult)
    generator = {k: tuple(v) for k, v in rec["state_dict"].items() if not k.startswith(EMA)}
    with torch.device("meta"):
        net = OpenMagvit2(open_magvit2.CONFIG)
    ours = {k: tuple(v.shape) for k, v in net.state_dict().items()}
    assert list(ours.items()) == list(generator.items())  # names, shapes and order
    assert sum(math.prod(s) for s in ours.values()) == rec["num_generator_parameters"]
    ema = {k for k in rec["state_dict"] if k.startswith(EMA)}
    assert ema == {EMA + k.replace(".", "") for k in ours} | {EMA + "decay", EMA + "num_updates"}


def test_fixture_names_its_source() -> None:
    assert OFFICIAL["source_commit"] == open_magvit2.SOURCE_COMMIT
    assert OFFICIAL["source_repo"] == open_magvit2.SOURCE_REPO
    assert "record_official_fixtures.py open_magvit2" in OFFICIAL["command"]
    assert ARRAYS["real.tokens"].shape == (1, 16, 16)


def test_checkpoint_without_ema_weights_is_refused(tmp_path: Path) -> None:
    path = _checkpoint("tiny", tmp_path, with_ema=False)
    with pytest.raises(ValueError, match="no EMA weights for"):
        open_magvit2.build(tiny=True, weights_path=str(path))
    torch.save(seeded_state_dict({"encoder.conv_in.weight": [32, 3, 3, 3]}, 0), path)
    with pytest.raises(ValueError, match="no 'state_dict'"):
        open_magvit2.build(tiny=True, weights_path=str(path))


def test_random_tiny_model_range_sizes_and_determinism() -> None:
    tok = open_magvit2.build(random_init=True, tiny=True, seed=3)
    x = torch.rand(2, 3, 128, 128, generator=torch.Generator().manual_seed(0))
    codes = tok.encode(x)
    assert codes.indices.shape == (2, 8, 8) and codes.indices.dtype == torch.int64
    with torch.no_grad():  # each id is the sign pattern of the encoder's 18 channels
        bits = (tok.net.encoder(2 * x - 1) > 0).long()
    assert torch.equal(tok.net.codes(codes.indices), bits.float() * 2 - 1)
    y = tok.decode(codes)
    assert y.shape == x.shape and float(y.min()) >= 0 and float(y.max()) <= 1
    assert torch.equal(y, tok.reconstruct(x))
    other = open_magvit2.build(random_init=True, tiny=True, seed=4)
    assert not torch.equal(y, other.reconstruct(x))
    with pytest.raises(ValueError, match="128 x 128 images only"):
        tok.encode(torch.rand(1, 3, 256, 256))
    with pytest.raises(ValueError, match="unknown options"):
        open_magvit2.build(random_init=True, tiny=True, resolution=512)


def test_card_rate_and_missing_weights_message(empty_store: Path) -> None:
    c = open_magvit2.card()
    assert (c.num_tokens, c.codebook_size, c.resolution) == (256, 2**18, 256)
    assert (
        c.extra["published_rfid"] == 1.17 and "Open-MAGVIT2.md" in c.extra["published_rfid_source"]
    )
    metric, rates = sample_rates(object(), c, 256, 256, 1)
    assert metric == BPP and rates == [256 * 18 / 256**2]
    with pytest.raises(store.MissingAssetError) as err:
        open_magvit2.build()
    msg = str(err.value)
    assert open_magvit2.HUB_ID in msg and open_magvit2.FILENAME in msg
    assert "evalkit fetch --model open-magvit2-256" in msg
