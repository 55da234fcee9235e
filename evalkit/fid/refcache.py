"""Cache of reference statistics, keyed by everything that changes them.

torch-fidelity keys its cache by an input name only; we key by a content hash of the dataset
manifest, the image transform, the feature weights and this code's version, so a changed file,
transform or network can never serve stale statistics. Writes are atomic (temp file + rename).
The folder is capped (2 GB by default, see :mod:`evalkit.fid.cachedir`): after each write the
least recently used entries are removed.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from evalkit.cache import atomic_write, cache_root, content_hash
from evalkit.fid import cachedir
from evalkit.fid.stats import FeatureStats
from evalkit.filehash import files_manifest

log = logging.getLogger("evalkit.fid")

#: Bump when feature extraction or statistics change in a way that alters numbers.
CODE_VERSION = "evalkit.fid/1"


def manifest_hash(files: list[Path], root: Path | None = None) -> str:
    """sha256 over (relative name, content sha256) of every file, in order."""
    return files_manifest((p.relative_to(root).as_posix() if root else p.name, p) for p in files)


def _torch_fidelity_version() -> str:
    try:
        from importlib.metadata import version

        return version("torch-fidelity")
    except Exception:  # noqa: BLE001 - not installed means "unknown", still a valid key part
        return "unknown"


@dataclass
class CacheEntry:
    stats: FeatureStats
    features: np.ndarray | None  # (N, 2048) float32 pool features, kept for KID / precision-recall
    meta: dict[str, Any]
    path: Path


class RefCache:
    """Reference statistics under ``<cache root>/fid/refstats/<key>.npz``, size-capped (LRU).

    ``max_bytes`` defaults to ``$EVALKIT_FID_CACHE_MAX`` or 2 GB; ``None`` there means no cap.
    """

    def __init__(self, root: str | Path | None = None, max_bytes: int | str | None = "env"):
        self.root = Path(root) if root else cache_root() / "fid" / "refstats"
        self.max_bytes = (
            cachedir.max_bytes() if max_bytes == "env" else cachedir.parse_size(max_bytes)
        )

    @staticmethod
    def key(manifest: str, transform: str, weights_id: str, **extra: Any) -> str:
        return content_hash(
            {
                "manifest": manifest,
                "transform": transform,
                "weights": weights_id,
                "code": CODE_VERSION,
                "torch_fidelity": _torch_fidelity_version(),
                **extra,
            },
            length=32,
        )

    def path(self, key: str) -> Path:
        return self.root / f"{key}.npz"

    def get(self, key: str, need_features: bool = False) -> CacheEntry | None:
        path = self.path(key)
        if not path.is_file():
            return None
        with np.load(path, allow_pickle=False) as z:
            has_feats = "features" in z.files
            if need_features and not has_feats:
                return None
            stats = FeatureStats.from_state({k: z[k] for k in ("n", "s", "q")})
            feats = z["features"] if has_feats else None
            meta = {k[5:]: str(z[k]) for k in z.files if k.startswith("meta_")}
        cachedir.mark_used(path)
        log.info("fid cache: read reference statistics %s (n=%d) from %s", key, stats.n, path)
        return CacheEntry(stats, feats, meta, path)

    def put(
        self,
        key: str,
        stats: FeatureStats,
        features: np.ndarray | None = None,
        meta: dict[str, Any] | None = None,
    ) -> Path:
        arrays: dict[str, np.ndarray] = dict(stats.to_state())
        if features is not None:
            arrays["features"] = np.asarray(features, np.float32)
        for k, v in (meta or {}).items():
            arrays[f"meta_{k}"] = np.array(str(v))

        def write(tmp: str) -> None:
            with open(tmp, "wb") as f:
                np.savez(f, **arrays)

        path = atomic_write(self.path(key), write)
        log.info("fid cache: wrote reference statistics %s (n=%d) to %s", key, stats.n, path)
        cachedir.enforce(self.root, self.max_bytes, keep=path)
        return path
