"""LPIPS against the ``lpips`` package (0.1.4, the authors' code) with the same weights.

The torchvision backbones are not available offline, so both sides get the same seeded random
trunk; the linear layers are the package's own files (ours ship a pinned copy of them). The run
through ``evalkit.run("recon", ..., metrics=+lpips)`` is compared with the package on the same
uint8 pairs, so preprocessing (uint8 -> [-1, 1]) and loading are checked end to end.
"""

from __future__ import annotations

import functools
import hashlib
from pathlib import Path

import numpy as np
import pytest
import torch

import evalkit
from evalkit import catalog, store
from evalkit.metrics import lpips as ours
from evalkit.types import WeightsFile

lpips = pytest.importorskip("lpips", reason="the lpips package (test reference) is not installed")


@functools.cache
def _random_trunk(metric_id: str, seed: int) -> dict[str, torch.Tensor]:
    """torchvision's ``features`` with seeded default initialisation (the classifier skipped)."""
    import torchvision

    with torch.device("meta"):
        net = getattr(torchvision.models, ours.NETS[metric_id].torchvision_name)()
    features = net.features.to_empty(device="cpu")
    torch.manual_seed(seed)
    for m in features:
        if hasattr(m, "reset_parameters"):
            m.reset_parameters()
    return {f"features.{k}": v for k, v in features.state_dict().items()}


@functools.cache
def _package_lpips(metric_id: str, seed: int) -> torch.nn.Module:
    """lpips.LPIPS with its own linear layers and ``trunk`` copied into its slices."""
    ref = lpips.LPIPS(net="alex" if metric_id == "lpips" else "vgg", pnet_rand=True, verbose=False)
    slices = ours.NETS[metric_id].slices
    mapped = {}
    for k, v in _random_trunk(metric_id, seed).items():
        i = int(k.split(".")[1])
        if i < slices[-1]:
            s = next(n for n, end in enumerate(slices) if i < end) + 1
            mapped[f"slice{s}.{i}.{k.split('.')[2]}"] = v
    ref.net.load_state_dict(mapped, strict=True)  # every trunk tensor, by the package's names
    return ref.eval()


def _pairs(size: int) -> tuple[np.ndarray, np.ndarray]:
    """Real photos and a blurred, noisy copy of each (uint8)."""
    from skimage import data, filters

    refs = np.stack([data.astronaut()[:size, :size], data.coffee()[:size, :size]])
    rng = np.random.default_rng(0)
    dist = np.stack([filters.gaussian(r, sigma=1.5, channel_axis=-1) * 255 for r in refs])
    dist = np.clip(dist + rng.normal(0, 8, dist.shape), 0, 255).astype(np.uint8)
    return refs, dist


def _store_with_trunk(root: Path, metric_id: str, seed: int, monkeypatch) -> None:
    """The trunk as a store-only file (no URL, so no name-prefix check) under NETS[metric_id]."""
    net = ours.NETS[metric_id]
    rel = f"weights/test/{metric_id}-trunk.pth"
    (root / rel).parent.mkdir(parents=True, exist_ok=True)
    torch.save(_random_trunk(metric_id, seed), root / rel)
    backbone = WeightsFile(filename=Path(rel).name, store_path=rel)
    monkeypatch.setitem(
        ours.NETS, metric_id, ours.Net(net.torchvision_name, net.slices, backbone, net.linear)
    )


def test_shipped_linear_layers_are_the_package_files() -> None:
    pkg = Path(lpips.__file__).parent / "weights" / "v0.1"
    for metric_id, name in (("lpips", "alex"), ("lpips_vgg", "vgg")):
        shipped = store.packaged_path(ours.NETS[metric_id].linear)
        assert shipped is not None
        assert shipped.read_bytes() == (pkg / f"{name}.pth").read_bytes()
        assert (
            hashlib.sha256(shipped.read_bytes()).hexdigest() == ours.NETS[metric_id].linear.sha256
        )


@pytest.mark.parametrize(
    ("metric_id", "size"),
    [("lpips", 256), pytest.param("lpips_vgg", 96, marks=pytest.mark.slow)],  # vgg16(): 50 s
)
def test_distances_equal_the_package(metric_id, size, empty_store, monkeypatch) -> None:
    _store_with_trunk(empty_store, metric_id, 0, monkeypatch)
    refs, dist = _pairs(size)
    metric = catalog.metrics.build(metric_id)
    got = metric.compute.batch(refs, dist)
    assert metric.compute(refs[0], dist[0]) == pytest.approx(got[0], rel=1e-6)
    ref = _package_lpips(metric_id, 0)
    with torch.no_grad():
        want = (
            ref(lpips.im2tensor(refs[0]), lpips.im2tensor(dist[0])).item(),
            ref(lpips.im2tensor(refs[1]), lpips.im2tensor(dist[1])).item(),
        )
    assert got == pytest.approx(list(want), rel=1e-5, abs=1e-7)
    assert min(got) > 0 and metric.compute(refs[0], refs[0]) == 0.0


def test_recon_with_lpips_added_equals_the_package(empty_store, monkeypatch, tmp_path) -> None:
    _store_with_trunk(empty_store, "lpips", 1, monkeypatch)
    result = evalkit.run(
        "recon", "jpeg-q50", options={"limit": 2, "metrics": "+lpips"}, workers=0, out_dir=tmp_path
    )
    rows = result.rows.set_index("metric")
    assert {"psnr", "ssim", "lpips"} <= set(rows.index)
    assert not rows.loc["lpips", "higher_is_better"] and rows.loc["lpips", "n"] == 2
    # the package on the same uint8 pairs: the inputs and their JPEG-q50 reconstructions
    import io

    from PIL import Image

    from evalkit.benchmarks.images import embedded_photos, read_rgb, resize_center_crop

    photos = embedded_photos()
    ref = _package_lpips("lpips", 1)
    want = []
    for path, sid in list(zip(photos.paths, photos.ids))[:2]:
        im = resize_center_crop(read_rgb(path, sid), 256)
        buf = io.BytesIO()
        im.save(buf, format="JPEG", quality=50)
        rec = np.asarray(Image.open(buf).convert("RGB"))
        with torch.no_grad():
            want.append(ref(lpips.im2tensor(np.asarray(im)), lpips.im2tensor(rec)).item())
    per_sample = result.samples.drop_duplicates("sample_id")["lpips"].tolist()
    assert per_sample == pytest.approx(want, rel=1e-5)
    assert rows.loc["lpips", "value"] == pytest.approx(np.mean(want), rel=1e-5)


def test_recon_default_has_no_lpips_and_bad_option_is_refused(tmp_path) -> None:
    result = evalkit.run("recon", "identity", options={"limit": 1}, workers=0, out_dir=tmp_path)
    assert "lpips" not in set(result.rows["metric"])
    with pytest.raises(ValueError, match=r"-O metrics takes additions"):
        catalog.benchmarks.build("recon", metrics="lpips")
    with pytest.raises(ValueError, match=r"-O metrics takes additions"):
        catalog.benchmarks.build("imagenet-rfid", metrics="+fid")


def test_offline_without_the_backbone_names_the_torchvision_url(empty_store) -> None:
    with pytest.raises(store.MissingAssetError) as err:
        ours.load("lpips", device="cpu")
    msg = str(err.value)
    assert "https://download.pytorch.org/models/alexnet-owt-7be5be79.pth" in msg
    assert "weights/torchvision/" in msg and "EVALKIT_OFFLINE" in msg
