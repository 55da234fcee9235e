"""Improved precision and recall (Kynkäänniemi et al.), k = 3, as ADM's evaluator uses them.

Each set's manifold is the union of balls reaching each point's k-th nearest neighbour (itself
excluded). Precision: share of samples inside the reference manifold; recall: share of references
inside the sample manifold. Distances are computed in row/column chunks so 50k x 50k never lives
in memory.
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
    r = torch.as_tensor(np.asarray(real), dtype=dtype, device=device)
    f = torch.as_tensor(np.asarray(fake), dtype=dtype, device=device)
    r_radii, f_radii = kth_radii(r, k, chunk), kth_radii(f, k, chunk)
    precision = _coverage(f, r, r_radii, chunk)
    recall = _coverage(r, f, f_radii, chunk)
    return precision, recall
