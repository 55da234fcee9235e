"""What users read: committed leaderboard tables, and terminal output that fits 80 columns.

Each test runs the user's command (typer's CliRunner) on the committed files in leaderboards/ and
benchmarks/, as a user of a checkout would.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from evalkit.cli import app
from tests.support import REPO

BOARDS = sorted((REPO / "leaderboards").glob("*.parquet"))
WIDTH = 80
runner = CliRunner()


def _cli(*args: str, columns: int = WIDTH) -> str:
    res = runner.invoke(app, list(args), env={"COLUMNS": str(columns)})
    assert res.exit_code == 0, res.output
    return res.stdout


def _too_wide(text: str) -> list[str]:
    return [line for line in text.splitlines() if len(line) > WIDTH]


@pytest.mark.parametrize("board", BOARDS, ids=[b.stem for b in BOARDS])
def test_committed_markdown_is_what_render_writes(board: Path, tmp_path: Path) -> None:
    """`evalkit leaderboard render B -o B.md` on the committed parquet gives the committed .md,
    byte for byte: the published table cannot drift from its data (rerun the render after
    changing either: scripts/publish_leaderboards.sh)."""
    committed = board.with_suffix(".md")
    assert committed.is_file(), f"{board.name} has no rendered {committed.name}"
    out = tmp_path / committed.name
    _cli(
        "leaderboard", "render", board.stem, "--leaderboard-dir", str(board.parent), "-o", str(out)
    )
    assert out.read_text() == committed.read_text(), (
        f"{committed} is stale: evalkit leaderboard render {board.stem} -o {committed}"
    )


def test_publish_script_renders_every_committed_leaderboard() -> None:
    """scripts/publish_leaderboards.sh rebuilds and renders exactly the committed leaderboards,
    with the same command the test above checks."""
    script = (REPO / "scripts" / "publish_leaderboards.sh").read_text()
    loop = re.search(r"for b in ([^;]+); do\s*\n\s*(.+)\n\s*done", script)
    assert loop, "publish_leaderboards.sh: no render loop over the leaderboards"
    assert set(loop.group(1).split()) == {b.stem for b in BOARDS}
    assert 'leaderboard render "$b" --output "leaderboards/$b.md"' in loop.group(2)
    runs = set(re.findall(r"\brun ([\w-]+) ", script))
    assert runs == {b.stem for b in BOARDS}, "every committed parquet is rebuilt by a run"


@pytest.mark.parametrize("board", BOARDS, ids=[b.stem for b in BOARDS])
def test_leaderboard_show_fits_80_columns(board: Path) -> None:
    import pandas as pd

    text = _cli("leaderboard", "show", board.stem, "--leaderboard-dir", str(board.parent))
    assert not _too_wide(text), _too_wide(text)
    words = set(text.split())
    for model in set(pd.read_parquet(board, columns=["model"])["model"]):
        assert model in words, f"{model} missing or cut in `leaderboard show {board.stem}`"
    assert "|---" not in text  # a terminal table, not Markdown source


def test_benchmarks_show_is_a_readable_card_in_80_columns() -> None:
    from evalkit.cards import card_ids, load_card

    for bid in card_ids():
        text = _cli("benchmarks", "show", bid)
        assert not _too_wide(text), (bid, _too_wide(text))
        assert not re.search(r"^\[|^id = ", text, re.M), f"{bid}: raw TOML"
        card = load_card(bid)
        assert " ".join(card["title"].split()[:3]) in text
        for metric in card.get("metrics", []):
            assert f"  {metric['id']} " in text, (bid, metric["id"])
        for role in card.get("judges", {}):
            assert f"  {role}: official" in text, (bid, role)
        for key in card.get("options", {}):
            assert f"  {key} (default" in text, (bid, key)
    raw = _cli("benchmarks", "show", "visor", "--toml")
    assert 'id = "visor"' in raw and "[[metrics]]" in raw


def test_models_list_fits_80_columns_without_cutting_ids() -> None:
    from evalkit.modelinfo import all_model_ids

    text = _cli("models", "list")
    assert not _too_wide(text), _too_wide(text)
    tokens = set(re.findall(r"[\w.:*-]+", text))
    missing = [m for m in all_model_ids() if m not in tokens]
    assert not missing, f"ids cut or missing in `models list`: {missing}"
