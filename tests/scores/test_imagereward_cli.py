"""``evalkit run t2i-scores -O scores=imagereward`` end to end on the random official-layout
checkpoint in a temporary store: the per-image records equal the scorer's own values on the same
files and the row is their mean with the judge identity. Skips until the t2i-scores benchmark
(metrics-t2i branch) is in the tree."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

pytest.importorskip("transformers")
pytest.importorskip("skimage")

from evalkit import catalog  # noqa: E402
from evalkit.cli import app  # noqa: E402
from tests.scores.test_imagereward import _store  # noqa: E402
from tests.scores.test_t2i_scores_cli import _samples  # noqa: E402

PHOTOS = ("astronaut", "chelsea")
PROMPTS = ("an astronaut in a white suit", "a ginger cat looking at the camera")

pytestmark = pytest.mark.skipif(
    "t2i-scores" not in catalog.benchmarks, reason="the t2i-scores benchmark is not in this tree"
)


def test_imagereward_through_t2i_scores(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from PIL import Image

    from evalkit import store
    from evalkit.scores import build

    monkeypatch.setenv("EVALKIT_CACHE_DIR", str(tmp_path / "cache"))
    root = tmp_path / "store"
    _store(root)
    samples = _samples(tmp_path / "samples", PHOTOS)
    prompts = tmp_path / "prompts.txt"
    prompts.write_text("\n".join(PROMPTS) + "\n")
    out = tmp_path / "out"
    try:
        result = CliRunner().invoke(
            app,
            [
                "run", "t2i-scores", "-m", "samples:photos",
                "-O", f"samples={samples}", "-O", f"prompts={prompts}",
                "-O", "scores=imagereward", "--store", str(root), "--out", str(out),
                "--workers", "0", "--no-leaderboard",
            ],
        )  # fmt: skip
        assert result.exit_code == 0, result.output
        (results,) = out.glob("t2i-scores/*/*/results.parquet")
        rows = pd.read_parquet(results)
        parts = results.parent.glob("parts/*.parquet")
        records = pd.concat(pd.read_parquet(p) for p in parts).sort_values("sample_id")
        store.set_store([root])
        images = [Image.open(samples / f"{p:05d}/samples/00000.png") for p in range(2)]
        direct = build("imagereward").score(images, list(PROMPTS))
    finally:
        store.set_store(None)
    assert records["score_imagereward"].tolist() == pytest.approx(direct, abs=1e-5)
    row = rows[rows["metric"] == "imagereward"].iloc[0]
    assert row["value"] == pytest.approx(sum(direct) / 2, abs=1e-5)
    assert row["judge_weights"] == "THUDM/ImageReward@store"
