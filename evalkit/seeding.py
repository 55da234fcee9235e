"""Per-sample seeds: a sample's randomness depends on the run seed and its own keys only.

So images and posterior samples do not change with batch size, worker count or shard.
"""

from __future__ import annotations

import hashlib


def sample_seed(run_seed: int, *keys: int | str) -> int:
    """A 63-bit seed from ``run_seed`` and a sample's keys (e.g. prompt index, image index)."""
    text = "\x1f".join(str(k) for k in (int(run_seed), *keys))
    return int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "little") & (2**63 - 1)
