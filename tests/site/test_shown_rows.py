"""Tables, plots and the site show the same rows, named by their real setting, and say what
they hold: `evalkit run` then `evalkit leaderboard show|site`, as a user does.

Real runs: VISOR's own CogView2 images (128 px, 5 prompts) with the offline YOLOX-Nano detector,
and a tiny random Stable Diffusion pipeline (plumbing only) run at two step counts.
"""

from __future__ import annotations

import json
import re
import shutil
from html.parser import HTMLParser
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from evalkit.cli import app
from tests.support import SHARED_OFFLINE, needs_store

VISOR_IMAGES = SHARED_OFFLINE / "images" / "visor" / "cogview2"
runner = CliRunner()


def _cli(*args: str) -> str:
    res = runner.invoke(app, list(args), env={"COLUMNS": "80"})
    assert res.exit_code == 0, res.output
    return res.stdout


class _Tables(HTMLParser):
    """Every table of a page as rows of cell texts, keyed by the table's class."""

    def __init__(self) -> None:
        super().__init__()
        self.tables: dict[str, list[list[str]]] = {}
        self._rows: list[list[str]] | None = None
        self._cell: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list) -> None:
        if tag == "table":
            self._rows = self.tables.setdefault(dict(attrs).get("class", ""), [])
        elif tag == "tr" and self._rows is not None:
            self._rows.append([])
        elif tag in ("td", "th") and self._rows is not None:
            self._cell = []

    def handle_endtag(self, tag: str) -> None:
        if tag in ("td", "th") and self._cell is not None and self._rows is not None:
            self._rows[-1].append("".join(self._cell).strip())
            self._cell = None
        elif tag == "table":
            self._rows = None

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)


def _tables(page: Path) -> dict[str, list[list[str]]]:
    parser = _Tables()
    parser.feed(page.read_text())
    return parser.tables


