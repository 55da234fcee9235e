"""Improved precision and recall (Kynkäänniemi et al.), k = 3, as ADM's evaluator uses them, and
density and coverage (Naeem et al. 2020), k = 5, as the authors' ``prdc`` package computes them.

Each set's manifold is the union of balls reaching each point's k-th nearest neighbour (itself
excluded). Precision: share of samples inside the reference manifold; recall: share of references
inside the sample manifold. Density: mean number of reference balls holding a sample, over k;
coverage: share of references whose ball holds at least one sample. Distances are computed in
row/column chunks so 50k x 50k never lives in memory.

Boundaries differ by definition: ADM (and Kynkäänniemi's code) count a point at exactly the
radius as inside (``<=``); ``prdc`` counts it outside (``<``), for all four numbers. We follow ADM
for precision/recall and prdc for density/coverage; the two agree unless a distance ties a
radius exactly (duplicated features, say). ADM also computes distances in float16 first (its
``DistanceBlock``), which moves points near a ball's edge; we use float32 throughout.
"""

from __future__ import annotations

import numpy as np
import torch


def _chunks(x: torch.Tensor, size: int) -> list[torch.Tensor]:
    return list(x.split(size))


def kth_radii(x: torch.Tensor, k: int = 3, chunk: int = 2048) -> torch.Tensor:
    """Distance from each row to its k-th nearest other row (self, at distance 0, is skipped)."""
    if len(x) <= k:
        raise ValueError(f"need more than k={k} samples for precision/recall, have {len(x)}")
    out = []
    for rows in _chunks(x, chunk):
        best = None
        for cols in _chunks(x, chunk):
            d = torch.cdist(rows, cols)
            cand = d if best is None else torch.cat([best, d], dim=1)
            best = cand.topk(min(k + 1, cand.shape[1]), dim=1, largest=False).values
        out.append(best[:, k])
    return torch.cat(out)


def _tensors(
    real: np.ndarray, fake: np.ndarray, dtype: torch.dtype, device: str | torch.device
) -> tuple[torch.Tensor, torch.Tensor]:
    return tuple(torch.as_tensor(np.asarray(x), dtype=dtype, device=device) for x in (real, fake))  # type: ignore[return-value]


def _coverage(
    points: torch.Tensor, centres: torch.Tensor, radii: torch.Tensor, chunk: int
) -> float:
    inside = []
    for rows in _chunks(points, chunk):
        hit = torch.zeros(len(rows), dtype=torch.bool, device=rows.device)
        for cols, r in zip(_chunks(centres, chunk), _chunks(radii, chunk), strict=True):
            hit |= (torch.cdist(rows, cols) <= r[None, :]).any(dim=1)
        inside.append(hit)
    return float(torch.cat(inside).float().mean())


def precision_recall(
    real: np.ndarray,
    fake: np.ndarray,
    k: int = 3,
    chunk: int = 2048,
    device: str | torch.device = "cpu",
    dtype: torch.dtype = torch.float32,
) -> tuple[float, float]:
    """(precision, recall) of ``fake`` samples against ``real`` references."""
    r, f = _tensors(real, fake, dtype, device)
    r_radii, f_radii = kth_radii(r, k, chunk), kth_radii(f, k, chunk)
    precision = _coverage(f, r, r_radii, chunk)
    recall = _coverage(r, f, f_radii, chunk)
    return precision, recall


def density_coverage(
    real: np.ndarray,
    fake: np.ndarray,
    k: int = 5,
    chunk: int = 2048,
    device: str | torch.device = "cpu",
    dtype: torch.dtype = torch.float32,
) -> tuple[float, float]:
    """(density, coverage) of ``fake`` samples against ``real`` references (prdc's ``<``)."""
    r, f = _tensors(real, fake, dtype, device)
    radii = kth_radii(r, k, chunk)
    inside = 0
    for rows in _chunks(f, chunk):
        for cols, rad in zip(_chunks(r, chunk), _chunks(radii, chunk), strict=True):
            inside += int((torch.cdist(rows, cols) < rad[None, :]).sum())
    covered = []
    for rows, rad in zip(_chunks(r, chunk), _chunks(radii, chunk), strict=True):
        nearest = torch.stack(
            [torch.cdist(rows, cols).min(dim=1).values for cols in _chunks(f, chunk)]
        )
        covered.append(nearest.min(dim=0).values < rad)
    return inside / (k * len(f)), float(torch.cat(covered).float().mean())
