"""Statistics, distance and metric helpers on synthetic features (fast, no network)."""

from __future__ import annotations

from functools import reduce

import numpy as np
import pytest
import torch

from evalkit.fid.isc import inception_score, isc_from_state, isc_state
from evalkit.fid.kid import kid
from evalkit.fid.prdc import precision_recall
from evalkit.fid.stats import (
    FeatureStats,
    FewSamplesWarning,
    check_sample_count,
    fid_from_stats,
    frechet_distance,
)


def _feats(n: int, d: int = 64, seed: int = 0, shift: float = 0.0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return np.abs(rng.standard_normal((n, d))) + shift


def test_stats_equal_numpy_cov() -> None:
    x = _feats(50)
    st = FeatureStats(64).update(x)
    assert np.allclose(st.mu(), x.mean(0), atol=1e-12)
    assert np.allclose(st.sigma(), np.cov(x, rowvar=False), atol=1e-12)


def test_four_shards_equal_unsharded() -> None:
    x = _feats(103, 2048, seed=3)
    whole = FeatureStats().update(x)
    parts = [FeatureStats().update(c) for c in np.array_split(x, 4)]
    merged = reduce(FeatureStats.merge, parts)
    assert merged.n == whole.n == 103
    assert np.abs(merged.s - whole.s).max() <= 1e-10 * max(1.0, np.abs(whole.s).max())
    assert np.abs(merged.sigma() - whole.sigma()).max() <= 1e-10
    # the distance on merged statistics (smaller dim keeps the test fast; n > dim keeps the
    # covariances full rank, where sqrt of near-zero eigenvalues would amplify round-off)
    x = _feats(403, 128, seed=3)
    whole = FeatureStats(128).update(x)
    merged = reduce(FeatureStats.merge, [FeatureStats(128).update(c) for c in np.array_split(x, 4)])
    y = FeatureStats(128).update(_feats(390, 128, seed=4, shift=0.1))
    ref = fid_from_stats(whole, y)
    assert abs(fid_from_stats(merged, y) - ref) <= 1e-10 * ref


def test_frechet_matches_closed_form_for_diagonal_gaussians() -> None:
    rng = np.random.default_rng(1)
    d1, d2 = rng.uniform(0.1, 2, 32), rng.uniform(0.1, 2, 32)
    mu1, mu2 = rng.standard_normal(32), rng.standard_normal(32)
    expected = ((mu1 - mu2) ** 2).sum() + ((np.sqrt(d1) - np.sqrt(d2)) ** 2).sum()
    got = frechet_distance(mu1, np.diag(d1), mu2, np.diag(d2))
    assert got == pytest.approx(expected, rel=1e-10)


def test_frechet_agrees_with_torch_fidelity_eig_form() -> None:
    from torch_fidelity.metric_fid import fid_statistics_to_metric

    a = FeatureStats(256).update(_feats(400, 256, 5))
    b = FeatureStats(256).update(_feats(300, 256, 6, shift=0.2))
    ref = fid_statistics_to_metric(
        {"mu": a.mu(), "sigma": a.sigma()}, {"mu": b.mu(), "sigma": b.sigma()}, False
    )["frechet_inception_distance"]
    assert fid_from_stats(a, b) == pytest.approx(ref, rel=1e-8)


def test_nan_feature_refused() -> None:
    x = _feats(10)
    x[4, 7] = np.nan
    with pytest.raises(FloatingPointError, match="NaN/inf.*row 4"):
        FeatureStats(64).update(x)
    with pytest.raises(FloatingPointError, match="mu1"):
        frechet_distance(np.full(3, np.nan), np.eye(3), np.zeros(3), np.eye(3))


def test_few_samples_warn_and_refuse_say_n() -> None:
    with pytest.warns(FewSamplesWarning, match="n=100"):
        check_sample_count(100, "input A")
    with pytest.raises(ValueError, match="n=7"):
        check_sample_count(7, "input B", policy="error")
    check_sample_count(2048, "input A", policy="error")  # enough: silent


def test_kid_prc_isc_match_torch_fidelity() -> None:
    from torch_fidelity.metric_isc import isc_features_to_metric
    from torch_fidelity.metric_kid import kid_features_to_metric
    from torch_fidelity.metric_prc import calculate_precision_recall_full

    a = _feats(120, 32, 7).astype(np.float32)
    b = _feats(100, 32, 8, shift=0.3).astype(np.float32)
    mean, std, size = kid(a, b, subsets=5, subset_size=50)
    ref = kid_features_to_metric(
        torch.from_numpy(a), torch.from_numpy(b), kid_subsets=5, kid_subset_size=50, verbose=False
    )
    assert size == 50
    assert mean == pytest.approx(ref["kernel_inception_distance_mean"], rel=1e-5)
    # torch-fidelity's input1 = samples: precision is samples inside the reference manifold
    p, r = precision_recall(real=a, fake=b, chunk=32)
    rp, rr = calculate_precision_recall_full(torch.from_numpy(b), torch.from_numpy(a))
    assert (p, r) == pytest.approx((rp, rr), abs=1e-6)
    assert 0 < p < 1 or 0 < r < 1
    logits = np.random.default_rng(9).standard_normal((200, 1008)) * 3
    got = inception_score(logits)
    ref_is = isc_features_to_metric(torch.from_numpy(logits), splits=10, shuffle=False)
    assert got[0] == pytest.approx(ref_is["inception_score_mean"], rel=1e-9)


def test_isc_state_is_shardable() -> None:
    logits = np.random.default_rng(2).standard_normal((60, 1008)) * 2
    rows = np.arange(60) * 10 // 60
    whole = isc_state(logits, rows)
    parts = [isc_state(logits[i : i + 13], rows[i : i + 13]) for i in range(0, 60, 13)]
    merged = {k: sum(p[k] for p in parts) for k in whole}
    assert isc_from_state(merged) == pytest.approx(isc_from_state(whole), rel=1e-12)
