"""Model cards for people: the `evalkit models list|show` tables and weight availability.

Cards come from the registry (``catalog.models.card``), never from building a model: this module
imports no torch.
"""

from __future__ import annotations

import re
from dataclasses import asdict

import pandas as pd

from evalkit import catalog
from evalkit.store import local_path
from evalkit.types import ModelCard

model_card = catalog.models.card

# Representative ids for families registered as patterns (jpeg-q*, ...).
PATTERN_EXAMPLES = {
    "jpeg-q*": ["jpeg-q10", "jpeg-q50", "jpeg-q90"],
    "webp-q*": ["webp-q50"],
    "resize-x*": ["resize-x2", "resize-x4"],
    "samples:*": [],
}


def all_model_ids() -> list[str]:
    ids: list[str] = []
    for name in catalog.models.names():
        ids.extend(PATTERN_EXAMPLES.get(name, [name]) if "*" in name else [name])
    return ids


def availability(card: ModelCard) -> str:
    """'local' (all files in the store or cache), 'online' (fetchable), 'missing', or 'none'."""
    if not card.weights:
        return "none needed"
    states = []
    for wf in card.weights:
        local = local_path(wf) is not None
        states.append("local" if local else "online" if (wf.hub_id or wf.url) else "missing")
    for state in ("missing", "online"):
        if state in states:
            return state
    return "local"


_RESTRICTED = re.compile(
    r"research use only|research purposes only|only for research|non-commercial"
)


def restricted_use(card: ModelCard) -> bool:
    """Whether the card's licence limits the weights to research or non-commercial use."""
    return bool(_RESTRICTED.search(card.license.lower()))


def restricted_ids() -> list[str]:
    """Ids whose weights are for research or non-commercial use only (``models list`` says so)."""
    return [mid for mid in all_model_ids() if restricted_use(model_card(mid))]


def model_table() -> pd.DataFrame:
    rows = []
    for mid in all_model_ids():
        card = model_card(mid)
        kind = {True: "D", False: "C", None: "-"}[card.discrete]
        rows.append(
            {
                "id": mid,
                "family": card.family,
                "D/C": kind,
                "tokens": card.num_tokens,
                "compression": card.compression or "",
                "resolution": card.resolution,
                "weights": availability(card),
            }
        )
    return pd.DataFrame(rows).astype({"tokens": "Int64", "resolution": "Int64"})


def card_text(model_id: str) -> str:
    card = model_card(model_id)
    lines = [f"{card.id}: {card.description}"]
    for key, value in asdict(card).items():
        if key in ("id", "description", "weights") or value in (None, {}, ()):
            continue
        lines.append(f"  {key}: {value}")
    for wf in card.weights:
        lines.append(f"  weights: {wf.describe()} sha256={wf.sha256 or 'unpinned'}")
        lines.append(f"    store path: {wf.store_path or wf.filename}")
    lines.append(f"  availability: {availability(card)}")
    return "\n".join(lines)
