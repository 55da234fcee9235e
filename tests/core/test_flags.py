"""Issue 17: one place derives `complete`/`comparable`; every benchmark takes --limit and --seed.

Table-driven over EVERY registered benchmark, each run as the user runs it (``evalkit run``
through typer's CliRunner) on tiny data: its embedded or synthetic data, generator benchmarks
through a generator double (seeded noise) and the samples folders it leaves, the real VISOR
images of the offline store, and the offline stand-in judges. Each case checks that a ``--limit``
run, an ``allow_missing`` run with a gap and a stand-in-judge run are never complete+comparable,
that a run that is not complete reaches ``leaderboards/`` only with ``--publish`` (a diagnostic:
never), and that ``--seed`` changes a generator benchmark's seeds. A benchmark registered later
must be added to ``CASES`` (and report facts) or this module fails.

Before (3e146c2): visor with -O allow_missing=true on 2 of 25,280 prompts wrote complete=True
rows into leaderboards/visor.parquet without --publish (the same for geneval, geneval-position,
t2i-compbench-spatial, spatial-compare); --limit was refused by visor, geneval,
geneval-position, t2i-compbench-spatial and spatial-compare; --seed 1 and --seed 2 drew the
same seeds for visor, t2i-compbench-spatial, geneval-position, detailmaster and imagenet-gfid.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import torch
from typer.testing import CliRunner

from evalkit import catalog
from evalkit.cli import app
from evalkit.types import Condition, ModelCard
from tests.support import HAVE_STORE, SHARED_OFFLINE

pytestmark = pytest.mark.skipif(
    not (SHARED_OFFLINE / "weights" / "yolox-nano").is_dir(),
    reason=f"the offline store {SHARED_OFFLINE} with yolox-nano and the VISOR images is absent "
    "(set EVALKIT_TEST_STORE)",
)
NOISE = "test-flags-noise"
VISOR_IMAGES = SHARED_OFFLINE / "images" / "visor" / "cogview2"
MINI_FILE = (
    SHARED_OFFLINE.parent / "protocols" / "detailmaster" / "DetailMaster_mini_benchmark.json"
)
cli = CliRunner()


class Noise:
    """A generator double: seeded noise for any condition; it records what it was asked."""

    asked: list[Condition] = []

    def __init__(self, model_id: str) -> None:
        self.card = noise_card(model_id)

    def to(self, device: object) -> Noise:
        return self

    def generate(self, conditions: list[Condition]) -> torch.Tensor:
        Noise.asked += conditions
        return torch.stack(
            [
                torch.rand(3, 64, 64, generator=torch.Generator().manual_seed(c.seed))
                for c in conditions
            ]
        )


def noise_card(model_id: str) -> ModelCard:
    return ModelCard(id=model_id, family="test-double", kind="generator")


@dataclass
class Case:
    """How to run one benchmark tiny: the args after ``evalkit run <id>``."""

    args: list[str]
    generator: bool = False  # runs the generator double: --seed must reach its conditions
    stand_in: str | None = None  # the stand-in judge the args choose (None: none exists)
    # args of an allow_missing run with a gap, given the run folder of the --limit run
    allow_missing: Callable[[Path], list[str]] | None = None
    diagnostic: bool = False
    limit: str = "1"  # FID needs 2 samples for a covariance


YOLOX = ["-O", "detector=yolox-nano"]


def _samples(folder: Callable[[Path], Path], *opts: str) -> Callable[[Path], list[str]]:
    return lambda run: ["-m", "samples:noise", "-O", f"samples={folder(run)}", *opts]


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The tiny inputs: photos, a TokBench layout, VISOR's real images, DetailMaster records."""
    from tests.fid.conftest import real_images, write_folder
    from tests.tokbench.conftest import make_layout

    root = tmp_path_factory.mktemp("flags-data")
    out = {
        "photos": write_folder(real_images(4, 64), root / "photos"),
        "tokbench": make_layout(root / "tokbench"),
        "visor": root / "visor",
    }
    out["visor"].mkdir()
    for uid in ("10321", "10516"):  # 2 of the 100 prompts of the store, 4 images each
        for f in VISOR_IMAGES.glob(f"{uid}_*.png"):
            shutil.copy(f, out["visor"] / f.name)
    records = json.loads(MINI_FILE.read_text())[:3] if MINI_FILE.is_file() else []
    out["records"] = root / "detailmaster.json"
    out["records"].write_text(json.dumps(records))
    from evalkit.scores.random_clip import write_random_clip  # t2i-scores' default CLIPScore

    out["clip_store"] = root / "clip-store"
    write_random_clip(out["clip_store"] / "weights" / "clip-vit-large-patch14", seed=2)
    return out