@pytest.fixture(scope="module")
def visor_board(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """`evalkit run visor --model samples:cogview2` on 5 prompts of VISOR's own images with the
    offline detector (not comparable: other detector, 5 of 25,280 prompts)."""
    pytest.importorskip("onnxruntime")
    if not VISOR_IMAGES.is_dir():
        pytest.skip(f"{VISOR_IMAGES} absent")
    tmp = tmp_path_factory.mktemp("visor")
    samples = tmp / "cogview2"
    samples.mkdir()
    ids = sorted({p.name.split("_")[0] for p in VISOR_IMAGES.glob("*_0.png")})[:5]
    for uid in ids:
        for k in range(4):
            shutil.copy(VISOR_IMAGES / f"{uid}_{k}.png", samples / f"{uid}_{k}.png")
    _cli(
        "run", "visor", "--model", "samples:cogview2", "-O", f"samples={samples}",
        "-O", "detector=yolox-nano", "-O", "allow_missing=true", "--workers", "0", "--publish",
        "--out", str(tmp / "runs"), "--leaderboard-dir", str(tmp / "boards"),
    )  # fmt: skip
    return tmp / "boards"


def _reported(page: Path) -> tuple[list[list[str]], int, int]:
    """The 'Reported vs reproduced' rows, the difference column and the last (reason) column."""
    table = _tables(page)["sortable reported"]
    return table[1:], table[0].index("difference"), len(table[0]) - 1


@needs_store
def test_reported_vs_reproduced_marks_rows_that_are_not_comparable(
    visor_board: Path, tmp_path: Path
) -> None:
    """VISOR with the offline detector on 5 prompts is no reproduction of the published 18.47:
    the site gives no difference for it and says why. "What differs from the official protocol"
    names the judges that ran and the subset."""
    rows = pd.read_parquet(visor_board / "visor.parquet")
    assert rows["reported_value"].notna().any() and not rows["comparable"].any()
    _cli("leaderboard", "site", str(tmp_path / "site"), "--leaderboard-dir", str(visor_board))
    page = tmp_path / "site" / "visor.html"
    body, diff, why = _reported(page)
    assert len(body) == rows["reported_value"].notna().sum()
    for row in body:
        assert row[diff] == "–", f"a difference for a row that is not comparable: {row}"
        assert row[why], f"no reason given: {row}"
    runs = re.search(r'<ul class="runs">(.*?)</ul>', page.read_text(), re.S)
    assert runs, "no 'In the runs shown' list under 'What differs from the official protocol'"
    for needle in (
        "yolox-nano",
        "official: detector owlvit",
        "detector=yolox-nano",
        "missing (allow_missing)",
        "n up to 20",
    ):
        assert needle in runs.group(1), (needle, runs.group(1))


@needs_store
def test_reported_vs_reproduced_gives_the_difference_of_comparable_rows(
    visor_board: Path, tmp_path: Path
) -> None:
    """The same numbers as a comparable setting (copied and relabelled, for the other branch)
    get their difference and no reason; the two settings are rows [A] and [B]."""
    rows = pd.read_parquet(visor_board / "visor.parquet")
    pretend = rows.assign(run_id="comparable-copy", comparable=True, complete=True)
    pretend["judges"] = json.dumps({"detector": "owlvit"})
    (tmp_path / "boards").mkdir()
    pd.concat([rows, pretend]).to_parquet(tmp_path / "boards" / "visor.parquet", index=False)
    _cli(
        "leaderboard", "site", str(tmp_path / "site"), "--leaderboard-dir", str(tmp_path / "boards")
    )
    body, diff, why = _reported(tmp_path / "site" / "visor.html")
    comparable = [r for r in body if "[B]" in r[0]]  # configurations in first-seen order
    assert len(comparable) == len(body) // 2
    assert all(r[diff] != "–" and not r[why] for r in comparable)
    ours, theirs = rows.set_index("metric").loc["oa", ["value", "reported_value"]]
    assert f"{ours - theirs:.2f}" == next(r[diff] for r in comparable if r[1] == "oa")
    assert all(r[diff] == "–" and r[why] for r in body if "[A]" in r[0])


@needs_store
def test_the_size_shown_is_the_images_real_size(visor_board: Path, tmp_path: Path) -> None:
    """VISOR's images are 128 px; the card's nominal 512 is not what was scored."""
    rows = pd.read_parquet(visor_board / "visor.parquet")
    assert set(rows["resolution"]) == {128} and set(rows["image_size"]) == {"128x128"}
    _cli("leaderboard", "site", str(tmp_path / "site"), "--leaderboard-dir", str(visor_board))
    labels = [r[0] for r in _tables(tmp_path / "site" / "visor.html")["sortable main"][1:]]
    assert labels and all("samples:cogview2 (128 px)" in label for label in labels), labels
    shown = _cli("leaderboard", "show", "visor", "--all", "--leaderboard-dir", str(visor_board))
    assert re.search(r"^samples:cogview2\s.*\s128\s+fp32\s", shown, re.M), shown


def _geneval_rows(run_id: str, judges: dict[str, str], base: float, when: str) -> pd.DataFrame:
    tasks = ("single_object", "two_object", "counting", "colors", "position", "color_attr")
    return pd.DataFrame(
        {
            "run_id": run_id,
            "benchmark": "geneval",
            "model": "sd15",
            "subset": list(tasks),
            "bin": "all",
            "metric": list(tasks),
            "value": [base + i / 100 for i in range(len(tasks))],
            "n": 10,
            "higher_is_better": True,
            "resolution": 512,
            "image_size": "512x512",
            "precision": "fp32",
            "judges": json.dumps(judges),
            "options": "{}",
            "complete": True,
            "comparable": False,
            "timestamp": when,
            "wall_time_s": 1.0,
        }
    )


def test_plots_show_the_rows_the_tables_show(tmp_path: Path) -> None:
    """Two GenEval runs of one model with other detectors are two rows in the table and two
    bar series in the plot (not the last run's values under the model's name)."""
    from evalkit import plots
    from evalkit.site import table_frame

    rows = pd.concat(
        [
            _geneval_rows("yolox", {"detector": "yolox-nano"}, 0.2, "2025-01-01"),
            _geneval_rows("m2f", {"detector": "m2f-hf"}, 0.6, "2025-01-02"),
        ]
    )
    (tmp_path / "boards").mkdir()
    rows.to_parquet(tmp_path / "boards" / "geneval.parquet", index=False)
    _cli(
        "leaderboard", "site", str(tmp_path / "site"), "--leaderboard-dir", str(tmp_path / "boards")
    )
    labels = [r[0] for r in _tables(tmp_path / "site" / "geneval.html")["sortable main"][1:]]
    assert len(labels) == 2
    series = plots.task_bars(rows).axes[0].get_legend_handles_labels()[1]
    assert sorted(series) == sorted(labels), "plot series differ from the table's rows"
    svg = (tmp_path / "site" / "plots" / "geneval-tasks.svg").read_text()
    assert all(label in svg for label in labels)
    assert sorted(labels) == ["sd15 (512 px) [A]", "sd15 (512 px) [B]"]
    frame, _ = table_frame(rows)
    table = frame.set_index(["shown", "subset"])["value"].sort_index()
    plotted = plots.shown_rows(rows).set_index(["shown", "subset"])["value"].sort_index()
    pd.testing.assert_series_equal(table, plotted)


@needs_store
def test_generation_settings_make_separate_rows(tmp_path: Path) -> None:
    """sd15 at 2 and at 3 steps (32 px images) are two rows, each named by its real size."""
    pytest.importorskip("diffusers")
    pytest.importorskip("onnxruntime")
    from evalkit import store
    from tests.hub.fixtures import tiny_sd15_repo

    folder = tmp_path / "store" / "weights" / "sd15"
    (tmp_path / "tokenizer").mkdir()
    for name, data in tiny_sd15_repo(tmp_path / "tokenizer").items():  # all sd15 card files
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_bytes(data)
    store.set_store([tmp_path / "store", SHARED_OFFLINE])
    try:
        for steps in (2, 3):
            _cli(
                "run", "visor", "--model", "sd15", "--model-option", f"steps={steps}",
                "--model-option", "size=32", "-O", "prompts=4", "-O", "detector=yolox-nano",
                "--workers", "0", "--out", str(tmp_path / "runs"),
                "--leaderboard-dir", str(tmp_path / "boards"), "--publish",
            )  # fmt: skip
    finally:
        store.set_store(None)
    board = pd.read_parquet(tmp_path / "boards" / "visor.parquet")
    assert sorted(json.loads(g)["steps"] for g in board["generation"].unique()) == [2, 3]
    shown = _cli(
        "leaderboard", "show", "visor", "--all", "--leaderboard-dir", str(tmp_path / "boards")
    )
    sd15 = re.findall(r"^sd15 \[([AB])\].*\s32\s+fp32\s", shown, re.M)
    assert sorted(sd15) == ["A", "B"], shown
    legend = " ".join(shown.split())  # the legend, unwrapped
    assert re.search(r'\[A\] model_options \{[^}]*\}; generation \{[^}]*"steps": 2', legend)
    assert re.search(r'\[B\] model_options \{[^}]*\}; generation \{[^}]*"steps": 3', legend)


def test_generation_rows_carry_the_real_size_not_the_nominal_one() -> None:
    """GenEval's spec says 0 (the generator's own size); the rows say what the records hold."""
    from evalkit.records import setting_columns
    from evalkit.selection import setting_label
    from evalkit.types import BenchmarkSpec, DatasetManifest

    spec = BenchmarkSpec(
        "geneval", "1", "", "generation", DatasetManifest("p", "s"), 0, "none", ("overall",)
    )
    one = pd.DataFrame({"sample_id": ["a", "a", "b"], "height": [512] * 3, "width": [512] * 3})
    cols = setting_columns(one, {"preset": "geneval"}, spec)
    assert (cols["resolution"], cols["image_size"]) == (512, "512x512")
    assert json.loads(cols["model_options"]) == {"preset": "geneval"}
    assert setting_label({"model": "sd15", **cols, "precision": "fp32"}) == "sd15 (512 px)"
    mixed = one.assign(height=[512, 512, 256], width=[512, 512, 384])
    cols = setting_columns(mixed, {}, spec)
    assert (cols["resolution"], cols["image_size"]) == (0, "384x256, 512x512")
    assert setting_label({"model": "sd15", **cols}) == "sd15 (384x256, 512x512 px)"
    # a token budget in the id is not mistaken for a size
    budgeted = {"model": "one-d-piece-s256@2", "resolution": 32}
    assert setting_label(budgeted) == "one-d-piece-s256@2 (32 px)"
