"""Spatial-relation benchmarks: VISOR, T2I-CompBench 2D-spatial, GenEval position, and a
comparison of the three rules on the same images. The rule functions are pure (numpy only)."""

from evalkit.benchmarks.spatial.rules import (
    t2i_compbench_image,
    visor_image,
    visor_summary,
)

__all__ = ["t2i_compbench_image", "visor_image", "visor_summary"]
