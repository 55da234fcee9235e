"""FlexTok against the official code (apple/ml-flextok at the fixture's commit).

The fixture (scripts/official_fixtures/flextok.py) ran the official ``FlexTok`` (the d18-d28
layout narrowed to 64 px, 2 blocks per side, 32 registers) with a seeded random checkpoint on
scikit-image photos preprocessed as the official demo does: ``tokenize`` (posterior mode, and
sampled with its captured noise) and ``detokenize`` at budgets 1, 4 and 32 from the captured
sampler noise, with guidance by APG (README setting) and by plain CFG. Here the same checkpoint,
regenerated from its seed and saved as safetensors with the official-style config metadata, goes
through our real loading path (``build(weights_path=...)``, strict): tokens exactly equal,
unclamped reconstructions within 1e-4 (float32 CPU; measured about 5e-6). The d18-d28 key names
and shapes are compared in full with the official modules built from the same settings.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest

from evalkit.models import flextok

torch = pytest.importorskip("torch")
pytest.importorskip("diffusers")
FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
DOC = json.loads((FIXTURES / "flextok_official.json").read_text())
ARRAYS = np.load(FIXTURES / "flextok_official.npz")
ATOL = 1e-4
PARITY_ARCH = {k: tuple(v) if isinstance(v, list) else v for k, v in DOC["parity"].items()}
SCALING = PARITY_ARCH.pop("vae_scaling_factor")  # read back from the checkpoint's metadata


def _images() -> torch.Tensor:
    return (torch.from_numpy(ARRAYS["images"]) + 1.0) / 2.0  # demo's [-1, 1] -> our [0, 1]


def _save(path: Path, state: dict, vae: dict | None = None, levels: list | None = None) -> Path:
    """A checkpoint as the official save_safetensors writes it: config entries as literals."""
    from safetensors.torch import save_file

    meta = {"vae": str(vae or {"latent_channels": 16, "scaling_factor": SCALING})}
    meta["regularizer"] = str({"levels": levels or [8, 8, 8, 5, 5, 5]})
    save_file(state, str(path), metadata=meta)
    return path


@pytest.fixture(scope="module")
def state() -> dict:
    from evalkit.judges.mask2former_random import state_dict_sha256
    from evalkit.models.weights import seeded_state_dict

    sd = seeded_state_dict(DOC["parity_state_dict"], DOC["seed"])
    assert state_dict_sha256(sd) == DOC["state_dict_sha256"]  # the checkpoint the official ran
    return sd


@pytest.fixture(scope="module")
def tokenizer(state: dict, tmp_path_factory: pytest.TempPathFactory) -> flextok.FlexTokTokenizer:
    path = _save(tmp_path_factory.mktemp("flextok") / flextok.HUB_FILENAME, state)
    tok = flextok.build("flextok-d18-d28", weights_path=str(path), arch=PARITY_ARCH)
    path.unlink()
    return tok


def test_real_config_key_names_and_shapes_match_the_official_model() -> None:
    from evalkit.models.flextok_arch import FlexTokNet

    with torch.device("meta"):
        net = FlexTokNet(flextok.released_config())
    ours = {k: list(t.shape) for k, t in net.state_dict().items()}
    assert ours == DOC["real_model"]["state_dict"]
    assert len(ours) == DOC["real_model"]["num_tensors"]


def test_tokens_equal_the_official_tokenize(tokenizer: flextok.FlexTokTokenizer) -> None:
    tokenizer.posterior = "mode"
    try:
        tokens = tokenizer.encode(_images()).tokens.numpy()
    finally:
        tokenizer.posterior = "sample"
    assert tokens.shape == (2, DOC["parity"]["num_registers"])
    assert np.array_equal(tokens, ARRAYS["tokens"])
    noise = torch.from_numpy(ARRAYS["posterior_noise"])  # the official posterior's draws
    sampled = tokenizer.encode(_images(), posterior_noise=noise).tokens.numpy()
    assert np.array_equal(sampled, ARRAYS["tokens_sampled"])


@pytest.mark.parametrize("mode", ["apg", "cfg"])
def test_reconstructions_match_the_official_detokenize(
    tokenizer: flextok.FlexTokTokenizer, mode: str
) -> None:
    settings = DOC["decode"][mode]
    tok = flextok.FlexTokTokenizer(tokenizer.card, tokenizer.net, 32, **settings, posterior="mode")
    noise = torch.from_numpy(ARRAYS["noise"])
    for k in DOC["budgets"]:
        official = ARRAYS[f"{mode}.recon@{k}"]
        ids = torch.from_numpy(ARRAYS["tokens"][:, :k])
        raw = tok.decode_raw(ids, noise=noise).numpy()
        diff = float(np.abs(raw - official).max())
        print(f"{mode} @{k}: max |ours - official| = {diff:.2e}")
        assert diff <= ATOL
        image = tok.decode(ids, noise=noise).numpy()  # what the runner scores
        assert float(np.abs(image - ((official + 1) / 2).clip(0, 1)).max()) <= ATOL


def test_the_fixture_is_informative() -> None:
    """Budgets change the reconstruction; photos give different tokens; guidance matters."""
    rec = {k: ARRAYS[f"apg.recon@{k}"] for k in DOC["budgets"]}
    assert np.abs(rec[1] - rec[32]).max() > 100 * ATOL
    assert (ARRAYS["tokens"][0] != ARRAYS["tokens"][1]).mean() > 0.5
    assert np.abs(ARRAYS["apg.recon@32"] - ARRAYS["cfg.recon@32"]).max() > 100 * ATOL


def test_decoder_noise_follows_the_seed(tokenizer: flextok.FlexTokTokenizer) -> None:
    """A reconstruction depends on its sample's seed only: same seed, same image; batch order
    does not matter."""
    tok = flextok.FlexTokTokenizer(tokenizer.card, tokenizer.net, 4, timesteps=2)
    x = _images()
    assert tok.encode(x).tokens.shape == (2, 4)  # the budget: the first 4 of 32 tokens
    a = tok.reconstruct(x, seeds=[1, 2])
    b = tok.reconstruct(x.flip(0), seeds=[2, 1]).flip(0)
    assert torch.equal(a, b)
    c = tok.reconstruct(x, seeds=[3, 4])
    assert float((a - c).abs().max()) > 1e-3


def test_checkpoint_problems_are_refused(state: dict, tmp_path: Path) -> None:
    wrong = dict(state)
    wrong.pop("decoder.module_dict.dec_nullcond.nullcond")
    path = _save(tmp_path / "a.safetensors", wrong)
    with pytest.raises(RuntimeError, match="dec_nullcond"):
        flextok.build("flextok-d18-d28", weights_path=str(path), arch=PARITY_ARCH)
    path = _save(tmp_path / "b.safetensors", state, levels=[8, 5, 5, 5])
    with pytest.raises(RuntimeError, match="regularizer.levels"):
        flextok.build("flextok-d18-d28", weights_path=str(path), arch=PARITY_ARCH)
    path = _save(tmp_path / "c.safetensors", state, vae={"hf_hub_path": "x"})
    with pytest.raises(RuntimeError, match="vae_scaling_factor"):
        flextok.build("flextok-d18-d28", weights_path=str(path), arch=PARITY_ARCH)


def test_card_budget_and_rate() -> None:
    from evalkit import catalog
    from evalkit.rate import BPP, sample_rates

    c = catalog.models.card("flextok-d18-d28@64")
    assert (c.num_tokens, c.codebook_size, c.discrete, c.resolution) == (64, 64000, True, 256)
    metric, rates = sample_rates(object(), c, 256, 256, 1)
    assert metric == BPP and rates == [64 * math.log2(64000) / 256**2]
    assert "research" in c.license.lower()
    with pytest.raises(ValueError, match="takes 1 to 256 tokens, not 257"):
        catalog.models.card("flextok-d18-d28@257")


def test_missing_weights_message(empty_store: Path, tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from evalkit import store
    from evalkit.cli import app

    with pytest.raises(store.MissingAssetError) as err:
        flextok.build("flextok-d18-d28@16")
    msg = str(err.value)
    assert flextok.HUB_ID in msg and flextok.HUB_FILENAME in msg
    assert "evalkit fetch --model flextok-d18-d28" in msg
    args = ["run", "recon", "--model", "flextok-d18-d28@16", "--limit", "1"]
    res = CliRunner().invoke(app, [*args, "--out", str(tmp_path / "runs"), "--no-leaderboard"])
    assert res.exit_code == 1
    assert "evalkit fetch recon --model flextok-d18-d28@16" in res.output
    out = " ".join(res.output.split())  # one message naming both files of the card
    assert "2 of 2 files" in out and f"{flextok.HUB_ID}/{flextok.HUB_FILENAME}" in out
    assert f"{flextok.VAE_HUB_ID}/config.json" in out


def test_models_list_shows_the_id_its_availability_and_research_only(empty_store: Path) -> None:
    from typer.testing import CliRunner

    from evalkit.cli import app

    res = CliRunner().invoke(app, ["models", "list"], env={"COLUMNS": "200"})
    assert res.exit_code == 0
    line = next(ln for ln in res.stdout.splitlines() if ln.startswith("flextok-d18-d28 "))
    assert line.split()[1:] == ["flextok", "D", "256", "1D-256", "256", "online"]
    note = res.stdout.split("Research or non-commercial use only")[1]
    assert "flextok-d18-d28" in note.replace(",", " ").split()


def test_evalkit_run_recon_end_to_end(tmp_path: Path) -> None:
    """As users run it: ``evalkit run recon --model flextok-d18-d28@4`` (tiny random network,
    32 px, 2 flow steps); rows carry PSNR and 4 x log2(64000) bits over 32 x 32 pixels."""
    from tests.models.index_parity import cli_recon_values

    options = ("random_init=true", "tiny=true", "timesteps=2")
    values = cli_recon_values("flextok-d18-d28@4", tmp_path / "runs", *options)
    assert values["bpp"] == pytest.approx(4 * math.log2(64000) / 32**2)
    assert np.isfinite(values["psnr"])
