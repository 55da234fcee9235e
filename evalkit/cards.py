"""Protocol cards: the data that defines each benchmark (``benchmarks/<id>/``), read once.

The cards live in the repository's top-level ``benchmarks/`` folder and ship inside the wheel as
``evalkit/_cards``; both places are searched, the packaged copy first. Standard library only, so
``evalkit benchmarks show`` never imports torch.
"""

from __future__ import annotations

import csv
import sys
import textwrap
from functools import cache
from pathlib import Path
from typing import Any

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

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
        raise CardError(
            f"benchmark {benchmark_id!r} has no card: expected "
            f"{folder / 'card.toml'} (schema: benchmarks/README.md)"
        )
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


PARITY_STATUSES = ("official", "proven", "unproven")


def judge_roles(benchmark_id: str) -> dict[str, Any]:
    """``[judges.<role>]`` of a card, over those of the card whose protocol it runs."""
    return protocol_card(benchmark_id).get("judges", {}) | load_card(benchmark_id).get("judges", {})


def judge_parity(benchmark_id: str, role: str, runtime: str) -> dict[str, Any]:
    """The parity record of ``runtime`` running ``role``'s official judge (``[[judges.<role>.
    parity]]``); a runtime without one is ``{"status": "unproven", "reason": ...}``."""
    for record in judge_roles(benchmark_id).get(role, {}).get("parity", []):
        if record.get("runtime") == runtime:
            if record.get("status") not in PARITY_STATUSES:
                raise CardError(
                    f"benchmark {benchmark_id!r}: judge {role}/{runtime} parity status "
                    f"{record.get('status')!r} is not one of {PARITY_STATUSES}"
                )
            return dict(record)
    return {
        "runtime": runtime,
        "status": "unproven",
        "reason": f"no parity record for {runtime!r} in [judges.{role}] of {benchmark_id}'s card",
    }


def card_ids() -> list[str]:
    """Every benchmark id that has a card."""
    return sorted(p.parent.name for p in cards_root().glob("*/card.toml"))


def protocol_card(benchmark_id: str) -> dict[str, Any]:
    """The card that holds the protocol numbers: the card itself, or the one its
    ``protocol_of`` names (``tokbench-mini`` runs ``tokbench``'s protocol on other data)."""
    card = load_card(benchmark_id)
    return load_card(card["protocol_of"]) if "protocol_of" in card else card


def metric_ids(benchmark_id: str) -> tuple[str, ...]:
    """The row names of the card's ``[[metrics]]``, in order."""
    return tuple(m["id"] for m in load_card(benchmark_id).get("metrics", []))


def registry_metric(spec: dict[str, Any]) -> str:
    """The ``catalog.metrics`` id behind a ``[[metrics]]`` entry (``metric``, else ``id``)."""
    return str(spec.get("metric", spec["id"]))


def protocol_text(benchmark_id: str) -> str:
    """One line naming the protocol (``[protocol] text``), for the spec and every row."""
    return str(protocol_card(benchmark_id).get("protocol", {}).get("text", ""))


def card_toml(benchmark_id: str) -> str:
    """The card file itself (``evalkit benchmarks show ID --toml``)."""
    path = card_dir(benchmark_id) / "card.toml"
    return f"# {path}\n" + path.read_text(encoding="utf-8").rstrip() + "\n"


def show(benchmark_id: str, width: int = 80) -> str:
    """The card as people read it, in ``width`` columns: what it measures, the protocol, data,
    metrics, judges (with parity status), options, deviations and quirks, then where the full
    card is (``--toml`` prints it)."""
    card = load_card(benchmark_id)
    out: list[str] = []

    def para(text: object, indent: str = "", hanging: str = "") -> None:
        out.extend(
            textwrap.wrap(
                " ".join(str(text).split()),
                width,
                initial_indent=indent,
                subsequent_indent=hanging or indent,
                break_on_hyphens=False,
            )
        )

    def section(title: str) -> None:
        out.extend(["", title])

    para(f"{card['id']} v{card['version']}: {card['title']}")
    facts = [f"task {card['task']}", f"licence {card.get('license', 'unknown')}"]
    if card.get("resolutions"):
        facts.append("resolutions " + ", ".join(map(str, card["resolutions"])))
    if card.get("protocol_of"):
        facts.append(f"runs the protocol of {card['protocol_of']}")
    para("; ".join(facts))
    if card.get("summary"):
        out.append("")
        para(card["summary"])
    proto = card.get("protocol", {})
    if proto:
        section("Protocol")
        for key in ("text", "paper", "repo", "commit"):
            if proto.get(key):
                para(f"{key}: {proto[key]}", "  ", "    ")
    ds = card.get("dataset", {})
    if ds:
        section("Data")
        keys = ("name", "n", "images_per_prompt", "source", "revision", "sha256", "license")
        for key in keys:
            if ds.get(key) not in (None, ""):
                para(f"{key}: {ds[key]}", "  ", "    ")
    if card.get("metrics"):
        section("Metrics (higher is better unless marked lower)")
        for m in card["metrics"]:
            units = ", ".join(
                str(x)
                for x in (
                    m.get("units"),
                    f"{m['decimals']} decimals" if "decimals" in m else None,
                    None if m.get("higher_is_better", True) else "lower is better",
                )
                if x
            )
            para(f"{m['id']} ({units}): {m.get('description', '')}".rstrip(": "), "  ", "    ")
    judges = card.get("judges", {})
    if judges:
        section("Judges")
        for role, j in judges.items():
            para(f"{role}: official {j.get('official', '?')}", "  ", "    ")
            if j.get("offline"):
                para("offline stand-ins: " + ", ".join(map(str, j["offline"])), "    ", "      ")
            for rec in j.get("parity", []):
                what = rec.get("figures") or rec.get("reason") or ""
                para(f"parity {rec.get('runtime')}: {rec.get('status')} {what}", "    ", "      ")
    options = card.get("options", {})
    if options:
        section(f"Options (evalkit run {benchmark_id} -O KEY=VALUE)")
        for key, o in options.items():
            head = f"{key} (default {o.get('default', '')!s}"
            if o.get("choices"):
                head += "; " + " | ".join(map(str, o["choices"]))
            kind = o.get("changes")
            head += f"; changes the {kind})" if kind in ("measure", "subset", "judge") else ")"
            para(f"{head}: {o.get('description', '')}".rstrip(": "), "  ", "    ")
    for key, title in (
        ("deviations", "What differs from the official protocol"),
        ("quirks", "Official quirks reproduced"),
    ):
        if card.get(key):
            section(title)
            for item in card[key]:
                why = item.get("why") or item.get("fixed_by")
                para(f"- {item.get('what', '')}" + (f" ({why})" if why else ""), "  ", "    ")
    folder = card_dir(benchmark_id)
    others = sorted(p.name for p in folder.iterdir() if p.name != "card.toml")
    section(f"Reported values: {len(reported_values(benchmark_id))} rows (reported.csv)")
    para("Files beside the card: " + (", ".join(others) or "none"))
    para(f"The whole card: {folder / 'card.toml'} (evalkit benchmarks show {benchmark_id} --toml)")
    return "\n".join(out) + "\n"
