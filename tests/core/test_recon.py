"""The recon benchmark end to end: closed-form values, scikit-image parity, codec ordering."""

from __future__ import annotations

import io
import math

import numpy as np
import pytest
from PIL import Image
from skimage.metrics import peak_signal_noise_ratio, structural_similarity

import evalkit
from evalkit.benchmarks.images import embedded_photos, read_rgb, resize_center_crop
from tests.support import needs_store


def _run(tmp_path, model, **kw):
    return evalkit.run("recon", model, out_dir=tmp_path / "out", workers=0, **kw)


def _value(result, metric):
    rows = result.rows
    return float(rows.loc[rows.metric == metric, "value"].iloc[0])


def test_identity_is_perfect(tmp_path):
    result = _run(tmp_path, "identity")
    assert math.isinf(_value(result, "psnr")) and _value(result, "psnr") > 0
    assert _value(result, "ssim") == pytest.approx(1.0, abs=1e-12)
    n = len(embedded_photos().ids)
    assert _value(result, "n_identical") == n
    assert math.isnan(_value(result, "psnr_finite"))  # no finite value to average
    by_metric = result.rows.set_index("metric")["n"]
    assert by_metric["psnr_finite"] == 0 and by_metric["psnr"] == by_metric["ssim"] == n


def test_psnr_rule_with_some_identical(tmp_path):
    """One identical sample: psnr is inf over all n; psnr_finite averages the others (SCHEMA.md)."""
    photos = embedded_photos()
    folder = tmp_path / "imgs"
    folder.mkdir()
    for sample_id, path in list(zip(photos.ids, photos.paths))[:3]:
        (folder / sample_id).write_bytes(path.read_bytes())
    flat = np.full((300, 300, 3), 128, np.uint8)  # JPEG reproduces a flat grey exactly
    Image.fromarray(flat).save(folder / "zz_flat.png")
    result = evalkit.run(
        "recon", "jpeg-q90", options={"data": str(folder)}, out_dir=tmp_path / "out", workers=0
    )
    per = result.samples.set_index("sample_id")["psnr"]
    assert math.isinf(per["zz_flat.png"])
    finite = per[np.isfinite(per)]
    assert len(finite) == 3
    assert math.isinf(_value(result, "psnr"))
    assert _value(result, "psnr_finite") == pytest.approx(float(finite.mean()), rel=1e-12)
    rows = result.rows.set_index("metric")
    assert rows.loc["psnr_finite", "n"] == 3 and rows.loc["psnr", "n"] == 4
    assert _value(result, "n_identical") == 1


def test_jpeg_quality_orders_psnr(tmp_path):
    q10 = _value(_run(tmp_path, "jpeg-q10"), "psnr")
    q90 = _value(_run(tmp_path, "jpeg-q90"), "psnr")
    assert 15 < q10 < q90 < 60


def test_matches_scikit_image_on_each_photo(tmp_path):
    """Recompute every per-sample value independently: same crop, same JPEG, skimage metrics."""
    samples = _run(tmp_path, "jpeg-q50").samples
    photos = embedded_photos()
    assert list(samples["sample_id"]) == list(photos.ids)
    for sample_id, path, got_psnr, got_ssim, got_u7 in zip(
        photos.ids, photos.paths, samples["psnr"], samples["ssim"], samples["ssim_uniform7"]
    ):
        ref = np.asarray(resize_center_crop(read_rgb(path, sample_id), 256))
        buf = io.BytesIO()
        Image.fromarray(ref).save(buf, format="JPEG", quality=50)
        rec = np.asarray(Image.open(buf).convert("RGB"))
        want_psnr = peak_signal_noise_ratio(ref, rec, data_range=255)
        want_ssim = structural_similarity(
            ref,
            rec,
            data_range=255,
            channel_axis=-1,
            gaussian_weights=True,
            sigma=1.5,
            use_sample_covariance=False,
        )
        want_u7 = structural_similarity(ref, rec, data_range=255, channel_axis=-1)
        assert got_psnr == pytest.approx(want_psnr, abs=1e-4)
        assert got_ssim == pytest.approx(want_ssim, abs=1e-4)
        assert got_u7 == pytest.approx(want_u7, abs=1e-4)
        mse = np.mean((ref.astype(np.float64) - rec) ** 2)  # closed form, independent of skimage
        assert got_psnr == pytest.approx(10 * np.log10(255.0**2 / mse), abs=1e-9)


def test_batch_size_does_not_change_results(tmp_path):
    a = evalkit.run("recon", "resize-x4", out_dir=tmp_path / "a", batch_size=1, workers=0)
    b = evalkit.run("recon", "resize-x4", out_dir=tmp_path / "b", batch_size=5, workers=2)
    assert a.run_id == b.run_id  # batch size is not part of what defines a number
    np.testing.assert_array_equal(a.samples["psnr"], b.samples["psnr"])
    np.testing.assert_array_equal(a.rows["value"], b.rows["value"])


def test_data_folder_and_limit(tmp_path):
    photos = embedded_photos()
    folder = tmp_path / "imgs"
    folder.mkdir()
    for sample_id, path in list(zip(photos.ids, photos.paths))[:3]:
        (folder / sample_id).write_bytes(path.read_bytes())
    result = evalkit.run(
        "recon",
        "jpeg-q50",
        options={"data": str(folder), "limit": 2},
        out_dir=tmp_path / "out",
        workers=0,
    )
    assert set(result.rows["n"]) == {2}
    assert not result.rows["comparable"].any()
    assert result.rows["dataset_source"].iloc[0] == f"folder:{folder.resolve()}"


@needs_store
def test_taef2_real_weights_plausible_psnr(tmp_path):
    result = _run(tmp_path, "taef2", batch_size=4)
    psnr = _value(result, "psnr")
    assert 25 < psnr < 40, psnr
    assert "taef2_encoder.pth" in result.rows["weights"].iloc[0]
