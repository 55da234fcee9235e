"""MAETok against the official code (Hhhhhhao/continuous_tokenizer at the fixture's commit).

The fixture (scripts/official_fixtures/maetok.py) ran the official ``AEModel`` (the b-128 settings
at 64 x 64 pixels, 2 blocks per side) with a seeded random checkpoint on skimage photos; here
the same checkpoint, regenerated from its seed and saved as ``model.safetensors``, goes through our
real loading path (``build(weights_path=...)``, strict) and our tokenizer: latents and unclamped
reconstructions within 1e-4 (float32 CPU; measured 2.6e-6: SDPA against the official explicit
softmax), and the adapter's [0, 1] image likewise. The b-128 network's key names and shapes are
compared in full with the official model's state dict.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from evalkit.models import maetok

torch = pytest.importorskip("torch")
FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
DOC = json.loads((FIXTURES / "maetok_official.json").read_text())
ARRAYS = np.load(FIXTURES / "maetok_official.npz")
ATOL = 1e-4
PARITY_ARCH = {"image_size": DOC["parity_image_size"], "depth": DOC["parity_depth"]}


def test_real_config_key_names_and_shapes_match_the_official_model() -> None:
    from evalkit.models.maetok_arch import MAETokNet

    with torch.device("meta"):
        net = MAETokNet(maetok.released_config())
    ours = {k: list(t.shape) for k, t in net.state_dict().items()}
    assert ours == DOC["real_model"]["state_dict"]


@pytest.fixture(scope="module")
def tokenizer(tmp_path_factory: pytest.TempPathFactory) -> maetok.MAETokTokenizer:
    """The parity network, loaded once through our real loading path (safetensors, strict)."""
    from safetensors.torch import save_file

    from evalkit.judges.mask2former_random import state_dict_sha256
    from evalkit.models.weights import seeded_state_dict

    state = seeded_state_dict(DOC["parity_state_dict"], DOC["seed"])
    assert state_dict_sha256(state) == DOC["state_dict_sha256"]  # the checkpoint the official ran
    path = tmp_path_factory.mktemp("maetok") / maetok.HUB_FILENAME
    save_file(state, str(path))  # without the freqs_t_* buffers: the loader computes them
    tok = maetok.build("maetok-b128", weights_path=str(path), arch=PARITY_ARCH)
    path.unlink()
    return tok


def test_latents_match_the_official_code(tokenizer: maetok.MAETokTokenizer) -> None:
    images = torch.from_numpy(ARRAYS["images"]).permute(0, 3, 1, 2).float() / 255.0
    latents = tokenizer.encode(images).numpy()
    assert latents.shape == ARRAYS["latents"].shape == (len(images), 128, 32)
    diff = float(np.abs(latents - ARRAYS["latents"]).max())
    print(f"latents: max |ours - official| = {diff:.2e}")
    assert diff <= ATOL


def test_reconstructions_match_the_official_code(tokenizer: maetok.MAETokTokenizer) -> None:
    official = ARRAYS["recon"]  # unclamped [-1, 1]-scaled output: every pixel counts
    latents = torch.from_numpy(ARRAYS["latents"])
    with torch.no_grad():
        raw = tokenizer.module.decode(latents).numpy()
    diff = float(np.abs(raw - official).max())
    print(f"reconstruction: max |ours - official| = {diff:.2e}, |official| <= {official.max():.2f}")
    assert diff <= ATOL
    image = tokenizer.decode(latents).numpy()  # what the runner scores: (y + 1) / 2, clamped
    assert float(np.abs(image - ((official + 1) / 2).clip(0, 1)).max()) <= ATOL


def test_the_fixture_is_informative() -> None:
    """Latents differ between photos and the reconstruction is not a constant image."""
    lat, rec = ARRAYS["latents"], ARRAYS["recon"]
    assert np.abs(lat[0] - lat[1]).max() > 100 * ATOL
    assert rec.std() > 100 * ATOL


def test_a_wrong_size_or_a_foreign_checkpoint_is_refused(tmp_path: Path) -> None:
    tok = maetok.build("maetok-b128", random_init=True, arch=PARITY_ARCH)
    with pytest.raises(ValueError, match="64 x 64"):
        tok.encode(torch.zeros(1, 3, 32, 32))
    from safetensors.torch import save_file

    path = tmp_path / maetok.HUB_FILENAME
    save_file({"encoder.latent_tokens": torch.zeros(1, 3, 4)}, str(path))
    with pytest.raises(RuntimeError, match="does not match the architecture"):
        maetok.build("maetok-b128", weights_path=str(path), arch=PARITY_ARCH)


def test_card_rate_is_latent_values_per_pixel() -> None:
    from evalkit.rate import LATENT_VALUES, sample_rates

    c = maetok.card("maetok-b128")
    assert (c.num_tokens, c.latent_channels, c.discrete) == (128, 32, False)
    name, rates = sample_rates(object(), c, 256, 256, 1)
    assert name == LATENT_VALUES and rates == [128 * 32 / 256**2]


def test_evalkit_run_recon_end_to_end(tmp_path: Path) -> None:
    """As users run it: ``evalkit run recon --model maetok-b128`` (tiny random network, 32 px);
    rows carry PSNR and the latent values per pixel (128 x 32 / 32^2)."""
    from tests.models.index_parity import cli_recon_values

    values = cli_recon_values("maetok-b128", tmp_path / "runs", "random_init=true", "tiny=true")
    assert values["latent_values_per_pixel"] == pytest.approx(128 * 32 / 32**2)
    assert np.isfinite(values["psnr"])
