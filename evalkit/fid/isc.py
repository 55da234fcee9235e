"""Inception Score from the 1008-way unbiased logits, as summable per-split state.

IS = exp(E_x KL(p(y|x) || p(y))) per split, averaged over splits. Per split the KL mean is
``(1/N) sum_x sum_y p log p - sum_y pbar log pbar`` with ``pbar = (1/N) sum_x p``, so keeping
``(N, sum p, sum p log p)`` per split makes IS exact under sharding. A sample's split comes from
its index, so it does not depend on batching.
"""

from __future__ import annotations

import numpy as np


def split_of(index: int, total: int, splits: int) -> int:
    """Split of sample ``index`` among ``total`` (contiguous blocks, like torch-fidelity's)."""
    return min(index * splits // max(total, 1), splits - 1)


def _softmax(logits: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    z = logits - logits.max(axis=1, keepdims=True)
    logp = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
    return np.exp(logp), logp


def isc_state(
    logits: np.ndarray, splits_of_rows: np.ndarray, splits: int = 10
) -> dict[str, np.ndarray]:
    """Summable IS state of a batch: per split counts, sum p and sum p log p."""
    p, logp = _softmax(np.asarray(logits, np.float64))
    n = np.zeros(splits, np.float64)
    sum_p = np.zeros((splits, p.shape[1]), np.float64)
    plogp = np.zeros(splits, np.float64)
    for s in range(splits):
        m = splits_of_rows == s
        n[s] = m.sum()
        sum_p[s] = p[m].sum(axis=0)
        plogp[s] = (p[m] * logp[m]).sum()
    return {"isc_n": n, "isc_sum_p": sum_p, "isc_plogp": plogp}


def isc_from_state(state: dict[str, np.ndarray]) -> tuple[float, float]:
    """(mean, std) of the per-split scores; empty splits are skipped."""
    scores = []
    for n, sp, pl in zip(state["isc_n"], state["isc_sum_p"], state["isc_plogp"], strict=True):
        if n == 0:
            continue
        pbar = sp / n
        kl = pl / n - float((pbar * np.log(np.clip(pbar, 1e-300, None))).sum())
        scores.append(np.exp(kl))
    if not scores:
        raise ValueError("no samples for Inception Score")
    return float(np.mean(scores)), float(np.std(scores))


def inception_score(logits: np.ndarray, splits: int = 10) -> tuple[float, float]:
    """IS of an in-order logits matrix (contiguous splits, no shuffling)."""
    n = len(logits)
    rows = np.array([split_of(i, n, splits) for i in range(n)])
    return isc_from_state(isc_state(logits, rows, splits))
