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
    from evalkit.flags import derive

    (tmp_path / "ref.npz").write_bytes(b"")
    plain = build("imagenet-gfid", reference=str(tmp_path / "ref.npz"))
    extra = build("imagenet-gfid", reference=str(tmp_path / "ref.npz"), extra=EXTRA)
    flags = [derive("imagenet-gfid", b.facts(b.sample_ids())) for b in (plain, extra)]
    assert flags[0].complete, flags[0].reasons  # the positive control: a full default run
    assert flags[1] == flags[0]
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


def test_rfid_inception_extras_on_identity_and_jpeg(tmp_path: Path, make_photos, net) -> None:
    """imagenet-rfid -O extra=sfid,density,coverage (Inception only: fast): identity gives sFID
    0 and full coverage; JPEG q10 against the same originals equals the direct computation."""
    import pandas as pd

    from evalkit.benchmarks.imagenet_fid import build
    from evalkit.catalog import models
    from evalkit.fid.prdc import density_coverage
    from evalkit.fid.stats import FeatureStats, fid_from_stats

    real_images, _, write_folder = make_photos
    data = write_folder(real_images(6, 128, seed=1), tmp_path / "val")

    def run(recon):  # noqa: ANN001, ANN202 - what the runner does, in two batches
        bench = build(
            "imagenet-rfid",
            data=str(data),
            weights="fid-helper",
            extra="sfid,density,coverage",
        )
        bench.use_limit(6)  # what the runner does for --limit 6
        bench.check()
        bench.setup(torch.device("cpu"))
        records, states, originals, outputs = [], [], [], []
        for start in (0, 3):
            items = [bench.load(i) for i in range(start, start + 3)]
            out = recon(torch.stack([it["input"] for it in items])).clamp(0, 1)
            scored = bench.score(items, out)
            records += scored.records
            states.append(scored.state)
            originals += [it["u8"] for it in items]
            outputs.append(out)
        rows = bench.summarize(pd.DataFrame(records), bench.merge_states(states))
        return {m.metric: m for m in rows}, [r.metric for r in rows], originals, outputs

    ident, order, _, _ = run(lambda x: x)
    assert order[:2] == ["rfid", "sfid"]
    assert abs(ident["sfid"].value) < 1e-6 and ident["coverage"].value == 1.0
    jpeg = models.build("jpeg-q10").reconstruct
    rows, _, originals, outputs = run(jpeg)
    real_u8 = torch.stack(originals)
    fake_u8 = (torch.cat(outputs) * 255).round().to(torch.uint8)
    real, fake = net(real_u8, want_spatial=True), net(fake_u8, want_spatial=True)
    sfid = fid_from_stats(*(FeatureStats(2023).update(x.spatial) for x in (fake, real)))
    assert rows["sfid"].value == pytest.approx(sfid, rel=1e-4)
    dc = density_coverage(real.pool, fake.pool)
    assert (rows["density"].value, rows["coverage"].value) == pytest.approx(dc, abs=1e-6)
    assert rows["sfid"].judge == "inception-v3-compat" and rows["sfid"].n == 6
