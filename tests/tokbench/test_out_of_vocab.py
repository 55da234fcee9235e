"""The official skip of a batch holding a GT character outside docTR's vocab (card quirk).

TokBench's eval_text.py reads each set file in order in batches of 64 and drops a whole batch
when docTR's PARSeq refuses one of its GT words (a character outside ``VOCABS['french']``).
The recorded official run (tests/fixtures/tokbench_judges_official.json, ``skipped``) is the
reference for which instances are dropped: batch 2 of the photos set, the one holding "Straße".
``-O out_of_vocab=score`` scores every instance instead (a deviation: runs are not complete).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from evalkit.benchmarks.tokbench import data as tbdata
from evalkit.benchmarks.tokbench.benchmark import build
from evalkit.cli import app
from tests.tokbench.conftest import write_text_set

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "scripts"))
from official_fixtures import tokbench_judges as rec  # noqa: E402 - the recorder's photo set

DOC = json.loads(rec.JSON_OUT.read_text(encoding="utf-8"))
KEY = ("set", "image", "instance")


@pytest.fixture(scope="module")
def photos_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The recorder's photo set (150 words, 3 official batches) in the official layout."""
    images, photos = rec.photo_text_set()
    assert photos == DOC["photos_annotations"]
    root = write_text_set(tmp_path_factory.mktemp("tokbench_oov"), "photos", images, photos)
    return root


def _official() -> pd.DataFrame:
    return pd.DataFrame(DOC["text"])


def test_loader_marks_exactly_the_batches_the_official_script_skipped(photos_root: Path) -> None:
    samples = tbdata.load_samples(photos_root, ("photos",), faces=False)
    samples += tbdata.load_samples(tbdata.mini_root(), ("mini",), faces=False)
    ours = {
        (s.set, s.path.name, k): skip for s in samples for k, skip in enumerate(s.official_skip)
    }
    official = {tuple(r[k] for k in KEY): r["skipped"] for r in DOC["text"]}
    assert ours == official  # all 466 instances, 22 of them skipped (photos batch 2)
    assert sum(official.values()) == 22


def test_a_long_word_does_not_skip_its_batch() -> None:
    # the photos' batch 0 holds a 34-character word: docTR truncates it, the script reads the batch
    words = ["a" * 34] + ["ok"] * 63 + ["Straße"] + ["ok"] * 10
    flags = tbdata.official_skipped_batches(words, tbdata.ocr_vocab())
    assert flags == [False] * 64 + [True] * 11


def _records(official: pd.DataFrame) -> pd.DataFrame:
    """Per-instance records as TokBench.score writes them, with the official readings' T-ACC and
    T-NED; the skipped batch (never read officially) gets 1.0 so that counting it would show."""
    rows = official.assign(
        sample_id="text/photos/" + official["image"],
        kind="text",
        ratio=0.05,
        t_acc=official["t_acc"].where(~official["skipped"], 1.0),
        t_ned=official["t_ned"].where(~official["skipped"], 1.0),
        f_sim=float("nan"),
        judge="rapidocr",
        judge_weights="x",
    )
    return rows.drop(columns=["skipped"])


def _values(b, records: pd.DataFrame) -> dict[tuple[str, str], object]:
    return {(v.metric, v.bin): v for v in b.summarize(records)}


def test_aggregation_leaves_out_the_skipped_batch_as_the_official(photos_root: Path) -> None:
    official = _official()
    official = official[official["set"] == "photos"]
    kept = official[~official["skipped"]]
    # a stand-in judge: the skip is a property of the data order and the vocab, for every judge
    opts = {"data": str(photos_root), "sets": "photos", "faces": False, "ocr_judge": "rapidocr"}
    b = build("tokbench", **opts)
    values = _values(b, _records(official))
    large = values[("t_acc", "large")]  # every photo word has ratio 0.05: 'large' at 256
    assert large.n == len(kept) == 128
    assert large.value == pytest.approx(kept["t_acc"].mean(), abs=1e-12)  # the official figure
    assert values[("t_ned", "large")].value == pytest.approx(kept["t_ned"].mean(), abs=1e-12)
    assert values[("t_acc", "skipped")].n == values[("t_ned", "skipped")].n == 22

    scored = build("tokbench", **opts, out_of_vocab="score")
    values = _values(scored, _records(official))
    assert values[("t_acc", "large")].n == 150 and ("t_acc", "skipped") not in values
    assert values[("t_acc", "large")].value > large.value  # the batch's 1.0s now count


