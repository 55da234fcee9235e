"""imagenet-rfid with ``-O metrics=+lpips``: LPIPS rows on the same uint8 pairs as PSNR/SSIM,
equal to the ``lpips`` package (seeded trunk, see tests/metrics/test_lpips.py); the run stays
complete-able (the option only adds rows)."""

from __future__ import annotations

import io

import numpy as np
import pytest
import torch

from tests.metrics.test_lpips import _package_lpips, _store_with_trunk, lpips


@pytest.mark.slow  # builds the fid-helper Inception (about 100 s on 2 shared cores)
def test_rfid_adds_lpips_rows(tmp_path, make_photos, fid_cache_env, empty_store, monkeypatch):
    from PIL import Image

    import evalkit
    from evalkit.benchmarks.images import read_rgb, resize_center_crop

    _store_with_trunk(empty_store, "lpips", 2, monkeypatch)
    real_images, _, write_folder = make_photos
    data = write_folder(real_images(2, 280, seed=5), tmp_path / "val")
    opts = {
        "data": str(data),
        "weights": "fid-helper",
        "metrics": "+lpips",
        "min_samples": "ignore",
    }
    result = evalkit.run(
        "imagenet-rfid", "jpeg-q50", options=opts, workers=0, out_dir=tmp_path / "o"
    )
    rows = result.rows.set_index("metric")
    assert {"rfid", "psnr", "lpips"} <= set(rows.index) and rows.loc["lpips", "n"] == 2
    ref = _package_lpips("lpips", 2)
    want = []
    for path in sorted(data.iterdir()):
        im = resize_center_crop(read_rgb(path, path.name), 256)
        buf = io.BytesIO()
        im.save(buf, format="JPEG", quality=50)
        rec = np.asarray(Image.open(buf).convert("RGB"))
        with torch.no_grad():
            want.append(ref(lpips.im2tensor(np.asarray(im)), lpips.im2tensor(rec)).item())
    got = result.samples.drop_duplicates("sample_id").sort_values("sample_id")["lpips"].tolist()
    assert got == pytest.approx(want, rel=1e-5)
