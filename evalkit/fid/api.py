"""``evalkit.fid.api.fid(a, b)``: FID (and KID, precision/recall, IS) between two image sets.

Each side is an image folder, an npz batch (ADM samples ``arr_0`` or a reference with
``mu``/``sigma``), an evalkit statistics file, a uint8 NHWC array, or statistics objects. Image
sides are cached by content (see :mod:`evalkit.fid.refcache`), so a second run on the same data
reads statistics instead of running Inception again. One Inception pass feeds every metric.
"""

from __future__ import annotations

import functools
import logging
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from evalkit.fid import extras, spaces
from evalkit.fid.adm import load_npz
from evalkit.fid.inception import SPATIAL_DIM, SPATIAL_LAYER, InceptionFeatures, WeightsChoice
from evalkit.fid.isc import isc_from_state, isc_state, split_of
from evalkit.fid.refcache import RefCache, manifest_hash
from evalkit.fid.stats import (
    MIN_SAMPLES,
    FeatureStats,
    GaussianStats,
    ProtocolDeviationWarning,
    check_sample_count,
    fid_from_stats,
)
from evalkit.filehash import file_sha256
from evalkit.imagefiles import IMAGE_SUFFIXES, list_images, read_rgb

log = logging.getLogger("evalkit.fid")
#: Called after every Inception batch with (side name, images done, images in that side).
ProgressHook = Callable[[str, int, int], None]
TRANSFORM_NONE = spaces.INCEPTION_TRANSFORM


@dataclass
class Side:
    """One input, resolved: either images to run through Inception or ready statistics."""

    name: str
    files: list[Path] | None = None
    array: np.ndarray | None = None  # uint8 NHWC
    stats: FeatureStats | GaussianStats | None = None
    manifest: str | None = None  # content hash, for the cache key
    features: np.ndarray | None = None
    isc: dict[str, np.ndarray] | None = None
    spatial: FeatureStats | GaussianStats | None = None  # sFID (ADM's mu_s/sigma_s or ours)
    cache: str = "none"  # "hit", "miss" or "none"
    seconds_inception: float = 0.0

    @property
    def n(self) -> int | None:
        if self.files is not None:
            return len(self.files)
        if self.array is not None:
            return len(self.array)
        return self.stats.n if self.stats is not None else None


def resolve_side(x: Any, name: str) -> Side:
    """Turn a path / array / statistics object into a :class:`Side` (raises clear errors)."""
    if isinstance(x, (FeatureStats, GaussianStats)):
        return Side(name, stats=x)
    if isinstance(x, np.ndarray):
        if x.dtype != np.uint8 or x.ndim != 4 or x.shape[-1] != 3:
            raise ValueError(f"{name}: arrays must be uint8 NHWC RGB, got {x.dtype} {x.shape}")
        return Side(name, array=x, manifest="array:" + _array_hash(x))
    path = Path(x).expanduser()
    if not path.exists():
        raise FileNotFoundError(
            f"{name}: {path} does not exist (expected an image folder, an ADM/evalkit .npz, or "
            "cached statistics)"
        )
    if path.is_dir():
        files = list_images(path)
        if not files:
            raise FileNotFoundError(f"{name}: no images ({', '.join(IMAGE_SUFFIXES)}) in {path}")
        return Side(name, files=files, manifest="folder:" + manifest_hash(files, path))
    if path.suffix == ".npz":
        batch = load_npz(path)
        if batch.stats is not None:
            return Side(name, stats=batch.stats)
        if batch.gaussian is not None:
            return Side(
                name,
                stats=batch.gaussian,
                array=batch.images,
                manifest="npz:" + file_sha256(path),
                spatial=batch.spatial,
            )
        return Side(name, array=batch.images, manifest="npz:" + file_sha256(path))
    raise ValueError(f"{name}: {path} is neither a folder nor an .npz file")


def _array_hash(x: np.ndarray) -> str:
    import hashlib

    h = hashlib.sha256(str((x.shape, x.dtype.str)).encode())
    h.update(np.ascontiguousarray(x).data)
    return h.hexdigest()


def read_image(path: Path, sample_id: str | None = None) -> torch.Tensor:
    """uint8 CHW; a corrupt file raises ImageDecodeError naming the sample (the file's name
    unless a benchmark gives its own sample id) and the file."""
    arr = np.asarray(read_rgb(path, sample_id or path.name), dtype=np.uint8)
    return torch.from_numpy(arr.copy()).permute(2, 0, 1)


