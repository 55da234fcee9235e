"""One generic registry for models, benchmarks and metrics.

Entries are registered either eagerly with a decorator or lazily as a ``"module:attr"`` string, so
that listing ids never imports torch or an optional backend. Third-party packages add entries
through the entry-point groups ``evalkit.models``, ``evalkit.benchmarks`` and ``evalkit.metrics``.

The contract, in one place:

- ``factory(id, **options)`` builds the object (a model, a benchmark, a metric); it is called with
  the id it was looked up by, so one factory can serve a family (``jpeg-q*``).
- Models also register a **card**: ``card(id) -> ModelCard``, read without loading weights (the
  runner keys runs by it, ``evalkit models list`` shows it). Pass ``card="module:attr"``; without
  one, the factory's own ``card`` attribute is used, then a ``card`` function in the factory's
  module (the rule for entry-point plug-ins). A card's module must import without torch, so that
  describing models stays cheap.
- Benchmarks describe themselves with a protocol card (``benchmarks/<id>/card.toml``, read by
  :mod:`evalkit.cards`); metrics return objects carrying id, direction, units, version, library
  (:class:`evalkit.metrics.base.Metric`).
"""

from __future__ import annotations

import difflib
import fnmatch
import importlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

T = TypeVar("T")


class UnknownEntryError(KeyError):
    """Raised for an id no registry knows; the message suggests the closest ids."""

    def __str__(self) -> str:  # KeyError quotes its message; we want it plain
        return str(self.args[0])


@dataclass(frozen=True)
class _Entry:
    name: str
    target: str | Callable[..., Any]
    pattern: bool
    summary: str
    card: str | Callable[..., Any] | None = None


class Registry(Generic[T]):
    """Maps ids (or glob patterns such as ``jpeg-q*``) to factories.

    A factory is called with the id it was looked up by, plus keyword options, and returns T.
    """

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self._entries: dict[str, _Entry] = {}
        self._plugins_loaded = False
        self._loaded: dict[str, Callable[..., Any]] = {}
        self._sources: list[str] = []

    def register(
        self,
        name: str,
        target: str | Callable[..., T] | None = None,
        *,
        summary: str = "",
        card: str | Callable[..., Any] | None = None,
    ) -> Any:
        """Register ``target`` under ``name``; without a target, act as a decorator.

        ``name`` may hold ``*`` to register a family of ids (``jpeg-q*``). ``card``: see the
        module docstring (models).
        """

        def add(obj: str | Callable[..., T]) -> str | Callable[..., T]:
            if name in self._entries:
                raise ValueError(f"{self.kind} {name!r} is already registered")
            self._entries[name] = _Entry(name, obj, "*" in name, summary, card)
            return obj

        return add if target is None else add(target)

    def add_source(self, target: str) -> None:
        """Entries listed by another table: ``"module:attr"`` names a function returning
        ``[(name, "module:attr" factory, summary), ...]``, read (imported) on first lookup. A
        family kept in its own light module (``evalkit.scores``) adds its ids there, once."""
        self._sources.append(target)
        self._plugins_loaded = False

    def _load_plugins(self) -> None:
        if self._plugins_loaded:
            return
        self._plugins_loaded = True
        for source in self._sources:
            for name, target, summary in _load(source)():
                if name not in self._entries:
                    self._entries[name] = _Entry(name, target, "*" in name, summary)
        from importlib.metadata import entry_points

        for ep in entry_points(group=f"evalkit.{self.kind}s"):
            if ep.name not in self._entries:
                self._entries[ep.name] = _Entry(ep.name, ep.value, "*" in ep.name, "plug-in")

    def names(self) -> list[str]:
        self._load_plugins()
        return sorted(self._entries)

    def summaries(self) -> dict[str, str]:
        self._load_plugins()
        return {name: e.summary for name, e in sorted(self._entries.items())}

    def __contains__(self, name: str) -> bool:
        try:
            self._find(name)
        except UnknownEntryError:
            return False
        return True

    def __iter__(self) -> Iterator[str]:
        return iter(self.names())

    def _find(self, name: str) -> _Entry:
        self._load_plugins()
        if name in self._entries:
            return self._entries[name]
        for entry in self._entries.values():
            if entry.pattern and fnmatch.fnmatchcase(name, entry.name):
                return entry
        close = difflib.get_close_matches(name, list(self._entries), n=3, cutoff=0.5)
        hint = f" Did you mean {', '.join(repr(c) for c in close)}?" if close else ""
        raise UnknownEntryError(
            f"unknown {self.kind} {name!r}.{hint} `evalkit list {self.kind}s` shows them all."
        )

    def target(self, name: str) -> str | Callable[..., Any]:
        """What ``name`` is registered as: a lazy ``"module:attr"`` string or the callable."""
        return self._find(name).target

    def factory(self, name: str) -> Callable[..., T]:
        """The callable registered for ``name``, importing it if it was registered lazily."""
        entry = self._find(name)
        if entry.name not in self._loaded:
            self._loaded[entry.name] = _load(entry.target)
        return self._loaded[entry.name]  # type: ignore[return-value]

    def card(self, name: str) -> Any:
        """The card of ``name`` (models: a ModelCard), read without building the object."""
        entry = self._find(name)
        if entry.card is not None:
            return _load(entry.card)(name)
        factory = self.factory(name)
        fn = getattr(factory, "card", None)
        if fn is None:
            fn = getattr(importlib.import_module(factory.__module__), "card", None)
        if not callable(fn):
            raise TypeError(
                f"{self.kind} {name!r} was registered without a card "
                "(register(..., card='module:card'))"
            )
        return fn(name)

    def build(self, name: str, **options: Any) -> T:
        """Build the object registered for ``name`` (factories receive the id as first argument)."""
        return self.factory(name)(name, **options)


def _load(target: str | Callable[..., Any]) -> Callable[..., Any]:
    """Resolve a lazy ``"module:attr"`` target (or return a callable as is)."""
    if not isinstance(target, str):
        return target
    module_name, _, attr = target.partition(":")
    obj: Any = importlib.import_module(module_name)
    for part in attr.split("."):
        obj = getattr(obj, part)
    return obj
