"""imagenet-gfid with ``-O extra=...`` on random DINOv2/CLIP weights: the extra rows, their
values against the networks called directly, completeness unchanged, and the site's table
showing FD-DINOv2 beside FID."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

EXTRA = "fd_dinov2,sfid,cmmd,density,coverage"


def _gfid_inputs(tmp_path: Path, make_photos, net) -> tuple[dict, np.ndarray, np.ndarray]:
    from evalkit.fid.stats import FeatureStats

    real_images, jpeg, _ = make_photos
    ref_imgs = real_images(7, 48, seed=5)
    st = FeatureStats().update(net(torch.from_numpy(ref_imgs).permute(0, 3, 1, 2)).pool)
    np.savez(tmp_path / "ref.npz", mu=st.mu(), sigma=st.sigma(), arr_0=ref_imgs)
    samples = jpeg(real_images(6, 48, seed=6), 20)
    np.savez(tmp_path / "samples.npz", arr_0=samples)
    options = {
        "samples": str(tmp_path / "samples.npz"),
        "reference": str(tmp_path / "ref.npz"),
        "weights": "fid-helper",
    }
    return options, ref_imgs, samples


def test_extra_metrics_only_add_outputs(tmp_path: Path) -> None:
    from evalkit.benchmarks.imagenet_fid import build

    (tmp_path / "ref.npz").write_bytes(b"")
    plain = build("imagenet-gfid", reference=str(tmp_path / "ref.npz"))
    extra = build("imagenet-gfid", reference=str(tmp_path / "ref.npz"), extra=EXTRA)
    assert (extra.spec.complete, extra.spec.comparable) == (
        plain.spec.complete,
        plain.spec.comparable,
    )
    assert extra.extras == tuple(EXTRA.split(",")) and extra.spec.options["extra"] == EXTRA
    with pytest.raises(ValueError, match="unknown extra metric"):
        build("imagenet-gfid", reference=str(tmp_path / "ref.npz"), extra="fid_dino")


@pytest.mark.slow  # about a minute on 2 shared cores: DINOv2 + CLIP + Inception passes
def test_gfid_extras_through_the_runner_and_the_site(
    tmp_path: Path, random_store: Path, make_photos, net
) -> None:
    import evalkit
    from evalkit.fid.cmmd import ClipEmbeddings, mmd
    from evalkit.fid.dinov2 import Dinov2Features
    from evalkit.fid.prdc import density_coverage
    from evalkit.fid.random_weights import clip_state, dinov2_state
    from evalkit.fid.stats import FeatureStats, fid_from_stats
    from evalkit.site import main_table, table_frame

    options, ref_imgs, samples = _gfid_inputs(tmp_path, make_photos, net)
    result = evalkit.run(
        "imagenet-gfid",
        "samples:jpeg20-photos",
        options={**options, "extra": EXTRA},
        batch_size=3,
        workers=0,
        out_dir=tmp_path / "out",
    )
    rows = result.rows
    order = list(rows["metric"])
    assert order[:2] == ["gfid", "fd_dinov2"], order
    values = rows.set_index("metric")["value"]
    u8 = [torch.from_numpy(x).permute(0, 3, 1, 2) for x in (samples, ref_imgs)]
    dino = Dinov2Features(state=dinov2_state(0, 2))
    fa, fb = (FeatureStats(1024).update(dino(x).pool) for x in u8)
    assert values["fd_dinov2"] == pytest.approx(fid_from_stats(fa, fb), rel=1e-6)
    clip = ClipEmbeddings(state=clip_state(0, 2))
    assert values["cmmd"] == pytest.approx(mmd(clip(u8[0]).pool, clip(u8[1]).pool), rel=1e-5)
    inc = [net(x).pool for x in u8]
    assert (values["density"], values["coverage"]) == pytest.approx(
        density_coverage(inc[1], inc[0]), abs=1e-6
    )
    sp = [FeatureStats(2023).update(net(x, want_spatial=True).spatial) for x in u8]
    assert values["sfid"] == pytest.approx(fid_from_stats(*sp), rel=1e-6)
    judges = rows.set_index("metric")["judge"]
    assert judges["fd_dinov2"] == "dinov2-vit-l-14" and judges["cmmd"] == "clip-vit-l-14-336"

    shown, columns = table_frame(rows)
    assert columns[columns.index("gfid") + 1] == "fd_dinov2"
    html = main_table(rows, {})
    assert html.index(">gfid<") < html.index(">fd_dinov2<") < html.index(">precision<")
