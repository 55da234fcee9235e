"""`imagenet-rfid` (tokenizers) and `imagenet-gfid` (generators): FID as papers report it.

rFID: ImageNet-1k val, shorter side 256 (bicubic, antialiased) + centre crop 256, reconstruct,
clamp, uint8; FID of reconstructions against the same originals (statistics of the originals are
cached by content), plus IS (online weights only), PSNR, SSIM and, for discrete tokenizers,
codebook usage and entropy. gFID: generated samples (from a generator or an existing folder/npz)
against an ADM reference batch or cached statistics. Facts: shared/protocols/imagenet_fid.md.
"""

from __future__ import annotations

import dataclasses
import functools
import logging
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch

from evalkit import catalog
from evalkit.benchmarks import fid_extras
from evalkit.benchmarks.base import (
    BatchScore,
    Benchmark,
    BenchmarkSpec,
    DatasetManifest,
    MetricValue,
    RunFacts,
)
from evalkit.benchmarks.images import (
    ImageSet,
    folder,
    manifest,
    read_rgb,
    resize_center_crop,
    to_uint8,
)
from evalkit.benchmarks.samplefiles import addressed
from evalkit.cards import load_card, metric_ids, protocol_text, registry_metric, reported_values
from evalkit.filehash import file_sha256
from evalkit.modelid import published_ids
from evalkit.store import MissingAssetError, resolve, resolve_dir
from evalkit.types import WeightsFile

log = logging.getLogger("evalkit.fid")
# Protocol constants: benchmarks/imagenet-rfid/card.toml and benchmarks/imagenet-gfid/card.toml.
_RFID = load_card("imagenet-rfid")
_GFID = load_card("imagenet-gfid")
PROTOCOL_N: int = _RFID["protocol_n"]  # images behind every published ImageNet rFID / gFID
STORE_REL: str = _RFID["dataset"]["store_path"]
HUB_DATASET: str = _RFID["dataset"]["hub_id"]
TRANSFORM: str = _RFID["resize"]
N_CLASSES: int = _GFID["n_classes"]  # ImageNet-1k labels of the generated samples
HOW_TO_SUPPLY = (
    f"  pass a folder of ImageNet-1k validation images: --option data=/path/to/val\n"
    f"  or place them at <store>/{STORE_REL} and point $EVALKIT_STORE (or --store) at <store>\n"
    f"  (on a connected machine: download the validation split of the Hub dataset {HUB_DATASET},\n"
    f"  gated: accept its terms, and export the 50,000 images as files)"
)


# The validation archive of the Hub dataset (file name as the dataset's loading script used it;
# not verifiable offline). Found in the store first, else in the cache, else downloaded (gated).
# No sha256 is pinned (none readable here): a download is verified against the LFS sha256 the
# Hub reports at the commit locked on first use (evalkit.hubfetch).
VAL_ARCHIVE = WeightsFile(
    _RFID["dataset"]["archive"],
    hub_id=HUB_DATASET,
    repo_type="dataset",
    store_path=_RFID["dataset"]["archive_store_path"],
)


def _resolve_data(data: str | None) -> Path:
    """The ImageNet val folder, or one :class:`MissingAssetError` saying how to supply it.

    Without ``data``: ``<store>/datasets/imagenet-1k/val`` (a folder), else the Hub archive
    (store, cache or download) extracted once under the cache root.
    """
    if data is not None:
        path = Path(data).expanduser()
        if not path.is_dir():
            raise MissingAssetError(
                f"Missing ImageNet-1k validation images: {path} is not a folder\n"
                f"To supply them:\n{HOW_TO_SUPPLY}"
            )
        return path
    try:
        return resolve_dir(STORE_REL, "ImageNet-1k validation images (50,000)", HOW_TO_SUPPLY)
    except MissingAssetError as folder_missing:
        try:
            archive = resolve(VAL_ARCHIVE, "ImageNet-1k validation archive")
        except MissingAssetError as archive_missing:
            raise MissingAssetError(
                f"{folder_missing}\n\nNor the archive:\n{archive_missing}"
            ) from None
        return extract_once(archive)


