"""Codec baselines: each id round-trips real photos, orders by quality, records bits per pixel."""

from __future__ import annotations

import io

import numpy as np
import pytest
import torch
from PIL import Image

from evalkit import catalog
from evalkit.benchmarks.images import embedded_photos, read_rgb, resize_center_crop
from evalkit.models.codecs import card
from evalkit.registry import UnknownEntryError


@pytest.fixture(scope="module")
def photos() -> torch.Tensor:
    imgs = embedded_photos()
    arrs = [
        np.asarray(resize_center_crop(read_rgb(p, i), 128))
        for i, p in list(zip(imgs.ids, imgs.paths))[:4]
    ]
    return torch.from_numpy(np.stack(arrs)).permute(0, 3, 1, 2).float() / 255


def _mse(a: torch.Tensor, b: torch.Tensor) -> float:
    return float(((a - b) ** 2).mean())


@pytest.mark.parametrize("model_id", ["identity", "resize"])
def test_identity_like_codecs_return_input(photos, model_id):
    out = catalog.models.build(model_id).reconstruct(photos)
    assert torch.equal(out, photos)
    assert card("resize").tokbench_name == "Resize"


@pytest.mark.parametrize("fmt", ["jpeg", "webp"])
def test_quality_orders_error_and_bits(photos, fmt):
    low, high = catalog.models.build(f"{fmt}-q10"), catalog.models.build(f"{fmt}-q90")
    out_low, out_high = low.reconstruct(photos), high.reconstruct(photos)
    assert out_low.shape == photos.shape and out_low.dtype == torch.float32
    assert float(out_low.min()) >= 0 and float(out_low.max()) <= 1
    assert _mse(out_high, photos) < _mse(out_low, photos)
    pixels = photos.shape[-2] * photos.shape[-1]
    assert len(low.last_bits) == len(photos)
    assert all(0 < lo / pixels < hi / pixels < 24 for lo, hi in zip(low.last_bits, high.last_bits))


def test_jpeg_equals_pillow_directly(photos):
    out = catalog.models.build("jpeg-q50").reconstruct(photos[:1])
    arr = (photos[0].permute(1, 2, 0) * 255).round().to(torch.uint8).numpy()
    buf = io.BytesIO()
    Image.fromarray(arr).save(buf, format="JPEG", quality=50)
    want = np.asarray(Image.open(buf).convert("RGB"))
    got = (out[0].permute(1, 2, 0) * 255).round().to(torch.uint8).numpy()
    np.testing.assert_array_equal(got, want)


def test_resize_factor_orders_error(photos):
    x2, x8 = catalog.models.build("resize-x2"), catalog.models.build("resize-x8")
    assert _mse(x2.reconstruct(photos), photos) < _mse(x8.reconstruct(photos), photos)
    pixels = photos.shape[-2] * photos.shape[-1]
    assert [b / pixels for b in x2.last_bits] == pytest.approx([24 / 4] * len(photos))
    assert card("resize-x8").compression == "8x"


@pytest.mark.parametrize("bad", ["jpeg-q0", "jpeg-q101", "resize-x1"])
def test_out_of_range_parameters_are_rejected(bad):
    with pytest.raises(ValueError):
        catalog.models.build(bad)


def test_unknown_codec_suggests():
    with pytest.raises(UnknownEntryError, match="webp-q"):
        catalog.models.build("webb-q50")
