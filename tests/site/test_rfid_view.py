"""The imagenet-rfid page's per-tokenizer view: every tokenizer with its published rFID and
source, ours beside it, the difference only for complete comparable runs."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from evalkit import rfid_view
from evalkit.leaderboard import read
from evalkit.site import build_site
from tests.site.test_shown_rows import _Tables

ROOT = Path(__file__).resolve().parents[2]


def _rfid_frame() -> pd.DataFrame:
    """Real leaderboard rows (recon's), turned into two imagenet-rfid runs."""
    base = read(ROOT / "leaderboards" / "recon.parquet")
    rows = []
    for i, (model, value, comparable) in enumerate(
        [
            ("titok-l32", 2.5, True),
            ("vavae-f16d32", 0.9, False),
            ("one-d-piece-l256@256", 1.2, True),  # every token: what one-d-piece-l256 decodes
            ("one-d-piece-b256@32", 3.0, True),  # a budget: not the published setting
        ]
    ):
        r = base.iloc[[0]].copy()
        r["benchmark"], r["metric"], r["value"], r["resolution"] = (
            "imagenet-rfid",
            "rfid",
            value,
            256,
        )
        r["model"], r["run_id"], r["comparable"], r["complete"] = model, f"run{i}", comparable, True
        r["higher_is_better"], r["reported_value"] = False, float("nan")
        rows.append(r)
    return pd.concat(rows, ignore_index=True)


def test_every_tokenizer_with_published_value_and_ours() -> None:
    got = {e.model: e for e in rfid_view.tokenizer_rfid(_rfid_frame())}
    titok = got["titok-l32"]
    assert titok.reported == 2.21 and "TiTok" in titok.source and titok.status == "reproduced"
    assert titok.difference == pytest.approx(2.5 - 2.21)
    va = got["vavae-f16d32"]
    assert va.reported == 0.28 and va.ours == 0.9 and va.difference is None
    assert va.status.startswith("not comparable")
    cosmos = got["cosmos-ci8x8"]  # no published ImageNet rFID: the card says why
    assert cosmos.reported is None and "DAVIS" in cosmos.source and cosmos.status == "not run"
    assert "taesd" in got and "jpeg-q50" not in got  # tokenizers only
    full = got["one-d-piece-l256"]
    assert full.reported == 1.08 and full.ours == 1.2 and full.difference == pytest.approx(0.12)
    assert got["one-d-piece-b256"].status == "not run"  # its @32 row is another setting


def test_site_page_shows_the_view(tmp_path: Path) -> None:
    boards = tmp_path / "boards"
    boards.mkdir()
    _rfid_frame().to_parquet(boards / "imagenet-rfid.parquet")
    build_site(tmp_path / "site", boards)
    page = _Tables()
    page.feed((tmp_path / "site" / "imagenet-rfid.html").read_text())
    table = page.tables["sortable rfid-per-tokenizer"]
    assert table[0] == ["tokenizer", "reported", "source", "ours", "difference", "status"]
    by_id = {r[0]: r for r in table[1:]}
    assert by_id["titok-l32"][1] == "2.21" and by_id["titok-l32"][3:5] == ["2.50", "+0.29"]
    assert by_id["vavae-f16d32"][4] == "–" and by_id["cosmos-ci8x8"][3] == "–"
