"""PSNR / SSIM definitions: SSIM against an independent implementation, one PSNR rule."""

from __future__ import annotations

import math

import numpy as np
import pytest


def _pairs():
    from skimage import data

    rng = np.random.default_rng(0)
    for name in ("astronaut", "coffee", "chelsea"):
        ref = np.ascontiguousarray(getattr(data, name)()[:96, :128, :3])
        noisy = np.clip(ref + rng.normal(0, 12, ref.shape), 0, 255).astype(np.uint8)
        yield ref, noisy


def test_ssim_is_wang_gaussian_and_matches_torchmetrics():
    """``ssim`` = Wang et al. (11x11 Gaussian, sigma 1.5), checked against torchmetrics."""
    torch = pytest.importorskip("torch")
    tm = pytest.importorskip("torchmetrics.functional.image")
    from evalkit.metrics.pixel import ssim, ssim_uniform7

    for ref, rec in _pairs():

        def t(a):
            return torch.from_numpy(a.astype(np.float64)).permute(2, 0, 1)[None]

        # torchmetrics averages its map over reflect-padded borders too; Wang et al. (and
        # skimage) average only where the window fits: crop its full map by the radius, 5.
        _, full = tm.structural_similarity_index_measure(
            t(rec),
            t(ref),
            gaussian_kernel=True,
            sigma=1.5,
            kernel_size=11,
            data_range=255.0,
            k1=0.01,
            k2=0.03,
            return_full_image=True,
        )
        want = float(full[..., 5:-5, 5:-5].mean())
        got = ssim(ref, rec)
        assert got == pytest.approx(want, abs=1e-6)
        # the old default (7x7 uniform) is a different number, kept under its own name
        assert abs(ssim_uniform7(ref, rec) - got) > 1e-3
    assert ssim.version != "skimage-1"  # the definition changed: so did the version


def test_ssim_uniform7_is_skimage_default():
    from skimage.metrics import structural_similarity

    from evalkit.metrics.pixel import ssim_uniform7

    for ref, rec in _pairs():
        want = structural_similarity(ref, rec, data_range=255, channel_axis=-1)
        assert ssim_uniform7(ref, rec) == pytest.approx(want, abs=1e-12)


def test_metric_attributes_kept():
    from evalkit.metrics.pixel import psnr, ssim, ssim_uniform7

    for m in (psnr, ssim, ssim_uniform7):
        assert m.higher_is_better is True and m.name and m.version


def test_psnr_rows_one_rule():
    from evalkit.metrics.pixel import psnr_rows

    rows = {r.metric: r for r in psnr_rows([30.0, math.inf, 20.0])}
    assert math.isinf(rows["psnr"].value) and rows["psnr"].n == 3
    assert rows["psnr_finite"].value == pytest.approx(25.0) and rows["psnr_finite"].n == 2
    assert rows["n_identical"].value == 1 and rows["n_identical"].n == 3
    rows = {r.metric: r for r in psnr_rows([30.0, 20.0])}
    assert rows["psnr"].value == rows["psnr_finite"].value == pytest.approx(25.0)
    assert rows["n_identical"].value == 0
    rows = {r.metric: r for r in psnr_rows([math.inf])}
    assert math.isnan(rows["psnr_finite"].value) and rows["psnr_finite"].n == 0
    with pytest.raises(ValueError):
        psnr_rows([float("nan")])
