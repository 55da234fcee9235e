"""Token budgets in the model id (``<id>@N``), as users give them: through ``evalkit run``.

Plumbing only: a tiny random One-D-Piece (16 tokens, 32 px) of the real architecture; the
official outputs are tests/models/test_one_d_piece.py's.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
from typer.testing import CliRunner

from evalkit import catalog
from evalkit.cli import app
from evalkit.modelid import TokenBudgetError, split_budget
from evalkit.sweep import expand_models

pytest.importorskip("torch")
runner = CliRunner()
TINY = ["--model-option", "random_init=true", "--model-option", "tiny=true"]


def _run(tmp_path: Path, model: str, *extra: str) -> tuple[int, str]:
    args = ["run", "recon", "--model", model, *extra, "--resolution", "32", "--limit", "2"]
    args += ["--workers", "0", "--out", str(tmp_path / "runs"), "--no-leaderboard", "--json"]
    res = runner.invoke(app, args)
    return res.exit_code, res.output


def test_sweep_over_budgets_gives_one_row_set_per_budget(tmp_path: Path) -> None:
    code, out = _run(tmp_path, "one-d-piece-s256@{2,4}", *TINY)
    assert code == 0, out
    rows = [r for chunk in out.split("\n]") if "[" in chunk for r in json.loads(chunk + "\n]")]
    by_model: dict[str, dict[str, float]] = {}
    for row in rows:
        assert row["num_tokens"] == int(row["model"].split("@")[1])
        by_model.setdefault(row["model"], {})[row["metric"]] = row["value"]
    assert sorted(by_model) == ["one-d-piece-s256@2", "one-d-piece-s256@4"]
    for model, metrics in by_model.items():
        tokens = int(model.split("@")[1])  # bits per pixel: tokens x log2(4096) / 32^2 pixels
        assert metrics["bpp"] == pytest.approx(tokens * math.log2(4096) / 32**2)
        assert math.isfinite(metrics["psnr"])
    # each budget is its own run folder (the id is part of the run identity)
    assert sorted(p.name for p in (tmp_path / "runs" / "recon").iterdir()) == sorted(by_model)


@pytest.mark.parametrize(
    ("model", "message"),
    [
        ("titok-l32@16", "fixed number of tokens (32)"),
        ("jpeg-q50@4", "fixed number of tokens"),
        ("one-d-piece-s256@0", "takes 1 to 256 tokens, not 0"),
        ("one-d-piece-s256@300", "takes 1 to 256 tokens, not 300"),
        ("one-d-piece-s256@many", "must be a whole number of tokens"),
    ],
)
def test_a_budget_the_model_does_not_take_is_refused(
    tmp_path: Path, model: str, message: str
) -> None:
    code, out = _run(tmp_path, model)
    assert code == 2, out
    assert message in " ".join(out.split()), out
    assert not (tmp_path / "runs").exists()  # refused before anything ran


def test_refusal_names_the_variable_length_models() -> None:
    with pytest.raises(TokenBudgetError, match="one-d-piece-l256"):
        catalog.models.card("titok-b64@8")


def test_budget_is_parsed_in_one_place() -> None:
    assert split_budget("one-d-piece-l256@32") == ("one-d-piece-l256", 32)
    assert split_budget("taef2") == ("taef2", None)
    assert split_budget("samples:/runs/a@2") == ("samples:/runs/a@2", None)  # a path, not an id
    assert expand_models("one-d-piece-l256@{1..4},taef2") == [
        "one-d-piece-l256@1",
        "one-d-piece-l256@2",
        "one-d-piece-l256@3",
        "one-d-piece-l256@4",
        "taef2",
    ]
    card = catalog.models.card("one-d-piece-l256@32")
    assert (card.id, card.num_tokens, card.compression) == ("one-d-piece-l256@32", 32, "1D-32")
    assert card.extra["base_model"] == "one-d-piece-l256"
    assert catalog.models.card("one-d-piece-l256").num_tokens == 256


def test_fetch_takes_the_same_sweeps(tmp_path: Path) -> None:
    """`evalkit fetch` expands sweeps as `run` does: a bad one is refused before any download."""
    res = runner.invoke(app, ["fetch", "--model", "one-d-piece-l256@{1,2", "--dry-run"])
    assert res.exit_code == 2 and "unbalanced" in res.output, res.output
    res = runner.invoke(app, ["fetch", "--model", "titok-l32@{1,2}", "--dry-run"])
    assert res.exit_code == 2 and "fixed number of tokens" in " ".join(res.output.split())


def test_a_budget_of_every_token_takes_the_plain_ids_published_value() -> None:
    """``one-d-piece-l256@256`` decodes what ``one-d-piece-l256`` decodes, so the rFID its README
    publishes (filed under the plain id) is its reported value; a shorter budget gets none, and no
    TokBench leaderboard name either."""
    from dataclasses import replace
    from types import SimpleNamespace

    from evalkit.benchmarks.imagenet_fid import ImageNetRFID
    from evalkit.modelid import published_ids, with_budget
    from evalkit.types import MetricValue

    bench = ImageNetRFID.__new__(ImageNetRFID)
    bench.spec = SimpleNamespace(name="imagenet-rfid", resolution=256)
    value = MetricValue("rfid", 1.0, 10, False)
    full = catalog.models.card("one-d-piece-l256@256")
    part = catalog.models.card("one-d-piece-l256@32")
    assert published_ids(full) == ("one-d-piece-l256@256", "one-d-piece-l256")
    assert published_ids(part) == ("one-d-piece-l256@32",)
    assert bench.reported_value(full, value) == 1.08  # README Model Zoo (reported.csv)
    assert bench.reported_value(part, value) is None
    assert bench.reported_value(catalog.models.card("one-d-piece-l256"), value) == 1.08
    listed = replace(catalog.models.card("one-d-piece-l256"), tokbench_name="Listed")
    assert with_budget(listed, 256).tokbench_name == "Listed"
    assert with_budget(listed, 32).tokbench_name is None
