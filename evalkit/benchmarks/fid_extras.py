"""Extra distribution metrics on imagenet-gfid / imagenet-rfid: ``-O extra=fd_dinov2,sfid,...``.

They only add rows (the run's completeness and comparability are FID's): FD-DINOv2 and CMMD run
their own network over both sides; sFID takes Inception's mixed_6/conv from the pass FID already
makes; density/coverage use the Inception features kept for precision/recall. Batch states are
summable (statistics) or concatenated (per-image features, keys ending in ``feats``), so shards
merge as FID's do.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from evalkit.fid import spaces

EXTRAS = ("fd_dinov2", "sfid", "cmmd", "density", "coverage")
SPACE_OF = {"fd_dinov2": spaces.DINOV2, "cmmd": spaces.CLIP}


def parse(value: str | Sequence[str] | None) -> tuple[str, ...]:
    """``"fd_dinov2,cmmd"`` -> ("fd_dinov2", "cmmd"); unknown names raise ValueError."""
    if not value:
        return ()
    names = [v.strip() for v in (value.split(",") if isinstance(value, str) else value)]
    unknown = [n for n in names if n not in EXTRAS]
    if unknown:
        raise ValueError(f"unknown extra metric(s) {unknown}; choose from {', '.join(EXTRAS)}")
    return tuple(dict.fromkeys(n for n in names if n))


def is_concatenated(key: str) -> bool:
    return key.endswith("feats") or key == "feats_fake"


def merge(states: Sequence[dict[str, np.ndarray]]) -> dict[str, np.ndarray]:
    """Sums key by key, per-image features concatenated in order."""
    merged: dict[str, np.ndarray] = {}
    for state in states:
        for k, v in state.items():
            if k not in merged:
                merged[k] = v.copy()
            elif is_concatenated(k):
                merged[k] = np.concatenate([merged[k], v])
            else:
                merged[k] = merged[k] + v
    return merged


def batch_state(extras: tuple[str, ...], u8: Any, prefix: str, device: str) -> dict[str, Any]:
    """FD-DINOv2 statistics and CMMD embeddings of one batch (``prefix``: "fake_" / "real_")."""
    from evalkit.fid.stats import FeatureStats

    state: dict[str, Any] = {}
    if "fd_dinov2" in extras:
        pool = spaces.feature_net(spaces.DINOV2, device=device)(u8).pool
        state.update(FeatureStats(pool.shape[1]).update(pool).to_state(f"dinov2_{prefix}"))
    if "cmmd" in extras:
        emb = spaces.feature_net(spaces.CLIP, device=device)(u8).pool
        state[f"clip_{prefix}feats"] = emb.astype(np.float32)
    return state


def spatial_state(spatial: np.ndarray, prefix: str) -> dict[str, np.ndarray]:
    from evalkit.fid.stats import FeatureStats

    return FeatureStats(spatial.shape[1]).update(spatial).to_state(f"spatial_{prefix}")


def judge(metric: str, inception_weights: str) -> tuple[str, str]:
    """(judge, weights id) of a row: the network whose features the metric measures."""
    space = SPACE_OF.get(metric, spaces.INCEPTION)
    weights = inception_weights if space == spaces.INCEPTION else "auto"
    name = "inception-v3-compat" if space == spaces.INCEPTION else space
    return name, spaces.weights_id(space, weights)


def values(
    extras: tuple[str, ...],
    state: dict[str, np.ndarray],
    reference: dict[str, Any],
    device: str,
) -> dict[str, float]:
    """metric -> value. ``reference``: ``dinov2``/``spatial`` statistics, ``clip`` embeddings,
    ``inception`` features of the reference side (whichever the extras need)."""
    from evalkit import catalog
    from evalkit.fid.stats import FeatureStats

    out: dict[str, float] = {}
    if "fd_dinov2" in extras:
        fake = FeatureStats.from_state(state, "dinov2_fake_")
        out["fd_dinov2"] = catalog.metrics.build("fd_dinov2")(fake, reference["dinov2"])
    if "sfid" in extras:
        fake = FeatureStats.from_state(state, "spatial_fake_")
        out["sfid"] = catalog.metrics.build("sfid")(fake, reference["spatial"])
    if "cmmd" in extras:
        out["cmmd"] = catalog.metrics.build("cmmd")(state["clip_fake_feats"], reference["clip"])
    for metric in ("density", "coverage"):
        if metric in extras:
            real, fake = reference["inception"], state["feats_fake"]
            out[metric] = catalog.metrics.build(metric)(real, fake, device=device)
    return out