def extract_once(archive: Path) -> Path:
    """Unpack a tar archive under the cache root (keyed by its path and size), atomically."""
    import os
    import shutil
    import tarfile
    import tempfile

    from evalkit.cache import cache_root, content_hash

    key = content_hash(str(archive), archive.stat().st_size)
    target = cache_root() / "datasets" / f"imagenet-val-{key}"
    if target.is_dir():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".extract-", dir=target.parent))
    try:
        if not hasattr(tarfile, "data_filter"):
            raise RuntimeError("extracting safely needs Python >= 3.10.12 (tarfile filters)")
        with tarfile.open(archive) as tar:
            tar.extractall(tmp, filter="data")  # no absolute paths, links or devices
        os.replace(tmp, target)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    log.info("extracted %s to %s", archive, target)
    return target


class _FidBenchmark(Benchmark):
    """Shared: the Inception network, summable statistics, and FID rows."""

    weights: str
    min_samples: str
    net: Any = None
    extras: tuple[str, ...] = ()  # -O extra=fd_dinov2,sfid,cmmd,density,coverage
    device: str = "cpu"

    def metric(self, row_id: str) -> Any:
        """The registered metric behind the card's ``row_id`` (e.g. rfid -> fid)."""
        specs = {m["id"]: m for m in load_card(self.spec.name)["metrics"]}
        return catalog.metrics.build(registry_metric(specs[row_id]))

    def value(self, row_id: str, value: float, n: int, **kw: Any) -> MetricValue:
        """A row named as the card names it, direction and version from the metric registry."""
        m = self.metric(row_id)
        return MetricValue(row_id, value, n, m.higher_is_better, metric_version=m.version, **kw)

    def reported_value(self, card: Any, value: MetricValue) -> float | None:
        ids = published_ids(card)
        for row in reported_values(self.spec.name):
            if (
                row["model"] in ids
                and row["metric"] == value.metric
                and int(row["setting"] or 0) == self.spec.resolution
            ):
                return float(row["value"])
        return None

    def setup(self, device: torch.device) -> None:
        from evalkit.fid.inception import shared_inception

        self.net = shared_inception(self.weights, str(device))  # type: ignore[arg-type]
        self.device = str(device)

    def describe_judges(self) -> dict[str, str]:
        from evalkit.fid.inception import InceptionFeatures

        return {"inception-v3-compat": InceptionFeatures.pick(self.weights)[1]}  # type: ignore[arg-type]

    def feature_runtime(self) -> str:
        """The runtime of the features role as the card's parity records name it."""
        weights_id = next(iter(self.describe_judges().values()))
        return "torch-fidelity" if weights_id.startswith("torch-fidelity") else "fid-helper"

    def _features_state(
        self, u8: torch.Tensor, prefix: str, first_index: list[int]
    ) -> tuple[dict[str, np.ndarray], np.ndarray]:
        from evalkit.fid.isc import isc_state, split_of
        from evalkit.fid.stats import FeatureStats

        want_logits = prefix == "fake_" and self.net.has_logits
        out = self.net(u8, want_logits=want_logits, want_spatial="sfid" in self.extras)
        state = FeatureStats().update(out.pool).to_state(prefix)
        if self.extras:
            state.update(fid_extras.batch_state(self.extras, u8, prefix, self.device))
            if out.spatial is not None:
                state.update(fid_extras.spatial_state(out.spatial, prefix))
        if want_logits and out.logits is not None:
            n = len(self.sample_ids())
            rows = np.array([split_of(i, n, 10) for i in first_index])
            state.update(isc_state(out.logits, rows))
        return state, out.pool

    def _fid_rows(self, fake: Any, real: Any, n: int, metric: str) -> list[MetricValue]:
        from evalkit.fid.stats import check_sample_count

        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            check_sample_count(n, f"{self.spec.name}", self.min_samples)
        for w in caught:
            log.warning("%s", w.message)
        judge, weights = next(iter(self.describe_judges().items()))
        value = self.metric(metric)(fake, real)
        return [self.value(metric, value, n, judge=judge, judge_weights=weights)]

    def extra_rows(
        self, state: dict[str, np.ndarray], reference: dict[str, Any], n: int
    ) -> list[MetricValue]:
        """The rows of ``-O extra=...``, right after FID's (the site shows them beside it)."""
        rows = []
        for metric, value in fid_extras.values(self.extras, state, reference, self.device).items():
            m = catalog.metrics.build(metric)
            judge, weights = fid_extras.judge(metric, self.weights)
            rows.append(
                MetricValue(
                    metric,
                    value,
                    n,
                    m.higher_is_better,
                    metric_version=m.version,
                    judge=judge,
                    judge_weights=weights,
                )
            )
        return rows