class _FileDataset(torch.utils.data.Dataset):
    def __init__(self, files: list[Path]):
        self.files = files

    def __len__(self) -> int:
        return len(self.files)

    def __getitem__(self, i: int) -> torch.Tensor:
        return read_image(self.files[i])


def iter_batches(side: Side, batch_size: int, num_workers: int = 0) -> Iterator[torch.Tensor]:
    """uint8 NCHW batches in order; images of different sizes go in separate sub-batches."""
    if side.array is not None:
        for i in range(0, len(side.array), batch_size):
            yield torch.from_numpy(np.ascontiguousarray(side.array[i : i + batch_size])).permute(
                0, 3, 1, 2
            )
        return
    assert side.files is not None
    loader = torch.utils.data.DataLoader(
        _FileDataset(side.files),
        batch_size=batch_size,
        num_workers=num_workers,
        collate_fn=list,
    )
    for items in loader:
        start = 0
        for j in range(1, len(items) + 1):
            if j == len(items) or items[j].shape != items[start].shape:
                yield torch.stack(items[start:j])
                start = j


def default_batch_size(device: str | torch.device) -> int:
    """Inception batch per device: small batches ran fastest on CPU (8: 1.18x over 32, cache
    effects); large ones fill a GPU. The batch never changes a result beyond 1e-5 (tested)."""
    return 64 if torch.device(device).type == "cuda" else 8


def default_device() -> str:
    return "cuda" if torch.cuda.is_available() else "cpu"


def extract(
    side: Side,
    net: Any,
    batch_size: int | None = None,
    keep_features: bool = False,
    want_logits: bool = False,
    num_workers: int = 0,
    progress: ProgressHook | None = None,
    want_spatial: bool = False,
) -> None:
    """Run the feature network over ``side``'s images once, filling stats / features / IS state
    (and sFID's spatial statistics with ``want_spatial``, Inception only)."""
    batch_size = batch_size or default_batch_size(net.device)
    stats = FeatureStats(net.dim)
    spatial = FeatureStats(SPATIAL_DIM) if want_spatial else None
    feats: list[np.ndarray] = []
    isc_parts: list[dict[str, np.ndarray]] = []
    total, seen = side.n or 0, 0
    if progress is not None:
        progress(side.name, 0, total)
    for batch in iter_batches(side, batch_size, num_workers):
        t0 = time.perf_counter()
        out = net(batch, want_logits=want_logits, want_spatial=want_spatial)
        side.seconds_inception += time.perf_counter() - t0
        stats.update(out.pool)
        if spatial is not None:
            spatial.update(out.spatial)
        if keep_features:
            feats.append(out.pool.astype(np.float32))
        if want_logits and out.logits is not None:
            rows = np.array([split_of(seen + i, total, 10) for i in range(len(batch))])
            isc_parts.append(isc_state(out.logits, rows))
        seen += len(batch)
        if progress is not None:
            progress(side.name, seen, total)
    side.stats = stats
    if spatial is not None:
        side.spatial = spatial
    side.features = np.concatenate(feats) if keep_features else None
    if isc_parts:
        side.isc = {k: sum(p[k] for p in isc_parts) for k in isc_parts[0]}


