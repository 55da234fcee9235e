"""unitok against the official UniTok (FoundationVision/UniTok at the fixture's commit, timm 1.0.8):
the same seeded random weights, saved in the release's checkpoint layout (``{'args': ...,
'trainer': {'unitok': state_dict}}`` with the CLIP side) and loaded through
``unitok.build(weights_path=...)``, give the official tokens exactly and its features and decodes
to a stated tolerance (fixture recorded by ``scripts/record_official_fixtures.py unitok``)."""

from __future__ import annotations

import argparse
import json
import math
from pathlib import Path

import numpy as np
import pytest
import torch

from evalkit import store
from evalkit.models import unitok
from evalkit.models.unitok_arch import UniTokNet
from evalkit.models.weights import seeded_state_dict
from evalkit.rate import BPP, sample_rates
from tests.models.index_parity import check_index_outputs, fixture_images

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
OFFICIAL = json.loads((FIXTURES / "unitok_official.json").read_text())
ARRAYS = np.load(FIXTURES / "unitok_official.npz")
# measured 0.0 on features and decodes (same torch, same kernels); the tolerance allows float32
# reordering on other CPUs, decodes are of order one
ATOL = 1e-4


def _official_checkpoint(tmp_path: Path, **change: object) -> Path:
    """The recorded seeded weights of the whole official module (CLIP side included), saved the
    way the release is read by inference.py, beside a pickled object of the kind a training
    checkpoint holds (which ``torch.load(weights_only=True)`` refuses on its own)."""
    rec = OFFICIAL["models"]["tiny"]
    sd = seeded_state_dict(rec["state_dict"], OFFICIAL["seed"])
    sd.update(change)  # type: ignore[arg-type]
    path = tmp_path / "unitok_tokenizer.pth"
    trainer = {"unitok": sd, "scheduler": argparse.Namespace(step=1)}
    torch.save({"args": dict(rec["args"]), "trainer": trainer}, path)
    return path


def test_tiny_tokens_features_and_decodes_match_the_official_unitok(tmp_path: Path) -> None:
    tok = unitok.build(tiny=True, weights_path=str(_official_checkpoint(tmp_path)))
    figures = check_index_outputs(tok, ARRAYS, "tiny", ATOL, as_ids=tok.net.flat_token_ids)
    with torch.no_grad():
        features = tok.net.encode_features(2 * fixture_images(ARRAYS, "tiny") - 1)
    assert float((features - torch.from_numpy(ARRAYS["tiny.features"])).abs().max()) < ATOL
    assert figures["token_agreement"] == 1.0


@pytest.mark.slow
def test_released_config_tokens_and_decode_match_the_official_unitok() -> None:
    """The full network (about 600M parameters without the CLIP side) at 256 x 256 on one photo
    (a few minutes on two shared cores); the weights go through the same unpacking as a file's,
    in memory (the 3.3 GB file is not written)."""
    from evalkit.models.index_tokenizer import IndexTokenizer

    rec = OFFICIAL["models"]["real"]
    checkpoint = {
        "args": dict(rec["args"]),
        "trainer": {"unitok": seeded_state_dict(rec["state_dict"], OFFICIAL["seed"])},
    }
    with torch.device("meta"):
        net = UniTokNet(unitok.CONFIG)
    names = list(net.state_dict())
    net.load_state_dict(
        unitok.official_state_dict(checkpoint, unitok.CONFIG, names), strict=True, assign=True
    )
    del checkpoint
    tok = IndexTokenizer(unitok.card(), net.float())
    figures = check_index_outputs(tok, ARRAYS, "real", ATOL, as_ids=tok.net.flat_token_ids)
    assert figures["token_agreement"] == 1.0


