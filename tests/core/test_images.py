"""The one image reader: every Pillow mode decodes to the 8-bit RGB its rule states."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from evalkit.benchmarks.images import ImageDecodeError, read_rgb


def _read(tmp_path, im: Image.Image, name: str, **save) -> np.ndarray:
    path = tmp_path / name
    im.save(path, **save)
    return np.asarray(read_rgb(path, name))


def _gradient16() -> np.ndarray:
    return (np.arange(48 * 64, dtype=np.int64).reshape(48, 64) * 21).astype(np.uint16)


@pytest.mark.parametrize("name", ["g16.png", "g16.tif"])
def test_16bit_grey_keeps_its_range(tmp_path, name):
    v = _gradient16()
    got = _read(tmp_path, Image.fromarray(v), name)
    want = np.round(v / 257.0).astype(np.uint8)
    assert got.shape == (48, 64, 3) and got.dtype == np.uint8
    np.testing.assert_array_equal(got[..., 0], want)
    np.testing.assert_array_equal(got[..., 0], got[..., 2])
    assert len(np.unique(got)) > 200  # not clipped to {0..255 at the low end, 255 above}


def test_16bit_reaches_evalkit_fid_reader(tmp_path):
    from evalkit.fid.api import read_image

    v = _gradient16()
    Image.fromarray(v).save(tmp_path / "a.png")
    chw = read_image(tmp_path / "a.png").numpy()
    np.testing.assert_array_equal(chw[1], np.round(v / 257.0).astype(np.uint8))


def test_mode_I_32bit_out_of_16bit_range_refused(tmp_path):
    big = Image.fromarray(np.full((8, 8), 70000, np.int32), "I")
    with pytest.raises(ImageDecodeError, match="big.tif.*not 16-bit"):
        _read(tmp_path, big, "big.tif")


def test_float_refused(tmp_path):
    with pytest.raises(ImageDecodeError, match="f.tif.*float"):
        _read(tmp_path, Image.fromarray(np.zeros((8, 8), np.float32), "F"), "f.tif")


def test_palette_uses_palette_colours(tmp_path):
    rng = np.random.default_rng(0)
    palette = rng.integers(0, 256, (256, 3), dtype=np.uint8)
    idx = rng.integers(0, 256, (20, 30), dtype=np.uint8)
    im = Image.fromarray(idx, "P")
    im.putpalette(palette.reshape(-1).tolist())
    np.testing.assert_array_equal(_read(tmp_path, im, "p.png"), palette[idx])


def test_cmyk_uncalibrated_formula(tmp_path):
    rng = np.random.default_rng(1)
    cmyk = rng.integers(0, 256, (16, 16, 4), dtype=np.uint8)
    got = _read(tmp_path, Image.fromarray(cmyk, "CMYK"), "c.tif").astype(np.int64)
    c = cmyk.astype(np.int64)
    want = (255 - c[..., :3]) * (255 - c[..., 3:]) / 255.0
    assert np.abs(got - want).max() <= 1


@pytest.mark.parametrize("mode", ["RGBA", "LA"])
def test_alpha_is_discarded_colour_kept(tmp_path, mode):
    rng = np.random.default_rng(2)
    chans = 4 if mode == "RGBA" else 2
    arr = rng.integers(0, 256, (12, 14, chans), dtype=np.uint8)
    arr[:6, ..., -1] = 0  # fully transparent: the stored colour is still what we read
    got = _read(tmp_path, Image.fromarray(arr, mode), f"a_{mode}.png")
    colour = arr[..., :3] if mode == "RGBA" else np.repeat(arr[..., :1], 3, axis=-1)
    np.testing.assert_array_equal(got, colour)


def test_8bit_rgb_and_grey_unchanged(tmp_path):
    rng = np.random.default_rng(3)
    rgb = rng.integers(0, 256, (10, 11, 3), dtype=np.uint8)
    np.testing.assert_array_equal(_read(tmp_path, Image.fromarray(rgb), "rgb.png"), rgb)
    grey = rgb[..., 0]
    np.testing.assert_array_equal(_read(tmp_path, Image.fromarray(grey), "l.png")[..., 1], grey)
