"""The site's per-tokenizer rFID view: every tokenizer, its published ImageNet-256 rFID (from
``benchmarks/imagenet-rfid/reported.csv``, with its source) beside ours from the leaderboard.

A tokenizer with no published value says why (its card's ``published_rfid``); one not run yet
says so; ours is a reproduction only for complete, comparable rows, and the difference is shown
only then. Cards come from the registry (no model is built, no torch).
"""

from __future__ import annotations

import html
import math
from dataclasses import dataclass

import pandas as pd

from evalkit.cards import reported_values
from evalkit.selection import reasons, select

BENCHMARK = "imagenet-rfid"
RESOLUTION = 256


@dataclass(frozen=True)
class TokenizerRFID:
    model: str
    reported: float | None
    source: str  # paper and table, or why there is no published value
    ours: float | None
    status: str  # "reproduced", "not comparable: ...", "incomplete: ...", "not run"

    @property
    def difference(self) -> float | None:
        if self.status != "reproduced" or self.reported is None or self.ours is None:
            return None
        return self.ours - self.reported


def _published() -> dict[str, tuple[float, str]]:
    out = {}
    for r in reported_values(BENCHMARK):
        if r["metric"] == "rfid" and int(r["setting"] or 0) == RESOLUTION:
            out[r["model"]] = (float(r["value"]), f"{r['paper']}, {r['table']}")
    return out


def _shown_as(model: str) -> str:
    """``x@<every token>`` decodes what ``x`` decodes (:func:`evalkit.modelid.same_decoding_id`),
    so its rows stand for ``x``; any other id is itself."""
    from evalkit.modelid import SEP, same_decoding_id
    from evalkit.modelinfo import model_card

    if SEP not in model:
        return model
    try:
        return same_decoding_id(model_card(model))
    except Exception:  # noqa: BLE001 - an id the catalog does not know (e.g. a samples: path)
        return model


def _tokenizer_ids() -> dict[str, str]:
    """Catalog tokenizers -> their card's note on the published rFID ('' if none)."""
    from evalkit.modelinfo import all_model_ids, model_card

    out = {}
    for mid in all_model_ids():
        try:
            card = model_card(mid)
        except Exception:  # noqa: BLE001 - a family whose card needs an extra: leave it out
            continue
        if card.kind == "tokenizer" and (card.discrete is not None or card.latent_channels):
            out[mid] = str(card.extra.get("published_rfid", ""))
    return out


def _ours(rows: pd.DataFrame) -> tuple[float | None, str]:
    """The best-standing rFID row of one model: complete and comparable first."""
    if not len(rows):
        return None, "not run"
    rank = rows["complete"].astype(bool) * 2 + rows["comparable"].astype(bool)
    best = rows.loc[rank.idxmax()]
    value = float(best["value"])
    if bool(best["complete"]) and bool(best["comparable"]):
        return value, "reproduced"
    kind = "not comparable" if bool(best["complete"]) else "incomplete"
    return value, f"{kind}: {reasons(best) or 'see the run'}"


def tokenizer_rfid(frame: pd.DataFrame | None) -> list[TokenizerRFID]:
    """One entry per tokenizer of the catalog or of reported.csv, sorted by model id."""
    published = _published()
    notes = _tokenizer_ids()
    rows = pd.DataFrame()
    if frame is not None and len(frame):
        rows = select(frame, include_all=True)
        rows = rows[(rows["metric"] == "rfid") & (rows["resolution"] == RESOLUTION)]
        rows = rows.assign(model=[_shown_as(str(m)) for m in rows["model"]])
    out = []
    for mid in sorted(set(notes) | set(published)):
        ours, status = _ours(rows[rows["model"] == mid] if len(rows) else rows)
        value, source = published.get(mid, (None, notes.get(mid) or "no published value read"))
        out.append(TokenizerRFID(mid, value, source, ours, status))
    return out


def _num(x: float | None, signed: bool = False) -> tuple[str, str]:
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "", "–"
    return repr(x), (f"{x:+.2f}" if signed else f"{x:.2f}")


def rfid_view_html(frame: pd.DataFrame | None) -> str:
    cells = []
    for e in tokenizer_rfid(frame):
        row = [(html.escape(e.model), html.escape(e.model))]
        row += [_num(e.reported), (html.escape(e.source), html.escape(e.source))]
        row += [_num(e.ours), _num(e.difference, signed=True)]
        row += [(html.escape(e.status), html.escape(e.status))]
        cells.append("<tr>" + "".join(f'<td data-v="{v}">{text}</td>' for v, text in row) + "</tr>")
    return (
        f"<h2>rFID at {RESOLUTION} per tokenizer: reported vs reproduced</h2>"
        '<p class="note">Every tokenizer in the catalog and every published value in '
        "reported.csv. The difference is shown only for complete runs comparable with the "
        'published protocol.</p><table class="sortable rfid-per-tokenizer"><thead><tr>'
        "<th>tokenizer</th><th>reported</th><th>source</th><th>ours</th><th>difference</th>"
        f"<th>status</th></tr></thead><tbody>{''.join(cells)}</tbody></table>"
    )
