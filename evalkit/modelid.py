"""Model ids with a token budget: ``<id>@N`` (``one-d-piece-l256@32``), parsed here and only here.

Variable-length tokenizers (One-D-Piece, FlexTok) are used for their rate: the same weights
reconstruct from the first N tokens. The budget is part of the model id, so each budget is its own
run, row and setting (``num_tokens`` = N, bits per pixel from it), and the brace sweep of
:mod:`evalkit.sweep` expands over it like any other part of an id
(``--model 'one-d-piece-l256@{1,2,4}'``). A card says whether its model takes a budget
(``ModelCard.token_range``); every other model refuses one, naming the models that do.
"""

from __future__ import annotations

import re
from dataclasses import replace
from typing import Any

from evalkit.registry import Registry, _Entry
from evalkit.types import ModelCard

SEP = "@"
# A budget follows a registry slug only: paths such as ``samples:/runs/a@2`` are not parsed.
_BUDGETED = re.compile(r"([A-Za-z0-9._-]+)@(.*)")


class TokenBudgetError(ValueError):
    """A token budget that is malformed, out of range, or given to a fixed-length model."""


def split_budget(model_id: str) -> tuple[str, int | None]:
    """``'flextok-d18-d28@64'`` -> ``('flextok-d18-d28', 64)``; an id without a budget -> None."""
    match = _BUDGETED.fullmatch(model_id)
    if match is None:
        return model_id, None
    base, text = match.groups()
    if not text.isdigit():
        raise TokenBudgetError(
            f"model id {model_id!r}: the token budget after '{SEP}' must be a whole number of "
            f"tokens, e.g. {base}{SEP}32"
        )
    return base, int(text)


def with_budget(card: ModelCard, budget: int, variable_ids: list[str] | None = None) -> ModelCard:
    """The card of ``card.id@budget``: ``num_tokens`` is the budget; refused when the model has no
    variable length (the message names ``variable_ids``, those that have) or the budget is outside
    its range."""
    name = f"{card.id}{SEP}{budget}"
    if card.token_range is None:
        raise TokenBudgetError(
            f"model {card.id!r} has a fixed number of tokens ({card.num_tokens or 'n/a'}): "
            f"{name!r} asks for a token budget, which only variable-length tokenizers take "
            f"({', '.join(variable_ids or []) or 'none registered'})"
        )
    low, high = card.token_range
    if not low <= budget <= high:
        raise TokenBudgetError(
            f"model {name!r}: {card.id} takes {low} to {high} tokens, not {budget}"
        )
    return replace(
        card,
        id=name,
        # a published name (TokBench's leaderboard) belongs to the whole sequence's decoding only
        tokbench_name=card.tokbench_name if budget == high else None,
        num_tokens=budget,
        compression=f"1D-{budget}",
        description=f"{card.description} Decoded from the first {budget} of {high} tokens.",
        extra={**card.extra, "token_budget": budget, "base_model": card.id},
    )


def same_decoding_id(card: ModelCard) -> str:
    """The plain id for a budget of every token (``one-d-piece-l256@256`` decodes what
    ``one-d-piece-l256`` decodes), else the card's own id."""
    extra = card.extra or {}
    base, budget = extra.get("base_model"), extra.get("token_budget")
    if base and card.token_range is not None and budget == card.token_range[1]:
        return str(base)
    return card.id


def published_ids(card: ModelCard) -> tuple[str, ...]:
    """The ids a published value of this card may be filed under: its own, and the plain id's
    when both decode the same tokens (:func:`same_decoding_id`)."""
    return tuple(dict.fromkeys((card.id, same_decoding_id(card))))


class ModelRegistry(Registry[Any]):
    """The model registry: ``<id>@N`` resolves to ``<id>``'s entry; its card carries the budget.

    Factories receive the whole id (``one-d-piece-l256@32``) and read the budget from the card
    (``catalog.models.card(id).num_tokens``) or :func:`split_budget`.
    """

    def _find(self, name: str) -> _Entry:
        return super()._find(split_budget(name)[0])

    def card(self, name: str) -> Any:
        base, budget = split_budget(name)
        card = super().card(base)
        if budget is None:
            return card
        variable = None if card.token_range else self.variable_length_ids()
        return with_budget(card, budget, variable)

    def variable_length_ids(self) -> list[str]:
        """The registered models that take a token budget (their cards say a ``token_range``)."""
        out = []
        for name in self.names():
            if "*" in name:
                continue
            try:
                if super().card(name).token_range is not None:
                    out.append(name)
            except Exception:  # noqa: BLE001, S112 - a broken plug-in card must not hide this
                continue
        return out

    def build(self, name: str, **options: Any) -> Any:
        self.card(name)  # a budget the model does not take fails here, before any weights load
        return super().build(name, **options)
