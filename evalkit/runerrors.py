"""Errors a run stops on, sorted the way the command line reports them.

A run stops on a bad sample file (corrupt, empty, not an image, images of different sizes in one
batch) with :class:`BadSampleError`: bad input, exit 2. Anything else that stops a run (a model
returning garbage, a judge failing) is a :class:`RunError`: exit 1. Both say what is kept.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from evalkit.types import InputFileError


class RunError(RuntimeError):
    """A run stopped on bad input or bad model output; completed samples are kept on disk."""


class BadSampleError(RunError, InputFileError):
    """A run stopped on a sample file that is not what it should be (the message names it)."""


def stopped(exc: BaseException) -> type[RunError]:
    """The error a run that failed on ``exc`` stops with."""
    return BadSampleError if isinstance(exc, InputFileError) else RunError


def mixed_sizes(items: Sequence[dict[str, Any]]) -> str:
    """Why a batch cannot be stacked: the samples (and files) of each image size in it."""
    sizes: dict[str, list[str]] = {}
    for it in items:
        size = "x".join(str(d) for d in it["input"].shape[-2:])
        file = it.get("path") or it.get("file")
        name = f"{it['sample_id']!r}" + (f" ({file})" if file else "")
        sizes.setdefault(size, []).append(name)
    shown = "; ".join(f"{size}: {', '.join(names[:3])}" for size, names in sizes.items())
    return (
        f"images of one batch differ in size ({shown}); images of different sizes cannot "
        "share a batch: rerun with --batch-size 1"
    )
