"""Rate rows: bits per pixel of codecs and discrete tokenizers, latent values per pixel."""

from __future__ import annotations

import io
import math

import numpy as np
import pytest

import evalkit
from evalkit import rate
from evalkit.types import ModelCard


def test_jpeg_bpp_is_the_encoded_size_of_each_image(tmp_path):
    result = evalkit.run("recon", "jpeg-q50", options={"limit": 2}, workers=0, out_dir=tmp_path)
    bpp = result.rows.set_index("metric").loc["bpp"]
    assert not bpp["higher_is_better"] and bpp["n"] == 2
    # independent: encode the same uint8 inputs with Pillow and count bytes
    from evalkit.benchmarks.images import embedded_photos, read_rgb, resize_center_crop

    photos = embedded_photos()
    expected = []
    for path, sid in list(zip(photos.paths, photos.ids))[:2]:
        im = resize_center_crop(read_rgb(path, sid), 256)
        buf = io.BytesIO()
        im.save(buf, format="JPEG", quality=50)
        expected.append(8 * len(buf.getvalue()) / (256 * 256))
    assert bpp["value"] == pytest.approx(np.mean(expected), rel=1e-12)
    per_sample = result.samples.drop_duplicates("sample_id")["bpp"].tolist()
    assert per_sample == pytest.approx(expected, rel=1e-12)


def test_lossless_codecs_have_no_rate_row(tmp_path):
    result = evalkit.run("recon", "identity", options={"limit": 1}, workers=0, out_dir=tmp_path)
    assert "bpp" not in set(result.rows["metric"])


@pytest.mark.parametrize(
    ("card", "expected"),
    [
        (
            ModelCard("vq", "t", num_tokens=32, codebook_size=4096, discrete=True),
            ("bpp", 32 * 12 / (256 * 256)),
        ),
        (
            ModelCard("kl", "t", latent_channels=16, compression="8x", discrete=False),
            ("latent_values_per_pixel", 16 / 64),
        ),
        (
            ModelCard("1d", "t", num_tokens=32, latent_channels=16, discrete=False),
            ("latent_values_per_pixel", 32 * 16 / (256 * 256)),
        ),
        (  # several indices per token (UniTok: 8 sub-codes of 4096): the card's index_bits
            ModelCard(
                "mc",
                "t",
                num_tokens=256,
                codebook_size=4096,
                discrete=True,
                extra={"index_bits": 256 * 8 * 12},
            ),
            ("bpp", 256 * 8 * 12 / (256 * 256)),
        ),
        (ModelCard("raw", "t"), None),
    ],
)
def test_card_rates(card, expected):
    got = rate.sample_rates(object(), card, 256, 256, 3)
    if expected is None:
        assert got is None
    else:
        assert got[0] == expected[0] and got[1] == pytest.approx([expected[1]] * 3)
        assert math.isfinite(got[1][0])


def test_2d_discrete_tokens_scale_with_the_image() -> None:
    """A 16x VQ tokenizer has one token per 16 x 16 patch: (H/16)(W/16) tokens at any size."""
    card = ModelCard(
        "vq2d", "t", num_tokens=256, codebook_size=1024, compression="16x", discrete=True
    )
    for h, w in ((256, 256), (512, 512), (256, 512)):
        metric, values = rate.sample_rates(object(), card, h, w, 2)
        assert metric == "bpp" and values == pytest.approx(
            [(h // 16) * (w // 16) * 10 / (h * w)] * 2
        )
