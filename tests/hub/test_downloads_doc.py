"""docs/downloads.md is the output of scripts/weights_table.py: a card that adds or changes a
file must regenerate it (`python scripts/weights_table.py > docs/downloads.md`)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def test_downloads_doc_is_the_weights_table_of_the_cards() -> None:
    out = subprocess.run(
        [sys.executable, str(REPO / "scripts" / "weights_table.py")],
        capture_output=True,
        text=True,
        check=True,
        cwd=REPO,
    ).stdout
    assert "one-d-piece-l256" in out and "var-vqvae" in out  # the zoo's newer cards are listed
    doc = (REPO / "docs" / "downloads.md").read_text()
    assert doc == out, (
        "docs/downloads.md is stale: python scripts/weights_table.py > docs/downloads.md"
    )