class ImageNetRFID(_FidBenchmark):
    def __init__(
        self, data: str | None, weights: str, min_samples: str, added: Sequence[str] = ()
    ) -> None:
        self.data, self.weights, self.min_samples = data, weights, min_samples
        self.added = tuple(added)  # -O metrics=+lpips: per-image metrics added to the card's
        self._added_metrics: dict[str, Any] = {}  # built once (LPIPS holds a network)
        self.limit: int | None = None  # --limit, from the runner (use_limit)
        self.data_mismatch: str | None = "data not read yet"  # check() settles it
        self.images: ImageSet | None = None
        self._ref: Any = None  # cached statistics of the originals
        self._ref_key: str | None = None
        self.spec = self._make_spec(
            DatasetManifest(_RFID["dataset"]["name"], _RFID["dataset"]["source"])
        )

    def _make_spec(
        self, manifest: DatasetManifest, ids: Sequence[str] | None = None
    ) -> BenchmarkSpec:
        from evalkit.benchmarks.expected import ExpectedData, mismatch

        if ids is not None and self.limit is None:  # the folder must hold the 50,000 val files
            self.data_mismatch = mismatch(
                manifest,
                ids,
                ExpectedData("ImageNet-1k val (ILSVRC2012)", n=PROTOCOL_N, file_names=_VAL_NAMES()),
            )
        return BenchmarkSpec(
            name="imagenet-rfid",
            version=_RFID["version"],
            task=_RFID["task"],
            description=_RFID["description"],
            dataset=manifest,
            resolution=_RFID["resolutions"][0],
            resize=TRANSFORM,
            metrics=metric_ids("imagenet-rfid"),
            protocol=protocol_text("imagenet-rfid"),
            options={"weights": self.weights}
            | ({"metrics": ",".join(f"+{m}" for m in self.added)} if self.added else {}),
        )

    def check(self) -> None:
        if self.images is not None:
            return
        images = folder(_resolve_data(self.data))
        self.images = images
        self.spec = self._make_spec(images.manifest, images.ids)

    def use_limit(self, n_samples: int) -> None:
        """Only the first ``n_samples`` originals: their own manifest and reference statistics."""
        self.check()
        assert self.images is not None
        self.limit = n_samples
        ids, paths = self.images.ids[:n_samples], self.images.paths[:n_samples]
        self.images = folder_subset(ImageSet(ids, paths, self.images.manifest))
        self.spec = self._make_spec(self.images.manifest, self.images.ids)

    def facts(self, scored_ids: Sequence[str]) -> RunFacts:
        return RunFacts(
            unit="image",
            expected=None,  # the card's n (50,000)
            scored=len(self.units_in(scored_ids)),
            data_mismatch=self.data_mismatch,
            judges={"features": self.feature_runtime()},
            options={
                "data": self.data or "",
                "weights": self.weights,
                "min_samples": self.min_samples,
                "metrics": ",".join(f"+{m}" for m in self.added),
            },
            resolution=self.spec.resolution,
        )

    def sample_ids(self) -> Sequence[str]:
        self.check()
        assert self.images is not None
        return self.images.ids

    def load(self, index: int) -> dict[str, Any]:
        assert self.images is not None
        sid = self.images.ids[index]
        size = self.spec.resolution
        u8 = np.asarray(resize_center_crop(read_rgb(self.images.paths[index], sid), size), np.uint8)
        t = torch.from_numpy(u8.copy()).permute(2, 0, 1)
        return {"sample_id": sid, "index": index, "input": t.float().div(255.0), "u8": t}

    def setup(self, device: torch.device) -> None:
        self.check()
        super().setup(device)
        self._ref = self._cached_reference()

    def _cached_reference(self) -> Any:
        """Statistics of the originals from the cache, or None; needs no network (a rerun of a
        finished run skips ``setup`` and still finds them)."""
        from evalkit.fid.inception import InceptionFeatures
        from evalkit.fid.refcache import RefCache

        self.check()
        if self._ref_key is None:
            self._ref_key = RefCache.key(
                "manifest:" + str(self.spec.dataset.sha256),
                TRANSFORM,
                InceptionFeatures.pick(self.weights)[1],
            )  # type: ignore[arg-type]
        entry = RefCache().get(self._ref_key)
        return entry.stats if entry is not None else None

    def _reference(self, state: dict[str, np.ndarray], n: int) -> Any:
        """Statistics of exactly the ``n`` originals behind the reconstructions.

        From the cache, else from the run's own ``real_`` state when it covers all ``n`` (then
        cached), else (a resumed run whose cached statistics vanished between invocations, so
        its state holds only some originals) recomputed from the images in one pass.
        """
        from evalkit.fid.refcache import RefCache
        from evalkit.fid.stats import FeatureStats

        real = self._ref if self._ref is not None else self._cached_reference()
        if real is None and "real_n" in state:
            partial = FeatureStats.from_state(state, "real_")
            if partial.n == n:
                real = partial
            else:
                log.warning(
                    "imagenet-rfid: the run's real-image statistics cover n=%d of %d "
                    "originals (resumed without the cached statistics); recomputing "
                    "them from the images",
                    partial.n,
                    n,
                )
        if real is None:
            real = self._real_stats_from_images()
        if real.n != n:
            raise ValueError(
                f"imagenet-rfid: real-image statistics cover n={real.n} images, the "
                f"reconstructions n={n}; refusing to compare different sets"
            )
        if self._ref_key and RefCache().get(self._ref_key) is None:
            RefCache().put(self._ref_key, real, meta={"transform": TRANSFORM})
        return real

    def _real_stats_from_images(self, batch: int = 16) -> Any:
        from evalkit.fid.api import default_device
        from evalkit.fid.inception import shared_inception
        from evalkit.fid.stats import FeatureStats

        net = self.net if self.net is not None else shared_inception(self.weights, default_device())  # type: ignore[arg-type]
        stats = FeatureStats()
        n = len(self.sample_ids())
        for start in range(0, n, batch):
            u8 = torch.stack([self.load(i)["u8"] for i in range(start, min(start + batch, n))])
            stats.update(net(u8).pool)
        return stats

    def score(self, items: list[dict[str, Any]], outputs: torch.Tensor) -> BatchScore:
        psnr, ssim, ssim_uniform7 = (self.metric(m) for m in ("psnr", "ssim", "ssim_uniform7"))
        orig = torch.stack([it["u8"] for it in items])
        recon = torch.from_numpy(to_uint8(outputs)).permute(0, 3, 1, 2).contiguous()
        idx = [int(it["index"]) for it in items]
        state, pool = self._features_state(recon, "fake_", idx)
        if self._ref is None or self.extras:  # originals skipped once cached, unless extras
            real_state, real_pool = self._features_state(orig, "real_", idx)
            state.update(real_state)
            if {"density", "coverage"} & set(self.extras):
                state["feats_fake"] = pool.astype(np.float32)
                state["inception_real_feats"] = real_pool.astype(np.float32)
        records = []
        for it, o, r in zip(items, orig, recon, strict=True):
            a, b = o.permute(1, 2, 0).numpy(), r.permute(1, 2, 0).numpy()
            records.append(
                {
                    "sample_id": it["sample_id"],
                    "psnr": psnr(a, b),
                    "ssim": ssim(a, b),
                    "ssim_uniform7": ssim_uniform7(a, b),
                }
            )
        for m in self.added:  # the same uint8 pairs, one batch
            metric = self._added_metrics.get(m) or self._added_metrics.setdefault(m, self.metric(m))
            hwc = [t.permute(0, 2, 3, 1).numpy() for t in (orig, recon)]
            for rec, v in zip(records, metric.compute.batch(*hwc), strict=True):
                rec[m] = v
        return BatchScore(records, state)

    def merge_states(self, states: Sequence[dict[str, np.ndarray]]) -> dict[str, np.ndarray] | None:
        """Sums key by key over the union of keys: ``real_`` statistics are absent from batches
        scored while the originals' statistics were cached (see :meth:`_reference`)."""
        if not states:
            return None
        return fid_extras.merge(states)

    def _rfid_extra_reference(self, state: dict[str, np.ndarray]) -> dict[str, Any]:
        """The originals' side of the extra metrics, collected in the run's own state."""
        from evalkit.fid.stats import FeatureStats

        ref: dict[str, Any] = {
            "clip": state.get("clip_real_feats"),
            "inception": state.get("inception_real_feats"),
        }
        for name, prefix in (("dinov2", "dinov2_real_"), ("spatial", "spatial_real_")):
            if f"{prefix}n" in state:
                ref[name] = FeatureStats.from_state(state, prefix)
        return ref

    def score_tokens(self, token_ids: torch.Tensor, codebook_size: int) -> dict[str, np.ndarray]:
        """Summable codebook histogram of a batch's discrete tokens (merge it into the state)."""
        ids = token_ids.reshape(-1).long().cpu()
        return {
            "code_counts": torch.bincount(ids, minlength=codebook_size).numpy().astype(np.int64)
        }

    def summarize(
        self, records: pd.DataFrame, state: dict[str, np.ndarray] | None
    ) -> list[MetricValue]:
        from evalkit.fid.stats import FeatureStats
        from evalkit.metrics.pixel import psnr_rows

        if not state or "fake_n" not in state:
            raise ValueError("imagenet-rfid: no feature statistics were collected (no batches?)")
        fake = FeatureStats.from_state(state, "fake_")
        n = len(self.sample_ids())
        if fake.n != n:
            raise ValueError(f"imagenet-rfid: statistics cover n={fake.n} of {n} samples")
        real = self._reference(state, n)
        rows = self._fid_rows(fake, real, n, "rfid")
        if self.extras:
            rows += self.extra_rows(state, self._rfid_extra_reference(state), n)
        if "isc_n" in state:
            rows.append(
                self.value(
                    "is",
                    self.metric("is")(state),
                    n,
                    judge=rows[0].judge,
                    judge_weights=rows[0].judge_weights,
                )
            )
        else:
            log.warning("imagenet-rfid: IS not computed: offline Inception weights have no logits")
        rows += psnr_rows(records["psnr"].to_numpy(dtype=np.float64))
        for m in ("ssim", "ssim_uniform7", *self.added):
            rows.append(self.value(m, float(records[m].mean()), len(records)))
        if "code_counts" in state:
            for m in ("codebook_usage", "code_entropy"):
                rows.append(self.value(m, self.metric(m)(state["code_counts"]), n))
        return rows