def test_score_option_is_a_deviation_not_a_complete_run() -> None:
    from dataclasses import replace

    from evalkit import catalog
    from evalkit.flags import derive
    from evalkit.runsetup import prepare

    def flags(**options):  # noqa: ANN202
        bench, ids = prepare("tokbench-mini", options, catalog.models.card("identity"), 0, None)
        return derive("tokbench-mini", replace(bench.facts(ids)))

    assert flags().complete
    scored = flags(out_of_vocab="score")
    assert not scored.complete and "out_of_vocab" in scored.reasons
    with pytest.raises(ValueError, match="out_of_vocab"):
        build("tokbench-mini", out_of_vocab="keep")


def _cli_rows(tmp_path: Path, *args: str) -> pd.DataFrame:
    result = CliRunner().invoke(
        app,
        ["run", *args, "--workers", "0", "--batch-size", "8", "--json", "--out", str(tmp_path)],
    )
    assert result.exit_code == 0, result.output
    [rows] = list(tmp_path.rglob("results.parquet"))
    return pd.read_parquet(rows)


def _values_of(rows: pd.DataFrame) -> dict[tuple[str, str], tuple[float, int]]:
    return {(r.metric, r.bin): (r.value, r.n) for r in rows.itertuples()}


def test_cli_mini_run_reports_the_skipped_count(tmp_path: Path) -> None:
    """`evalkit run tokbench-mini` (2 images): a 'skipped' row per text metric (none skipped in
    the mini set); with -O out_of_vocab=score no such row, and the option makes it incomplete."""
    args = ["tokbench-mini", "-m", "identity", "--limit", "2"]
    rows = _cli_rows(tmp_path / "skip", *args)
    values = _values_of(rows)
    assert values[("t_acc", "skipped")][1] == values[("t_ned", "skipped")][1] == 0
    assert values[("t_acc", "mean")][1] + values[("t_acc", "below")][1] > 0
    scored = _cli_rows(tmp_path / "score", *args, "-O", "out_of_vocab=score")
    assert "skipped" not in set(scored["bin"])
    assert "out_of_vocab=score" in scored["flag_reasons"].iloc[0]
    assert "out_of_vocab" not in rows["flag_reasons"].iloc[0]


@pytest.mark.slow  # ~2 x 100 s on a loaded 2-core machine (150 crops through rapidocr)
def test_cli_run_leaves_out_the_official_skipped_batch(photos_root: Path, tmp_path: Path) -> None:
    """`evalkit run tokbench --data <photos> -O sets=photos`: 128 of 150 words scored, 22 counted
    as skipped; with -O out_of_vocab=score all 150, and T-ACC moves with the denominator."""
    args = ["tokbench", "-m", "identity", "--data", str(photos_root), "-O", "sets=photos"]
    args += ["-O", "faces=false", "-O", "ocr_judge=rapidocr"]
    skip = _values_of(_cli_rows(tmp_path / "skip", *args))
    score = _values_of(_cli_rows(tmp_path / "score", *args, "-O", "out_of_vocab=score"))
    assert skip[("t_acc", "large")][1] == 128 and skip[("t_acc", "skipped")][1] == 22
    assert score[("t_acc", "large")][1] == 150 and ("t_acc", "skipped") not in score
    n_hits = round(skip[("t_acc", "large")][0] * 128) + round(skip[("t_acc", "skipped")][0] * 22)
    assert round(score[("t_acc", "large")][0] * 150) == n_hits  # same readings, other denominator
