"""``-O overlays=true``: one PNG per image with the kept boxes, labels and the verdict."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import numpy as np

from evalkit.benchmarks.geneval.rules import Verdict


def write_overlay(
    target: Path, image: np.ndarray, detections: Mapping[str, np.ndarray], verdict: Verdict
) -> None:
    """Kept boxes (class, score, colour given) in green when correct, red otherwise."""
    from PIL import Image, ImageDraw

    from evalkit.cache import atomic_write

    canvas = Image.fromarray(image).convert("RGB")
    draw = ImageDraw.Draw(canvas)
    ink = (40, 200, 60) if verdict.correct else (230, 40, 40)
    for name, idx in verdict.kept.items():
        given = verdict.colours.get(name, [])
        for rank, j in enumerate(idx):
            x1, y1, x2, y2, score = (float(v) for v in detections[name][j])
            draw.rectangle([x1, y1, x2, y2], outline=ink, width=2)
            colour = f" {given[rank]}" if rank < len(given) else ""
            draw.text((x1 + 3, y1 + 2), f"{name}{colour} {score:.2f}", fill=ink)
    lines = ["CORRECT" if verdict.correct else "WRONG", *verdict.reason.splitlines()]
    draw.text((4, canvas.height - 12 * len(lines) - 4), "\n".join(lines), fill=ink)
    target.parent.mkdir(parents=True, exist_ok=True)
    atomic_write(target, lambda t: canvas.save(t, format="PNG"))