def _VAL_NAMES() -> frozenset[str]:  # noqa: N802 - a constant, built on demand
    """The file names of the 50,000 ILSVRC2012 validation images."""
    return frozenset(f"ILSVRC2012_val_{i:08d}.JPEG" for i in range(1, PROTOCOL_N + 1))


def folder_subset(images: ImageSet) -> ImageSet:
    """An ImageSet restricted to its first ids, with a manifest of exactly those files."""
    m = images.manifest
    sub = manifest(m.name, m.source, list(images.ids), list(images.paths), m.license, m.revision)
    return dataclasses.replace(images, manifest=sub)


ADM_REF: str = _GFID["dataset"]["store_path"]
ADM_URL: str = _GFID["dataset"]["source"]


class ImageNetGFID(_FidBenchmark):
    """Generated samples vs the ADM reference batch (FID on its mu/sigma, PR on its images)."""

    def __init__(
        self,
        samples: str | None,
        reference: str | None,
        weights: str,
        min_samples: str,
        per_class: int = _GFID["per_class"],
    ) -> None:
        self.samples, self.reference, self.limit = samples, reference, None
        self.weights, self.min_samples = weights, min_samples
        self.per_class = per_class
        self._side: Any = None
        self._ids: list[str] | None = None
        self._labels: np.ndarray | None = None
        self.spec = BenchmarkSpec(
            name="imagenet-gfid",
            version=_GFID["version"],
            task=_GFID["task"],
            description=_GFID["description"],
            dataset=DatasetManifest(_GFID["dataset"]["name"], ADM_URL),
            resolution=_GFID["resolutions"][0],
            resize=_GFID["resize"],
            metrics=metric_ids("imagenet-gfid"),
            protocol=protocol_text("imagenet-gfid"),
            options={"weights": weights, "per_class": per_class},
        )

    def use_limit(self, n_samples: int) -> None:
        """Only the first ``n_samples`` samples (IS splits are cut over those)."""
        self.limit, self._ids = n_samples, None

    def facts(self, scored_ids: Sequence[str]) -> RunFacts:
        return RunFacts(
            unit="sample",
            expected=None,  # the card's n: 50,000 generated samples (50 per class)
            scored=len(self.units_in(scored_ids)),
            judges={"features": self.feature_runtime()},
            options={
                "samples": self.samples or "",
                "reference": self.reference or "",
                "weights": self.weights,
                "min_samples": self.min_samples,
                "per_class": self.per_class,
            },
            resolution=self.spec.resolution,
        )

    def reference_path(self) -> Path:
        if self.reference is not None:
            path = Path(self.reference).expanduser()
            if path.exists():
                return path
            searched = [path]
        else:
            from evalkit.store import store_dirs

            searched = [d / ADM_REF for d in store_dirs()]
            for path in searched:
                if path.is_file():
                    return path
        where = "\n".join(f"  {p}" for p in searched) or "  (no store set: $EVALKIT_STORE empty)"
        raise MissingAssetError(
            f"Missing gFID reference batch VIRTUAL_imagenet256_labeled.npz\nLooked in:\n{where}\n"
            f"To supply it:\n  pass --option reference=/path/to/ref.npz (ADM npz or cached stats)\n"
            f"  or put it at <store>/{ADM_REF} (download {ADM_URL} on a connected machine)"
        )

    def check(self) -> None:
        self.reference_path()
        if self.samples is not None and self._side is None:
            from evalkit.fid.api import resolve_side

            self._side = resolve_side(self.samples, "samples")
            content = self._side.manifest or file_sha256(self.samples)
            self.spec = addressed(self.spec, content)  # the samples' content is in the run id

    def sample_ids(self) -> Sequence[str]:
        if self._ids is None:  # computed once: load() runs per sample
            self.check()
            n = self._side.n if self._side is not None else 1000 * self.per_class
            n = n if self.limit is None else min(n, self.limit)
            if self._side is not None:
                self._ids = [f"sample-{i:06d}" for i in range(n)]
            else:
                labels = self.labels()
                self._ids = [f"class{int(labels[i]):04d}-seed{self.run_seed + i}" for i in range(n)]
        return self._ids

    def labels(self) -> np.ndarray:
        """Class of every generated sample: ``per_class`` of each of the 1000 classes, in the
        order of a permutation seeded by ``seed``.

        ADM's sampler draws labels at random, and IS splits are contiguous blocks of 5,000
        samples (ADM's rule); class-sorted labels would put 100 classes in a split and cap IS
        near 100. Precomputed samples are not relabelled: they keep their file order, as ADM's
        evaluator reads them.
        """
        if self._labels is None:
            balanced = np.repeat(np.arange(N_CLASSES, dtype=np.int64), self.per_class)
            self._labels = np.random.default_rng(self.run_seed).permutation(balanced)
        return self._labels

    def condition(self, index: int) -> Any:
        """What a generator adapter is asked for: ``labels()[index]``, seed = base seed + index."""
        from evalkit.types import Condition

        return Condition(seed=self.run_seed + index, class_id=int(self.labels()[index]))

    def conditions(self) -> list[Any]:
        return [self.condition(i) for i in range(len(self.sample_ids()))]

    def load(self, index: int) -> dict[str, Any]:
        item: dict[str, Any] = {"sample_id": self.sample_ids()[index], "index": index}
        if self._side is None:  # generator mode: the runner generates from the condition
            item["condition"] = self.condition(index)
            return item
        if self._side.array is not None:
            u8 = torch.from_numpy(np.ascontiguousarray(self._side.array[index])).permute(2, 0, 1)
        else:
            from evalkit.fid.api import read_image

            u8 = read_image(self._side.files[index], item["sample_id"])
        item["input"] = u8.float().div(255.0)
        return item

    def score(self, items: list[dict[str, Any]], outputs: torch.Tensor) -> BatchScore:
        u8 = torch.from_numpy(to_uint8(outputs)).permute(0, 3, 1, 2).contiguous()
        state, pool = self._features_state(u8, "fake_", [int(it["index"]) for it in items])
        state["feats_fake"] = pool.astype(np.float32)  # for precision/recall
        return BatchScore([{"sample_id": it["sample_id"]} for it in items], state)

    def merge_states(self, states: Sequence[dict[str, np.ndarray]]) -> dict[str, np.ndarray] | None:
        """Sums, except per-sample features, which are concatenated in order."""
        if not states:
            return None
        return fid_extras.merge(states)

    def summarize(
        self, records: pd.DataFrame, state: dict[str, np.ndarray] | None
    ) -> list[MetricValue]:
        from evalkit.fid.api import LazyNet, resolve_side, side_stats
        from evalkit.fid.refcache import RefCache
        from evalkit.fid.stats import FeatureStats

        if not state or "fake_n" not in state:
            raise ValueError("imagenet-gfid: no feature statistics were collected (no batches?)")
        fake = FeatureStats.from_state(state, "fake_")
        ref = resolve_side(self.reference_path(), "reference")
        has_images = ref.array is not None or ref.files is not None
        side_stats(
            ref,
            LazyNet(self.weights, "cpu"),
            keep_features=has_images,  # type: ignore[arg-type]
            cache=RefCache(),
        )
        rows = self._fid_rows(fake, ref.stats, fake.n, "gfid")
        judge, jw = rows[0].judge, rows[0].judge_weights
        if "isc_n" in state:
            rows.append(
                self.value("is", self.metric("is")(state), fake.n, judge=judge, judge_weights=jw)
            )
        if self.extras:
            rows[1:1] = self.extra_rows(state, self._gfid_extra_reference(ref), fake.n)
        if has_images and ref.features is not None:
            for metric in ("precision", "recall"):
                value = self.metric(metric)(ref.features, state["feats_fake"])
                rows.append(self.value(metric, value, fake.n, judge=judge, judge_weights=jw))
        return rows

    def _gfid_extra_reference(self, ref: Any) -> dict[str, Any]:
        """The reference batch through each extra metric's network (cached by content); sFID
        reads the batch's mu_s/sigma_s when it has them."""
        from evalkit.fid import extras
        from evalkit.fid.api import LazyNet, side_stats
        from evalkit.fid.refcache import RefCache

        run = functools.partial(side_stats, cache=RefCache())
        out: dict[str, Any] = {"inception": ref.features}
        if "sfid" in self.extras:
            out["spatial"] = ref.spatial
            if ref.spatial is None:
                net = LazyNet(self.weights, self.device)  # type: ignore[arg-type]
                side = extras.pass_in_space(
                    (ref,), net, "sFID", run, keep_features=False, want_spatial=True
                )[0]
                out["spatial"] = side.spatial
        for metric, key, keep in (("fd_dinov2", "dinov2", False), ("cmmd", "clip", True)):
            if metric in self.extras:
                net = LazyNet(self.weights, self.device, fid_extras.SPACE_OF[metric])  # type: ignore[arg-type]
                side = extras.pass_in_space((ref,), net, metric, run, keep_features=keep)[0]
                out[key] = side.features if keep else side.stats
        return out


