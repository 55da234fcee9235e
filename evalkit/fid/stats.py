"""Streaming float64 feature statistics and the Fréchet distance.

Per shard we keep ``(n, sum x, sum x x^T)`` in float64; shards merge by summing, so a sharded run
equals an unsharded one. The distance uses eigen-decompositions in float64 (no
``scipy.linalg.sqrtm``, which broke FID in several SciPy releases).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import numpy as np

#: Below this many samples the 2048x2048 covariance is rank-deficient and FID is biased.
MIN_SAMPLES = 2048


class ProtocolDeviationWarning(UserWarning):
    """A deviation from the published protocol: the only kind of warning that makes a result
    not comparable (a library's deprecation warning, say, changes no number)."""


class FewSamplesWarning(ProtocolDeviationWarning):
    """FID on fewer than 2048 samples: rank-deficient covariance, not comparable with papers."""


@dataclass
class FeatureStats:
    """Summable sufficient statistics of a feature set."""

    dim: int = 2048
    n: int = 0
    s: np.ndarray = field(default=None)  # type: ignore[assignment]
    q: np.ndarray = field(default=None)  # type: ignore[assignment]

    def __post_init__(self) -> None:
        if self.s is None:
            self.s = np.zeros(self.dim, np.float64)
        if self.q is None:
            self.q = np.zeros((self.dim, self.dim), np.float64)

    def update(self, feats: np.ndarray) -> FeatureStats:
        """Add a (N, dim) batch. Non-finite rows raise: a NaN must never become a number."""
        x = np.asarray(feats, dtype=np.float64)
        if x.ndim != 2 or x.shape[1] != self.dim:
            raise ValueError(f"features must be (N, {self.dim}), got {x.shape}")
        bad = ~np.isfinite(x).all(axis=1)
        if bad.any():
            raise FloatingPointError(
                f"{int(bad.sum())} of {len(x)} feature rows are NaN/inf (first: row "
                f"{int(np.argmax(bad))}); refusing to fold them into FID statistics"
            )
        self.n += len(x)
        self.s += x.sum(axis=0)
        self.q += x.T @ x
        return self

    def merge(self, other: FeatureStats) -> FeatureStats:
        """Exact merge of two shards (a new object)."""
        if other.dim != self.dim:
            raise ValueError(f"cannot merge dims {self.dim} and {other.dim}")
        return FeatureStats(self.dim, self.n + other.n, self.s + other.s, self.q + other.q)

    def mu(self) -> np.ndarray:
        self._need(1)
        return self.s / self.n

    def sigma(self) -> np.ndarray:
        """Unbiased covariance (equals ``numpy.cov(x, rowvar=False)``)."""
        self._need(2)
        mu = self.mu()
        cov = (self.q - self.n * np.outer(mu, mu)) / (self.n - 1)
        return (cov + cov.T) / 2

    def _need(self, k: int) -> None:
        if self.n < k:
            raise ValueError(f"need at least {k} samples for statistics, have n={self.n}")

    # --- (de)serialisation: also the summable "state" the runner merges -------------------------
    def to_state(self, prefix: str = "") -> dict[str, np.ndarray]:
        return {
            f"{prefix}n": np.array([self.n], np.int64),
            f"{prefix}s": self.s,
            f"{prefix}q": self.q,
        }

    @classmethod
    def from_state(cls, state: dict[str, np.ndarray], prefix: str = "") -> FeatureStats:
        s = np.asarray(state[f"{prefix}s"], np.float64)
        q = np.asarray(state[f"{prefix}q"], np.float64)
        return cls(len(s), int(np.asarray(state[f"{prefix}n"]).sum()), s.copy(), q.copy())


@dataclass(frozen=True)
class GaussianStats:
    """A fitted Gaussian (mu, sigma), e.g. from an ADM reference batch; ``n`` may be unknown."""

    mu: np.ndarray
    sigma: np.ndarray
    n: int | None = None

    @classmethod
    def of(cls, stats: FeatureStats) -> GaussianStats:
        return cls(stats.mu(), stats.sigma(), stats.n)


def trace_sqrt_product(sigma1: np.ndarray, sigma2: np.ndarray) -> float:
    """``sum_i sqrt(lambda_i(S1 S2))`` in float64, via symmetric eigen-decompositions.

    With ``S1 = V diag(w) V^T`` (``eigh``), ``S1 S2`` is similar to ``K = W^1/2 V^T S2 V W^1/2``,
    which is symmetric PSD, so ``eigvalsh`` applies and no square root of a non-symmetric
    product's round-off eigenvalues is taken (what makes ``eigvals(S1 @ S2)`` give FID(x, x) of
    ~1e-4 on rank-deficient covariances). Directions where ``S1`` is zero up to round-off are
    dropped: they contribute exactly 0. With few samples ``K`` is small, so this is also fast.
    """
    s1 = np.asarray(sigma1, np.float64)
    s2 = np.asarray(sigma2, np.float64)
    w, v = np.linalg.eigh(s1)
    keep = w > max(w.max(), 0.0) * len(w) * np.finfo(np.float64).eps
    w, v = w[keep], v[:, keep]
    root = np.sqrt(w)
    k = (v.T @ s2 @ v) * root[:, None] * root[None, :]
    lam = np.linalg.eigvalsh((k + k.T) / 2)
    return float(np.sqrt(np.clip(lam, 0.0, None)).sum())


def frechet_distance(
    mu1: np.ndarray, sigma1: np.ndarray, mu2: np.ndarray, sigma2: np.ndarray
) -> float:
    """``|mu1-mu2|^2 + tr S1 + tr S2 - 2 tr sqrt(S1 S2)``, all float64."""
    mu1, mu2 = np.asarray(mu1, np.float64), np.asarray(mu2, np.float64)
    sigma1, sigma2 = np.asarray(sigma1, np.float64), np.asarray(sigma2, np.float64)
    if mu1.shape != mu2.shape or sigma1.shape != sigma2.shape:
        raise ValueError(f"shape mismatch: mu {mu1.shape} vs {mu2.shape}")
    for name, arr in (("mu1", mu1), ("mu2", mu2), ("sigma1", sigma1), ("sigma2", sigma2)):
        if not np.isfinite(arr).all():
            raise FloatingPointError(f"{name} contains NaN/inf; no FID computed")
    diff = mu1 - mu2
    tr = np.trace(sigma1) + np.trace(sigma2) - 2 * trace_sqrt_product(sigma1, sigma2)
    return float(diff @ diff + tr)  # not clipped: a round-off negative stays visible


def fid_from_stats(a: FeatureStats | GaussianStats, b: FeatureStats | GaussianStats) -> float:
    ga = a if isinstance(a, GaussianStats) else GaussianStats.of(a)
    gb = b if isinstance(b, GaussianStats) else GaussianStats.of(b)
    return frechet_distance(ga.mu, ga.sigma, gb.mu, gb.sigma)


def check_sample_count(n: int, what: str, policy: str = "warn", minimum: int = MIN_SAMPLES) -> None:
    """Warn (or refuse with ``policy='error'``) when ``n`` is below the FID minimum."""
    if n >= minimum or policy == "ignore":
        return
    msg = (
        f"{what} has n={n} samples, fewer than {minimum}: the {MIN_SAMPLES}-d covariance is "
        "rank-deficient and FID is biased upwards; not comparable with published (50k) numbers"
    )
    if policy == "error":
        raise ValueError(msg)
    warnings.warn(msg, FewSamplesWarning, stacklevel=3)
