"""Protocol cards: the data that defines each benchmark (``benchmarks/<id>/``), read once.

The cards live in the repository's top-level ``benchmarks/`` folder and ship inside the wheel as
``evalkit/_cards``; both places are searched, the packaged copy first. Standard library only, so
``evalkit benchmarks show`` never imports torch.
"""

from __future__ import annotations

import csv
from functools import cache
from pathlib import Path
from typing import Any

import tomllib

_PACKAGED = Path(__file__).resolve().parent / "_cards"
_CHECKOUT = Path(__file__).resolve().parent.parent / "benchmarks"


class CardError(LookupError):
    """A benchmark has no card, or its card lacks a required key."""


REQUIRED = ("id", "version", "title", "task")


def cards_root() -> Path:
    """The folder holding ``<id>/card.toml`` (packaged copy first, then the checkout)."""
    for root in (_PACKAGED, _CHECKOUT):
        if root.is_dir() and any(root.glob("*/card.toml")):
            return root
    raise CardError(f"no protocol cards found in {_PACKAGED} or {_CHECKOUT}")


def card_dir(benchmark_id: str) -> Path:
    """The folder of one benchmark's card and its data files."""
    folder = cards_root() / benchmark_id
    if not (folder / "card.toml").is_file():
        raise CardError(f"benchmark {benchmark_id!r} has no card: expected "
                        f"{folder / 'card.toml'} (schema: benchmarks/README.md)")
    return folder


@cache
def load_card(benchmark_id: str) -> dict[str, Any]:
    """The parsed ``card.toml`` of ``benchmark_id``; required keys are checked."""
    path = card_dir(benchmark_id) / "card.toml"
    with path.open("rb") as fh:
        card = tomllib.load(fh)
    missing = [k for k in REQUIRED if k not in card]
    if missing:
        raise CardError(f"{path}: missing required keys {missing}")
    if card["id"] != benchmark_id:
        raise CardError(f"{path}: id {card['id']!r} differs from its folder {benchmark_id!r}")
    return card


def card_file(benchmark_id: str, name: str) -> Path:
    """A data file that ships beside a card (prompts, bins, ...); it must exist."""
    path = card_dir(benchmark_id) / name
    if not path.is_file():
        raise CardError(f"benchmark {benchmark_id!r}: card file {path} is missing")
    return path


def reported_values(benchmark_id: str) -> list[dict[str, str]]:
    """Rows of ``reported.csv`` beside the card (empty when the benchmark has none)."""
    path = card_dir(benchmark_id) / "reported.csv"
    if not path.is_file():
        return []
    with path.open(newline="") as fh:
        return list(csv.DictReader(fh))


def metric_specs(benchmark_id: str) -> dict[str, dict[str, Any]]:
    """``[[metrics]]`` of a card keyed by id."""
    return {m["id"]: m for m in load_card(benchmark_id).get("metrics", [])}
