"""What the metric registry hands out: a computation plus everything a result row says about it.

``catalog.metrics.build(id)`` returns a :class:`Metric`; benchmarks call it to compute values and
read ``higher_is_better`` / ``version`` from it for their rows. A metric from a third-party
package is one factory ``f(id, **options) -> Metric`` behind the ``evalkit.metrics`` entry point.
Standard library only: building a metric imports only what its ``compute`` needs, when it runs.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal


@dataclass(frozen=True)
class Metric:
    """A registered metric: id, direction, units, version and the library that computes it.

    ``kind``: "sample" (one value per image pair), "instance" (one per text/face instance),
    "distribution" (computed from summable statistics of a whole set).
    """

    id: str
    compute: Callable[..., Any]
    higher_is_better: bool
    version: str
    units: str
    library: str  # what really computes it, e.g. "scikit-image", "scipy", "rapidfuzz"
    kind: Literal["sample", "instance", "distribution"] = "sample"
    description: str = ""

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self.compute(*args, **kwargs)

    def library_version(self) -> str:
        """The installed version of ``library`` (its first word), or "unknown"."""
        from importlib.metadata import PackageNotFoundError, version

        try:
            return version(self.library.split()[0])
        except (PackageNotFoundError, IndexError):
            return "unknown"