def _detailmaster(*data: str) -> Case:
    """Generator mode with the scripted judge (a stand-in); samples mode over the kept images."""
    opts = ["-O", "judge=scripted", *data]
    return Case(
        ["-m", NOISE, *opts],
        generator=True,
        stand_in="judge=scripted",
        allow_missing=_samples(lambda run: run / "images", *opts, "-O", "allow_missing=true"),
    )


def cases(d: dict[str, Path]) -> dict[str, Case]:
    """One entry per registered benchmark."""
    return {
        "recon": Case(["-m", "jpeg-q50"]),
        "tokbench-mini": Case(["-m", "identity"], stand_in="rapidocr"),  # its own default
        "tokbench": Case(
            ["-m", "identity", "--data", str(d["tokbench"])]
            + ["-O", "sets=syn", "-O", "ocr_judge=rapidocr", "-O", "face_judge=dlib"],
            stand_in="rapidocr",
        ),
        "imagenet-rfid": Case(
            ["-m", "identity", "--data", str(d["photos"]), "-O", "weights=fid-helper"]
            + ["-O", "min_samples=ignore"],
            limit="2",
        ),
        "imagenet-gfid": Case(
            ["-m", NOISE, "-O", f"reference={d['photos']}", "-O", "weights=fid-helper"]
            + ["-O", "min_samples=ignore"],
            generator=True,
            limit="4",  # precision/recall (k=3) need 4
        ),
        "geneval": Case(
            ["-m", NOISE, *YOLOX, "-O", "colour=pixels"],
            generator=True,
            stand_in="yolox-nano",
            allow_missing=_samples(
                lambda run: run, *YOLOX, "-O", "colour=pixels", "-O", "allow_missing=true"
            ),
        ),
        "visor": Case(  # the seen defect: real CogView2 images, 2 of 25,280 prompts
            ["-m", NOISE, *YOLOX],
            generator=True,
            stand_in="yolox-nano",
            allow_missing=lambda run: (
                ["-m", "samples:cogview2", "-O", f"samples={d['visor']}"]
                + [*YOLOX, "-O", "allow_missing=true"]
            ),
        ),
        "t2i-compbench-spatial": Case(
            ["-m", NOISE, *YOLOX],
            generator=True,
            stand_in="yolox-nano",
            allow_missing=_samples(lambda run: run, *YOLOX, "-O", "allow_missing=true"),
        ),
        "geneval-position": Case(
            ["-m", NOISE, *YOLOX],
            generator=True,
            stand_in="yolox-nano",
            allow_missing=_samples(lambda run: run, *YOLOX, "-O", "allow_missing=true"),
        ),
        "spatial-compare": Case(
            ["-m", "samples:cogview2", "-O", f"samples={d['visor']}", *YOLOX],
            stand_in="yolox-nano",
            diagnostic=True,
        ),
        "detailmaster-mini": _detailmaster("-O", f"data={MINI_FILE}"),
        "detailmaster": _detailmaster("-O", f"data={d['records']}", "-O", "allow_unpinned=true"),
        "t2i-scores": Case(  # random CLIP weights in a store of their own (plumbing), before
            # the offline store: --store stays set in this process for the cases after it
            ["-m", NOISE, "--store", f"{d.get('clip_store', d['photos'])}:{SHARED_OFFLINE}"],
            generator=True,
        ),
    }


def registered() -> set[str]:
    return {
        name
        for name in catalog.benchmarks.names()
        if not str(catalog.benchmarks.target(name)).startswith("tests.")
    }


@pytest.fixture(autouse=True)
def _noise_generator() -> None:
    if NOISE not in catalog.models:
        catalog.models.register(NOISE, f"{__name__}:Noise", card=f"{__name__}:noise_card")


def evalkit(*args: str) -> Any:
    """``evalkit run ...`` as the user types it; the rows it printed (``--json``)."""
    result = cli.invoke(app, ["run", *args, "--workers", "0", "--batch-size", "4", "--json"])
    assert result.exit_code == 0, result.output
    return pd.DataFrame(json.loads(result.stdout))


def run_folder(benchmark: str, model: str) -> Path:
    (folder,) = Path("evalkit-results", benchmark, model).iterdir()
    return folder


