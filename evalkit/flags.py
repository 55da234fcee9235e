"""`complete` and `comparable`, derived one way for every benchmark from its card and run facts.

Benchmarks report facts (:class:`evalkit.types.RunFacts`: unit, counts, gaps, subset, judges,
options); they never set a flag, so a new benchmark cannot forget one. The rules
(leaderboards/SCHEMA.md, benchmarks/README.md "Judge parity and comparable"):

- ``complete``: the whole protocol was scored. Every unit the card's ``[dataset] n`` counts, no
  ``--limit``, no ``allow_missing`` gap, no subset, data that is the benchmark's own, a setting the
  card lists, and every option that changes what is measured at its default: ``changes =
  "measure"`` and ``"subset"`` options (a subset is named by the run's facts), and ``changes =
  "judge"`` options unless the judge chosen runs the role's official judge (a parity record or
  ``official_paths``). ``"output"`` and ``"setting"`` options never matter. A card's ``[flags]
  diagnostic`` is never complete.
- ``comparable``: complete, the card does not say ``[flags] never_comparable``, and every judge
  or feature network that ran has a parity record with status ``official`` or ``proven``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from evalkit.cards import CardError, judge_parity, judge_roles, load_card
from evalkit.types import RunFacts

OPTION_KINDS = ("measure", "judge", "subset", "output", "setting")
PUBLISHABLE_PARITY = ("official", "proven")


@dataclass(frozen=True)
class Flags:
    """The two flags of a run and why each one does not hold (empty when both hold)."""

    complete: bool
    comparable: bool
    not_complete: tuple[str, ...] = ()
    not_comparable: tuple[str, ...] = ()

    @property
    def reasons(self) -> str:
        """One line for the row's ``flag_reasons`` column; "" when complete and comparable."""
        parts = []
        if self.not_complete:
            parts.append("not complete: " + "; ".join(self.not_complete))
        if self.not_comparable:
            parts.append("not comparable: " + "; ".join(self.not_comparable))
        return " | ".join(parts)


def derive(benchmark_id: str, facts: RunFacts) -> Flags:
    """The flags of a run of ``benchmark_id`` whose facts are ``facts``."""
    try:
        card = load_card(benchmark_id)
    except CardError as exc:  # a plug-in or test double without a card: nothing to check against
        return Flags(False, False, (f"no protocol card ({exc})",))
    incomplete = _completeness(benchmark_id, card, facts)
    uncomparable = _comparability(benchmark_id, card, facts)
    return Flags(
        complete=not incomplete,
        comparable=not incomplete and not uncomparable,
        not_complete=tuple(incomplete),
        not_comparable=tuple(uncomparable),
    )


def diagnostic(benchmark_id: str) -> str | None:
    """Why the benchmark is a diagnostic that never reaches a leaderboard (``[flags]``), or None."""
    try:
        return load_card(benchmark_id).get("flags", {}).get("diagnostic")
    except CardError:
        return None


def refuse_publishing(benchmark_id: str, flags: Flags, publish: bool) -> str | None:
    """Why these rows must not be appended to a leaderboard, or None: a diagnostic never, a run
    that is not complete only with ``--publish``."""
    why = diagnostic(benchmark_id)
    if why:
        return f"{benchmark_id} is a diagnostic, never published ({why})"
    if not flags.complete and not publish:
        return "run not complete (" + "; ".join(flags.not_complete) + "); pass --publish to append"
    return None


def _completeness(benchmark_id: str, card: dict[str, Any], facts: RunFacts) -> list[str]:
    reasons = []
    why = card.get("flags", {}).get("diagnostic")
    if why:
        reasons.append(f"a diagnostic without a fixed dataset ({why})")
    dataset = card.get("dataset", {})
    unit = dataset.get("unit")
    if unit != facts.unit:
        raise CardError(
            f"{benchmark_id}: the benchmark counts {facts.unit!r}s, its card's [dataset] unit "
            f"is {unit!r}"
        )
    declared = dataset.get("n")
    expected = declared if isinstance(declared, int) and declared > 0 else facts.expected
    if facts.limit is not None:
        reasons.append(f"--limit {facts.limit}")
    if not why and not expected:
        reasons.append(f"the full {unit} count is not known")
    elif expected and facts.scored < expected:
        reasons.append(f"{facts.scored:,} of {expected:,} {unit}s scored")
    if facts.missing:
        reasons.append(f"{facts.missing:,} {unit}s missing (allow_missing)")
    if facts.subset:
        reasons.append(f"subset {facts.subset}")
    if facts.data_mismatch:
        reasons.append(f"data: {facts.data_mismatch}")
    listed = card.get("resolutions") or []
    if facts.resolution is not None and listed and facts.resolution not in listed:
        reasons.append(f"resolution {facts.resolution} is not one of the card's {listed}")
    options = card.get("options", {})
    for name, value in sorted(facts.options.items()):
        if name not in options:
            reasons.append(f"option {name} is not declared in the card")
            continue
        decl = options[name]
        kind = decl.get("changes")
        if kind not in OPTION_KINDS:
            raise CardError(
                f"{benchmark_id}: [options.{name}] changes = {kind!r}, not one of {OPTION_KINDS}"
            )
        if kind in ("output", "setting") or _same(value, decl.get("default")):
            continue
        if kind == "subset" and facts.subset:
            continue  # reported above, as the run's subset
        if kind == "judge" and _runs_official_judge(benchmark_id, decl.get("role", name), value):
            continue
        stand_in = " (a stand-in judge)" if kind == "judge" else ""
        reasons.append(f"{name}={value}{stand_in}")
    return reasons


def _comparability(benchmark_id: str, card: dict[str, Any], facts: RunFacts) -> list[str]:
    reasons = []
    never = card.get("flags", {}).get("never_comparable")
    if never:
        reasons.append(never)
    for role, runtime in sorted(facts.judges.items()):
        record = judge_parity(benchmark_id, role, runtime)
        if record["status"] not in PUBLISHABLE_PARITY:
            why = record.get("reason")
            reasons.append(
                f"{role} judge {runtime} is {record['status']}" + (f": {why}" * bool(why))
            )
    return reasons


def _runs_official_judge(benchmark_id: str, role: str, runtime: Any) -> bool:
    """``runtime`` runs ``role``'s official judge: it has a parity record (any status) or is one
    of the role's ``official_paths``."""
    spec = judge_roles(benchmark_id).get(role, {})
    recorded = {r.get("runtime") for r in spec.get("parity", [])}
    return str(runtime) in recorded | set(spec.get("official_paths", []))


def _same(value: Any, default: Any) -> bool:
    """An option value equals the card's default (card values are TOML; "" stands for none)."""
    if value is None or value == "":
        return default is None or default == ""
    if isinstance(value, bool) or isinstance(default, bool):
        return str(value).lower() == str(default).lower()
    if isinstance(value, (int, float)) and isinstance(default, (int, float)):
        return float(value) == float(default)
    if isinstance(value, (list, tuple)):
        return isinstance(default, (list, tuple)) and [str(v) for v in value] == [
            str(d) for d in default
        ]
    return str(value) == str(default)
