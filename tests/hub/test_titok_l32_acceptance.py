"""Acceptance: `evalkit run tokbench --model titok-l32` with no flag against the local Hub.

TiTok's loader needs the real architecture (a strict load of 641 M parameters): the fixture
writes a 2.56 GB seeded random model.safetensors at the card's pinned commit, so this test is slow
(about 2 minutes and 5 GB of temporary disk on 2 cores) and runs with ``-m slow``.
"""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from evalkit.cli import app
from evalkit.models import titok
from tests.hub import fixtures


@pytest.mark.slow
def test_titok_l32_runs_tokbench_from_the_hub_with_no_flag(tokbench_hub, tmp_path):
    commit = titok.VARIANTS["titok-l32"].revision
    repo = fixtures.titok_repo("titok-l32", tmp_path)
    tokbench_hub.add_repo("yucornetto/tokenizer_titok_l32_imagenet", repo, commit=commit)
    args = ["run", "tokbench", "--model", "titok-l32", "--out", str(tmp_path / "out")]
    result = CliRunner().invoke(app, [*args, "--no-leaderboard", "--json", "--batch-size", "2"])
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout[result.stdout.index("[") :])
    files = {f["name"]: f for f in json.loads(rows[0]["provenance"])}
    weights = files["model.safetensors"]
    assert weights["commit"] == commit  # the card's pin, used as is
    assert weights["verified"] == (
        f"first use, verified against the Hub at commit {commit} (LFS sha256)"
    )
    assert rows[0]["weights"] == f"model.safetensors:{weights['sha256']}"
    assert {r["metric"] for r in rows} >= {"t_acc", "t_ned", "f_sim"}