def test_every_registered_benchmark_has_a_case(tmp_path: Path) -> None:
    """A benchmark registered later fails here until it is in the table (and reports facts)."""
    assert set(cases({k: tmp_path for k in ("photos", "tokbench", "visor", "records")})) == (
        registered()
    )


def _check_rows(rows: pd.DataFrame, *needles: str) -> str:
    assert not rows["complete"].any(), "complete=True rows"
    assert not rows["comparable"].any(), "comparable=True rows"
    (reasons,) = set(rows["flag_reasons"])
    for needle in needles:
        assert needle in reasons, (needle, reasons)
    assert "not declared in the card" not in reasons, reasons  # every option has a kind
    return reasons


@pytest.mark.parametrize("benchmark", sorted(registered()))
def test_limit_allow_missing_stand_in_and_publish(
    benchmark: str, data: dict[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    if benchmark.startswith("detailmaster") and not MINI_FILE.is_file():
        pytest.skip(f"DetailMaster's mini file {MINI_FILE} is absent")
    case = cases(data)[benchmark]
    monkeypatch.chdir(tmp_path)
    # --limit: one mechanism for every benchmark (a generator benchmark's unit: one prompt)
    rows = evalkit(benchmark, *case.args, "--limit", case.limit)
    reasons = _check_rows(rows, f"--limit {case.limit}")
    if case.stand_in:  # the stand-in judge is named as why the rows are not comparable
        assert "not comparable" in reasons and case.stand_in.split("=")[-1] in reasons, reasons
    if case.diagnostic:
        assert "diagnostic" in reasons
    assert not Path("leaderboards").exists(), "an incomplete run reached leaderboards/"
    again = evalkit(benchmark, *case.args, "--limit", case.limit, "--publish")  # resumes
    assert set(again["run_id"]) == set(rows["run_id"])
    board = Path("leaderboards", f"{benchmark}.parquet")
    assert board.exists() is not case.diagnostic, "--publish appends; a diagnostic never"
    if case.allow_missing is not None:
        model = case.args[case.args.index("-m") + 1]
        shutil.rmtree("leaderboards")
        gap = evalkit(benchmark, *case.allow_missing(run_folder(benchmark, model)))
        _check_rows(gap, "missing (allow_missing)")
        assert not Path("leaderboards").exists(), "an allow_missing run reached leaderboards/"


@pytest.mark.parametrize(
    "benchmark", sorted(b for b in registered() if b not in ("recon", "tokbench", "tokbench-mini"))
)
def test_seed_reaches_every_generator_benchmark(
    benchmark: str, data: dict[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    case = cases(data)[benchmark]
    if not case.generator:
        pytest.skip(f"{benchmark} scores a samples folder: no seed is drawn")
    if benchmark.startswith("detailmaster") and not MINI_FILE.is_file():
        pytest.skip(f"DetailMaster's mini file {MINI_FILE} is absent")
    monkeypatch.chdir(tmp_path)
    seeds = {}
    for seed in ("1", "2"):
        Noise.asked = []
        evalkit(benchmark, *case.args, "--limit", case.limit, "--seed", seed)
        seeds[seed] = [c.seed for c in Noise.asked]
    assert seeds["1"] and seeds["1"] != seeds["2"], seeds
    refused = cli.invoke(app, ["run", benchmark, *case.args, "-O", "seed=3"])
    assert refused.exit_code == 2 and "--seed" in refused.output, refused.output


@pytest.mark.skipif(not HAVE_STORE, reason="offline store absent")
def test_visor_allow_missing_on_the_real_images_is_never_published(
    data: dict[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The issue's command, as typed: 2 of 25,280 prompts, nothing in leaderboards/."""
    monkeypatch.chdir(tmp_path)
    result = cli.invoke(
        app,
        ["run", "visor", "--model", "samples:cogview2", "-O", f"samples={data['visor']}"]
        + ["-O", "detector=yolox-nano", "-O", "allow_missing=true", "--workers", "0"],
    )
    assert result.exit_code == 0, result.output
    rows = pd.read_parquet(next(Path("evalkit-results").rglob("results.parquet")))
    _check_rows(rows, "2 of 25,280 prompts scored", "25,278 prompts missing", "yolox-nano")
    assert not Path("leaderboards").exists()
    assert "not complete: 2 of 25,280 prompts" in " ".join(result.output.split())