def side_stats(
    side: Side,
    net: LazyNet,
    *,
    keep_features: bool,
    want_logits: bool = False,
    cache: RefCache | None,
    transform: str | None = None,
    batch_size: int | None = None,
    num_workers: int = 0,
    progress: ProgressHook | None = None,
    want_spatial: bool = False,
) -> None:
    """Fill ``side.stats`` (and features, sFID statistics when asked) from the cache or by
    extraction."""
    transform = transform or net.transform()
    has_images = side.files is not None or side.array is not None
    need_spatial = want_spatial and side.spatial is None
    if need_spatial and not has_images:
        raise ValueError(
            f"{side.name}: sFID needs images, or an ADM batch with mu_s/sigma_s; this input is "
            "statistics only"
        )
    if side.stats is not None and (not keep_features or not has_images) and not need_spatial:
        if keep_features and side.stats is not None and not has_images:
            raise ValueError(
                f"{side.name}: KID / precision-recall need per-image features, but this input is "
                "statistics only (mu/sigma or n/s/q); pass images or an npz with arr_0"
            )
        return
    key = skey = None
    if cache is not None and side.manifest is not None and not want_logits:
        key = RefCache.key(side.manifest, transform, net.weights_id())
        skey = RefCache.key(side.manifest, transform, net.weights_id() + ":" + SPATIAL_LAYER)
        entry = cache.get(key, need_features=keep_features)
        spatial = cache.get(skey) if need_spatial else None
        if entry is not None and (spatial is not None or not need_spatial):
            side.cache = "hit"
            if side.stats is None or isinstance(side.stats, FeatureStats):
                side.stats = entry.stats
            side.features = entry.features
            if spatial is not None:
                side.spatial = spatial.stats
            return
        side.cache = "miss"
    fixed = side.stats if isinstance(side.stats, GaussianStats) else None
    extract(
        side,
        net.get(),
        batch_size,
        keep_features,
        want_logits,
        num_workers,
        progress,
        want_spatial=need_spatial,
    )
    if key is not None and cache is not None and isinstance(side.stats, FeatureStats):
        meta = {"weights": net.weights_id(), "transform": transform}
        cache.put(key, side.stats, side.features, meta)
        if need_spatial and skey is not None and isinstance(side.spatial, FeatureStats):
            cache.put(skey, side.spatial, None, {**meta, "layer": SPATIAL_LAYER})
    if fixed is not None:  # ADM reference: FID uses its mu/sigma, images only for PR/KID
        side.stats = fixed


class LazyNet:
    """Builds the network only when a side really needs features (not on a full cache hit)."""

    def __init__(self, weights: WeightsChoice, device: str, space: str = spaces.INCEPTION):
        self.weights, self.device, self.space = weights, device, spaces.check_space(space)
        self._net: Any = None
        self._id: str | None = None

    def get(self) -> Any:
        if self._net is None:
            self._net = spaces.feature_net(self.space, self.weights, self.device)
        return self._net

    def weights_id(self) -> str:
        if self._id is None:
            self._id = spaces.weights_id(self.space, self.weights)
        return self._id

    def transform(self) -> str:
        return spaces.transform(self.space)