def test_released_config_has_the_official_names_and_shapes() -> None:
    """Every official key of the release's Args() is ours or the CLIP side's, in order."""
    rec = OFFICIAL["models"]["real"]
    assert rec["args"] | unitok.official_args(unitok.CONFIG) == rec["args"]
    expected = {
        k: tuple(v) for k, v in rec["state_dict"].items() if not k.startswith(unitok.CLIP_SIDE)
    }
    assert len(rec["state_dict"]) == rec["num_tensors"] == 1335
    with torch.device("meta"):
        net = UniTokNet(unitok.CONFIG)
    ours = {k: tuple(v.shape) for k, v in net.state_dict().items()}
    assert list(ours.items()) == list(expected.items())  # names, shapes and order
    clip = sum(math.prod(v) for k, v in rec["state_dict"].items() if k.startswith(unitok.CLIP_SIDE))
    assert sum(math.prod(s) for s in ours.values()) + clip == rec["num_parameters"]


def test_tiny_config_is_what_the_official_code_ran() -> None:
    rec = OFFICIAL["models"]["tiny"]
    assert rec["args"] | unitok.official_args(unitok.tiny_config()) == rec["args"]
    assert rec["vit_depth"] == unitok.tiny_config().depth


def test_fixture_names_its_source() -> None:
    assert OFFICIAL["source_commit"] == unitok.SOURCE_COMMIT
    assert OFFICIAL["source_repo"] == unitok.SOURCE_REPO
    assert OFFICIAL["versions"]["timm"] == "1.0.8"  # UniTok's requirements.txt pin
    assert "record_official_fixtures.py unitok" in OFFICIAL["command"]


def test_checkpoint_problems_are_refused(tmp_path: Path) -> None:
    bad_name = {"quantizer.codebooks.0.codebook.weightx": torch.zeros(64, 8)}
    with pytest.raises(ValueError, match="unexpected keys.*weightx"):
        unitok.build(tiny=True, weights_path=str(_official_checkpoint(tmp_path, **bad_name)))
    path = _official_checkpoint(tmp_path)
    ckpt = torch.load(path, weights_only=False)  # our own file, written just above
    del ckpt["trainer"]["unitok"]["decoder.norm.weight"]
    torch.save(ckpt, path)
    with pytest.raises(RuntimeError, match="decoder.norm.weight"):
        unitok.build(tiny=True, weights_path=str(path))
    ckpt["args"]["num_codebooks"] = 4
    torch.save(ckpt, path)
    with pytest.raises(ValueError, match="num_codebooks"):
        unitok.build(tiny=True, weights_path=str(path))
    torch.save({"model": {}}, path)
    with pytest.raises(ValueError, match="no 'trainer/unitok'"):
        unitok.build(tiny=True, weights_path=str(path))


def test_random_tiny_model_ids_range_and_sizes() -> None:
    tok = unitok.build(random_init=True, tiny=True, seed=3)
    x = torch.rand(2, 3, 64, 64, generator=torch.Generator().manual_seed(0))
    codes = tok.encode(x)
    ids = tok.token_ids(codes)
    assert ids is not None and ids.shape == (2, 8 * 16)
    assert torch.equal(ids.view(2, 8, 16) % 64, codes.indices)
    assert torch.equal(ids.view(2, 8, 16) // 64, torch.arange(8).view(1, 8, 1).expand(2, 8, 16))
    y = tok.decode(codes)
    assert y.shape == x.shape and float(y.min()) >= 0 and float(y.max()) <= 1
    with pytest.raises(ValueError, match="64 x 64 images only"):
        tok.encode(torch.rand(1, 3, 256, 256))
    with pytest.raises(ValueError, match="unknown options"):
        unitok.build(random_init=True, tiny=True, resolution=512)


def test_card_rate_and_missing_weights_message(empty_store: Path) -> None:
    c = unitok.card()
    assert (c.num_tokens, c.codebook_size, c.resolution, c.discrete) == (256, 32768, 256, True)
    assert c.extra["published_rfid"] == 0.41 and "UniTok" in c.extra["published_rfid_source"]
    metric, rates = sample_rates(object(), c, 256, 256, 2)
    assert metric == BPP and rates == [256 * 8 * 12 / 256**2] * 2
    with pytest.raises(store.MissingAssetError) as err:
        unitok.build()
    msg = str(err.value)
    assert unitok.HUB_ID in msg and unitok.FILENAME in msg
    assert "evalkit fetch --model unitok" in msg