_RFID_OPTIONS = {"data", "weights", "min_samples", "resolution", "extra", "metrics"}
_GFID_OPTIONS = {"samples", "reference", "weights", "min_samples", "per_class", "extra"}


def build(name: str, **options: Any) -> Benchmark:
    """Factory for the catalog: ``imagenet-rfid`` or ``imagenet-gfid``."""
    allowed = _RFID_OPTIONS if name == "imagenet-rfid" else _GFID_OPTIONS
    unknown = set(options) - allowed
    if unknown:
        raise ValueError(f"{name}: unknown option(s) {sorted(unknown)}; allowed: {sorted(allowed)}")
    weights = str(options.get("weights", "auto"))
    min_samples = str(options.get("min_samples", "warn"))
    if name == "imagenet-rfid":
        sizes = _RFID["resolutions"]
        if int(options.get("resolution", sizes[0])) not in sizes:
            raise ValueError(f"imagenet-rfid is defined at {sizes} only (the published protocol)")
        from evalkit.metrics.lpips import added_metrics

        added = added_metrics(options.get("metrics"), name)
        bench: _FidBenchmark = ImageNetRFID(options.get("data"), weights, min_samples, added)
    elif name == "imagenet-gfid":
        bench = ImageNetGFID(
            options.get("samples"),
            options.get("reference"),
            weights,
            min_samples,
            int(options.get("per_class", _GFID["per_class"])),
        )
    else:
        raise ValueError(f"unknown benchmark {name!r}: imagenet-rfid or imagenet-gfid")
    bench.extras = fid_extras.parse(options.get("extra"))
    if bench.extras:  # extra outputs: recorded, completeness and comparability unchanged
        bench.spec = dataclasses.replace(
            bench.spec, options={**bench.spec.options, "extra": ",".join(bench.extras)}
        )
    return bench