@dataclass
class FidResult:
    """Every number with its n and provenance; ``to_dict`` is the ``--json`` output."""

    fid: float
    n_a: int | None
    n_b: int | None
    weights: str
    kid_mean: float | None = None
    kid_std: float | None = None
    kid_subset_size: int | None = None
    precision: float | None = None
    recall: float | None = None
    isc_mean: float | None = None
    isc_std: float | None = None
    features: str = "inception"  # the space of ``fid``: inception (FID) or dinov2-vit-l-14
    sfid: float | None = None
    cmmd: float | None = None
    density: float | None = None
    coverage: float | None = None
    extra_weights: dict[str, str] = field(default_factory=dict)  # space -> weights id
    cache_a: str = "none"
    cache_b: str = "none"
    comparable: bool = True  # false only for protocol deviations (``deviations``)
    warnings: list[str] = field(default_factory=list)  # every warning seen, for the record
    deviations: list[str] = field(default_factory=list)  # what makes the result not comparable
    seconds: float = 0.0
    seconds_inception: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def fid(
    a: Any,
    b: Any,
    *,
    kid: bool = False,
    prc: bool = False,
    isc: bool = False,
    batch_size: int | None = None,
    device: str | None = None,
    weights: WeightsChoice = "auto",
    cache: bool | str | Path = True,
    min_samples: str = "warn",
    kid_subsets: int = 100,
    kid_subset_size: int = 1000,
    seed: int = 2020,
    num_workers: int = 0,
    progress: ProgressHook | None = None,
    features: str = spaces.INCEPTION,
    sfid: bool = False,
    cmmd: bool = False,
    dc: bool = False,
) -> FidResult:
    """FID between ``a`` (samples) and ``b`` (reference), plus KID / precision-recall / IS of ``a``.

    ``features``: the space of the main distance (``dinov2-vit-l-14``: FD-DINOv2); KID,
    precision/recall and density/coverage (``dc``, k = 5) use the same features. ``sfid``: ADM's
    sFID (Inception mixed_6/conv); ``cmmd``: CMMD (CLIP ViT-L/14@336 embeddings).
    ``min_samples``: "warn" (default), "error" or "ignore" below 2048 samples per side.
    ``cache``: True (default root), False, or a directory. ``progress`` is called after every
    Inception batch (side, done, total); sides read from statistics or the cache never call it.
    """
    import warnings as _w

    t0 = time.perf_counter()
    device = device or default_device()
    net = LazyNet(weights, device, features)
    if isc and features != spaces.INCEPTION:
        raise ValueError(f"Inception Score is defined on Inception logits, not on {features}")
    if isc and not InceptionFeatures.pick(weights)[2]:
        from evalkit.fid.inception import InceptionScoreUnavailable, inception_score_refusal

        raise InceptionScoreUnavailable(inception_score_refusal(net.weights_id()))
    store = None if cache is False else RefCache(None if cache is True else cache)
    keep = kid or prc or dc
    sa, sb = resolve_side(a, "A"), resolve_side(b, "B")
    if features != spaces.INCEPTION:
        why = spaces.DISTANCE_NAME[features]
        sa, sb = extras.space_side(sa, features, why), extras.space_side(sb, features, why)
    spatial_here = sfid and features == spaces.INCEPTION
    with _w.catch_warnings(record=True) as caught:
        _w.simplefilter("always")
        for side in (sa, sb):
            if side.n is not None:
                check_sample_count(side.n, f"input {side.name}", min_samples)
        side_stats(
            sa,
            net,
            keep_features=keep,
            want_logits=isc,
            cache=store,
            batch_size=batch_size,
            num_workers=num_workers,
            progress=progress,
            want_spatial=spatial_here,
        )
        side_stats(
            sb,
            net,
            keep_features=keep,
            cache=store,
            batch_size=batch_size,
            num_workers=num_workers,
            progress=progress,
            want_spatial=spatial_here,
        )
        run = functools.partial(
            side_stats,
            cache=store,
            batch_size=batch_size,
            num_workers=num_workers,
            progress=progress,
        )
        extra_weights: dict[str, str] = {}
        if sfid:
            inception = LazyNet(weights, device)
            spa, spb = (
                (sa, sb)
                if spatial_here
                else extras.pass_in_space(
                    (sa, sb), inception, "sFID", run, keep_features=False, want_spatial=True
                )
            )
            assert spa.spatial is not None and spb.spatial is not None
            sfid_value = extras.sfid(spa.spatial, spb.spatial)
            extra_weights["sfid"] = inception.weights_id()
        if cmmd:
            clip = LazyNet(weights, device, spaces.CLIP)
            ca, cb = extras.pass_in_space((sa, sb), clip, "CMMD", run, keep_features=True)
            extra_weights["cmmd"] = clip.weights_id()
            cmmd_value = extras.cmmd(ca.features, cb.features)
    for w in caught:
        _w.warn_explicit(w.message, w.category, w.filename, w.lineno)
    assert sa.stats is not None and sb.stats is not None
    res = FidResult(
        fid=fid_from_stats(sa.stats, sb.stats),
        n_a=sa.n,
        n_b=sb.n,
        weights=net.weights_id(),
        features=features,
        sfid=sfid_value if sfid else None,
        cmmd=cmmd_value if cmmd else None,
        extra_weights=extra_weights,
        cache_a=sa.cache,
        cache_b=sb.cache,
        warnings=[str(w.message) for w in caught],
        deviations=[
            str(w.message) for w in caught if issubclass(w.category, ProtocolDeviationWarning)
        ],
    )
    for side in (sa, sb):  # few samples is a deviation even when its warning is silenced
        if min_samples == "ignore" and side.n is not None and side.n < MIN_SAMPLES:
            res.deviations.append(
                f"input {side.name} has n={side.n} samples, fewer than {MIN_SAMPLES}"
            )
    res.comparable = not res.deviations
    if kid:
        from evalkit.fid.kid import kid as kid_fn

        assert sa.features is not None and sb.features is not None
        res.kid_mean, res.kid_std, res.kid_subset_size = kid_fn(
            sa.features, sb.features, kid_subsets, kid_subset_size, seed
        )
    if prc:
        from evalkit.fid.prdc import precision_recall

        assert sa.features is not None and sb.features is not None
        res.precision, res.recall = precision_recall(sb.features, sa.features, device=device)
    if dc:
        assert sa.features is not None and sb.features is not None
        res.density, res.coverage = extras.density_coverage(sb.features, sa.features, device)
    if isc:
        if sa.isc is None:
            raise ValueError("Inception Score needs images on side A, not statistics")
        res.isc_mean, res.isc_std = isc_from_state(sa.isc)
    res.seconds = time.perf_counter() - t0
    res.seconds_inception = sa.seconds_inception + sb.seconds_inception
    return res
