"""``evalkit run t2i-scores`` end to end: tiny random CLIP/CLIP-H weights in a temporary store,
a samples folder of scikit-image photos, a prompt file. Plumbing only: the per-image values in
the records equal the scorers' own on the same files, the rows are per-model means with the
judge identity, and ``evalkit list metrics`` shows the scores."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

pytest.importorskip("transformers")
pytest.importorskip("open_clip")
pytest.importorskip("skimage")

from evalkit.cli import app  # noqa: E402

PHOTOS = ("astronaut", "chelsea", "coffee")
PROMPTS = ("an astronaut", "a photo of a cat", "a cup of coffee")


def _store(root: Path) -> Path:
    from evalkit.scores.random_clip import (
        write_preprocessor,
        write_random_clip,
        write_tokenizer,
    )

    write_random_clip(root / "weights" / "clip-vit-large-patch14", seed=2)
    write_random_clip(
        root / "weights" / "PickScore_v1", seed=1, real="laion/CLIP-ViT-H-14-laion2B-s32B-b79K"
    )
    proc = root / "weights" / "CLIP-ViT-H-14-laion2B-s32B-b79K"
    proc.mkdir(parents=True)
    write_preprocessor(proc)
    write_tokenizer(proc, pad_token="!")
    for p in ("PickScore_v1",):  # the model folder needs only config + weights
        for extra in ("preprocessor_config.json", "vocab.json", "merges.txt"):
            (root / "weights" / p / extra).unlink()
    return root


def _samples(root: Path, photos: tuple[str, ...] = PHOTOS) -> Path:
    """One GenEval-layout samples folder per photo (``<prompt>/samples/00000.png``)."""
    from PIL import Image
    from skimage import data

    for p, name in enumerate(photos):
        folder = root / f"{p:05d}" / "samples"
        folder.mkdir(parents=True)
        # one size, as one generator's samples are (the runner batches equal shapes)
        Image.fromarray(getattr(data, name)()[:256, :288]).save(folder / "00000.png")
    return root


def test_t2i_scores_cli_end_to_end(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from evalkit import store
    from evalkit.scores import build

    monkeypatch.setenv("EVALKIT_CACHE_DIR", str(tmp_path / "cache"))
    root = _store(tmp_path / "store")
    samples = _samples(tmp_path / "samples")
    prompts = tmp_path / "prompts.txt"
    prompts.write_text("\n".join(PROMPTS) + "\n")
    out = tmp_path / "out"
    try:
        result = CliRunner().invoke(
            app,
            [
                "run", "t2i-scores", "-m", "samples:photos",
                "-O", f"samples={samples}", "-O", f"prompts={prompts}",
                "-O", "scores=clipscore,pickscore",
                "--store", str(root), "--out", str(out), "--workers", "0",
                "--batch-size", "2", "--no-leaderboard",
            ],
        )  # fmt: skip
        assert result.exit_code == 0, result.output
        (results,) = out.glob("t2i-scores/*/*/results.parquet")
        rows = pd.read_parquet(results)
        records = pd.concat(pd.read_parquet(p) for p in results.parent.glob("parts/*.parquet"))
        records = records.sort_values("sample_id")
        store.set_store([root])
        from PIL import Image

        images = [Image.open(samples / f"{p:05d}/samples/00000.png") for p in range(3)]
        for score_id in ("clipscore", "pickscore"):
            direct = build(score_id).score(images, list(PROMPTS))
            assert records[f"score_{score_id}"].tolist() == pytest.approx(direct, abs=1e-4)
            row = rows[rows["metric"] == score_id].iloc[0]
            assert row["value"] == pytest.approx(sum(direct) / 3, abs=1e-4)
            assert int(row["n"]) == 3
            hub_id = {"clipscore": "openai/clip-vit-large-patch14", "pickscore": "yuvalkirstain"}
            assert row["judge"].startswith(hub_id[score_id]) and row["judge_weights"].endswith(
                "@store"
            )
            assert set(records[f"judge_{score_id}"]) == {row["judge_weights"]}
    finally:
        store.set_store(None)
    listing = CliRunner().invoke(app, ["list", "metrics"])
    for score_id in ("clipscore", "clip_s", "pickscore", "hpsv2"):
        line = next(li for li in listing.output.splitlines() if li.startswith(score_id + " "))
        library = "open_clip_torch" if score_id == "hpsv2" else "transformers"
        assert line.split()[1] == "higher" and library[:12] in line, line


def test_bad_prompt_file_is_one_clear_error(tmp_path: Path) -> None:
    bad = tmp_path / "p.jsonl"
    bad.write_text('{"text": "no prompt key"}\n')
    (tmp_path / "x").mkdir()
    result = CliRunner().invoke(
        app,
        ["run", "t2i-scores", "-m", "samples:x", "-O", f"samples={tmp_path / 'x'}"]
        + ["-O", f"prompts={bad}", "--no-leaderboard"],
    )
    assert result.exit_code == 2, result.output
    assert f"{bad}:1" in result.output
