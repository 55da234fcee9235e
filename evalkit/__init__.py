"""evalkit: benchmarks for image tokenizers and generators, with provenance in every row.

Heavy parts (torch, pandas) load only when used: ``import evalkit`` stays cheap.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"
__all__ = ["__version__", "run", "load_results"]

if TYPE_CHECKING:
    from evalkit.leaderboard import load_results
    from evalkit.runner import run


def __getattr__(name: str) -> Any:
    if name == "run":
        from evalkit.runner import run

        return run
    if name == "load_results":
        from evalkit.leaderboard import load_results

        return load_results
    raise AttributeError(name)
