"""The distances beside FID in ``evalkit fid`` and :func:`evalkit.fid.api.fid`: sFID, CMMD,
density/coverage, and FD in another feature space (FD-DINOv2).

Each space runs its own pass over the images (cached by content like FID's); sFID's spatial
statistics come from the Inception pass FID already makes, when FID is computed in Inception
space. Statistics-only inputs (mu/sigma, n/s/q) are Inception statistics: other spaces need the
images, and sFID needs images or an ADM batch carrying ``mu_s``/``sigma_s``.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from evalkit.fid import spaces

Side = Any  # evalkit.fid.api.Side (not imported: api imports this module)


def space_side(side: Side, space: str, why: str) -> Side:
    """A copy of ``side`` holding only its images, for a pass in ``space``; statistics-only
    inputs raise ValueError naming the side and what needed images."""
    if side.files is None and side.array is None:
        raise ValueError(
            f"{side.name}: {why} needs the images ({space} features), but this input is "
            "statistics only (mu/sigma or n/s/q are Inception statistics)"
        )
    spatial = side.spatial if space == spaces.INCEPTION else None
    name = side.name if space == spaces.INCEPTION else f"{side.name} ({space})"
    return dataclasses.replace(
        side, name=name, stats=None, features=None, isc=None, spatial=spatial, cache="none"
    )


def sfid(a: Any, b: Any) -> float:
    """Fréchet distance of the two sides' spatial statistics (ADM's sFID)."""
    from evalkit.fid.stats import fid_from_stats

    return fid_from_stats(a, b)


def density_coverage(real: Any, fake: Any, device: str) -> tuple[float, float]:
    from evalkit.fid.prdc import density_coverage as dc

    return dc(real, fake, device=device)


def cmmd(a: Any, b: Any) -> float:
    from evalkit.fid.cmmd import mmd

    return mmd(a, b)


def pass_in_space(
    sides: tuple[Side, ...],
    net: Any,
    why: str,
    run: Any,
    *,
    keep_features: bool,
    want_spatial: bool = False,
) -> list[Side]:
    """Each side through ``net``'s space (an api.LazyNet; ``run(side, net, ...)`` is
    api.side_stats with its other arguments bound)."""
    out = []
    for side in sides:
        s = space_side(side, net.space, why)
        run(s, net, keep_features=keep_features, want_spatial=want_spatial)
        out.append(s)
    return out
