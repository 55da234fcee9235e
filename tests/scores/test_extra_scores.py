"""``-O scores=`` on GenEval: the per-image scores are added beside GenEval's own numbers, which
stay as they were, and the run's flags do not change (card: ``changes = "output"``)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

pytest.importorskip("transformers")
pytest.importorskip("open_clip")

from tests.detailmaster.helpers import MINI_FILE, needs_mini  # noqa: E402
from tests.geneval.conftest import blobs  # noqa: E402, F401
from tests.geneval.test_benchmark import lay_out, prompts_file, run  # noqa: E402, F401


def test_geneval_with_scores_keeps_its_numbers(
    tmp_path: Path,
    blobs,  # noqa: F811
    prompts_file: Path,  # noqa: F811
) -> None:
    from evalkit import store
    from evalkit.scores import build
    from evalkit.scores.random_clip import write_random_clip

    root = tmp_path / "store"
    write_random_clip(root / "weights" / "clip-vit-large-patch14", seed=2)
    samples = lay_out(tmp_path / "s")
    plain = run(samples, prompts_file, tmp_path / "out1")
    store.set_store([root])
    try:
        scored = run(samples, prompts_file, tmp_path / "out2", scores="clipscore")
        scorer = build("clipscore")
    finally:
        store.set_store(None)
    geneval = plain.rows.set_index("metric")["value"]
    with_scores = scored.rows.set_index("metric")["value"]
    assert with_scores.drop("clipscore").to_dict() == geneval.to_dict()
    flags = ["complete", "comparable"]
    assert scored.rows[flags].drop_duplicates().values.tolist() == (
        plain.rows[flags].drop_duplicates().values.tolist()
    )
    rec = scored.samples.set_index("sample_id").sort_index()
    from PIL import Image

    first = rec.iloc[0]
    image = Image.open(samples / first.name.split("/")[0] / "samples" / "00000.png")
    assert first["score_clipscore"] == pytest.approx(
        scorer.score([image], [first["prompt"]])[0], abs=1e-4
    )
    assert with_scores["clipscore"] == pytest.approx(rec["score_clipscore"].mean(), abs=1e-9)
    agreement = pd.read_csv(scored.run_dir / "agreement.csv")  # the judge-agreement table
    assert agreement["score"].tolist() == ["clipscore"] and agreement["prompts"].tolist() == [3]
    assert (scored.run_dir / "agreement.svg").is_file()


def test_visor_with_scores_keeps_its_numbers(tmp_path: Path, monkeypatch) -> None:
    import evalkit
    from evalkit import store
    from evalkit.benchmarks.spatial import detectors
    from evalkit.scores.random_clip import write_random_clip
    from tests.spatial import doubles

    doubles.register()
    monkeypatch.setattr(detectors, "check_available", lambda name, bench: None)
    monkeypatch.setattr(detectors, "build", lambda name, device="cpu": doubles.ColourDetector())
    root = tmp_path / "store"
    write_random_clip(root / "weights" / "clip-vit-large-patch14", seed=2)
    opts = {"prompts": 2, "detector": "yolox-nano"}
    plain = evalkit.run("visor", "test-painter", options=opts, out_dir=tmp_path / "a")
    store.set_store([root])
    try:
        scored = evalkit.run(
            "visor",
            "test-painter",
            options={**opts, "scores": "clipscore"},
            out_dir=tmp_path / "b",
        )
    finally:
        store.set_store(None)
    visor = plain.rows.set_index("metric")["value"].to_dict()
    with_scores = scored.rows.set_index("metric")["value"]
    assert with_scores.drop("clipscore").to_dict() == visor
    assert scored.samples["score_clipscore"].notna().all() and len(scored.samples) == 8
    assert with_scores["clipscore"] == scored.samples["score_clipscore"].mean()
    agreement = pd.read_csv(scored.run_dir / "agreement.csv")  # against visor_correct
    assert agreement["prompts"].tolist() == [2]


def test_detailmaster_with_scores_keeps_its_numbers(tmp_path: Path) -> None:
    from evalkit import store
    from evalkit.scores.random_clip import write_random_clip
    from tests.detailmaster.test_runner import _run, _synthetic_records, _values

    data = tmp_path / "DetailMaster_Dataset.json"
    data.write_text(__import__("json").dumps(_synthetic_records(4)))
    root = tmp_path / "store"
    # seed 4: cosines above 0 on these images (seed 2 clips every CLIPScore to 0: no ranking)
    write_random_clip(root / "weights" / "clip-vit-large-patch14", seed=4)
    opts = {"data": str(data), "allow_unpinned": True}
    plain = _run("detailmaster", tmp_path / "a", **opts)
    store.set_store([root])
    try:
        scored = _run("detailmaster", tmp_path / "b", scores="clipscore", **opts)
    finally:
        store.set_store(None)
    with_scores = _values(scored)
    extra = {k: v for k, v in with_scores.items() if k[1] == "clipscore"}
    assert {k: v for k, v in with_scores.items() if k not in extra}.keys() == _values(plain).keys()
    for k, (value, n) in _values(plain).items():
        assert with_scores[k][1] == n
        assert with_scores[k][0] == value or (
            value != value and with_scores[k][0] != with_scores[k][0]
        )
    score_rows = scored.samples[scored.samples["row"] == "score"]
    assert len(score_rows) == 4 and score_rows["score_clipscore"].notna().all()
    ((_, (mean, n)),) = extra.items()
    assert n == 4 and mean == pytest.approx(score_rows["score_clipscore"].mean())
    _check_agreement(scored, prompts=4)
    assert not (plain.run_dir / "agreement.csv").exists()


def _check_agreement(scored, prompts: int) -> None:
    """agreement.csv per prompt (key): the share of its counted units judged correct against the
    score's mean over its images, ranked here by scipy on the run's records."""
    from scipy.stats import spearmanr

    units = scored.samples[scored.samples["row"] == "unit"]
    score_rows = scored.samples[scored.samples["row"] == "score"]
    verdict = units.groupby("key")["success"].mean()
    score = score_rows.groupby("key")["score_clipscore"].mean()
    assert len(verdict) == prompts and verdict.nunique() > 1 and score.nunique() > 1  # to rank
    expected = spearmanr(verdict, score.loc[verdict.index]).statistic
    agreement = pd.read_csv(scored.run_dir / "agreement.csv")
    assert agreement["score"].tolist() == ["clipscore"]
    assert agreement["prompts"].tolist() == [prompts]
    assert agreement["spearman"].iloc[0] == pytest.approx(expected, abs=1e-12)
    assert "unit_accuracy" in (scored.run_dir / "agreement.svg").read_text()


@needs_mini
def test_detailmaster_mini_agreement(tmp_path: Path) -> None:
    from evalkit import store
    from evalkit.scores.random_clip import write_random_clip
    from tests.detailmaster.test_runner import _run

    root = tmp_path / "store"
    write_random_clip(root / "weights" / "clip-vit-large-patch14", seed=4)
    store.set_store([root])
    try:
        scored = _run(
            "detailmaster-mini", tmp_path / "m", scores="clipscore", data=str(MINI_FILE), limit=20
        )
    finally:
        store.set_store(None)
    _check_agreement(scored, prompts=20)
