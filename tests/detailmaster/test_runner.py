"""DetailMaster through the runner with the scripted judge: resume after a kill asks nothing
twice and gives the same numbers; the runner's numbers equal evaluate() on the kept images."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
from PIL import Image

from evalkit import runner
from evalkit.benchmarks.detailmaster import evaluate
from evalkit.benchmarks.detailmaster.benchmark import row_metric
from evalkit.benchmarks.detailmaster.scripted import ScriptedJudge
from tests.detailmaster import plugin
from tests.detailmaster.helpers import MINI_FILE, mini_records, needs_mini

JUDGE = "tests.detailmaster.plugin:make"


def _synthetic_records(n: int = 9) -> list[dict]:
    out = []
    for i in range(n):
        out.append(
            {
                "image_id": f"{i}.jpg",
                "dataset_target": "docci",
                "polished_prompt": "A long prompt about a dog and a red cup " * (3 + 6 * (i % 2)),
                "character_attributes": [
                    {
                        "main_character": "dog",
                        "characteristics_list": ["brown", "small"],
                        "cls": "animal",
                    },
                    {"main_character": "man", "characteristics_list": ["tall"], "cls": "person"},
                ],
                "character_locations": [
                    {
                        "main_character": "red cup",
                        "bbox": [0, 0, 1, 1],
                        "position": "The lower part of the image",
                    }
                ],
                "scene_attributes": [
                    {"scene_attribute": "background", "content": "a park"},
                    {"scene_attribute": "light", "content": "sunny"},
                    {"scene_attribute": "spatial", "content": ["dog left of man"]},
                ],
            }
        )
    return out


@pytest.fixture
def records_file(tmp_path: Path) -> Path:
    path = tmp_path / "DetailMaster_Dataset.json"
    path.write_text(json.dumps(_synthetic_records()))
    return path


def _run(bench: str, out: Path, batch_size: int = 3, **options):
    plugin.register()
    return runner.run(
        bench,
        "dm-toy",
        options={"judge": JUDGE, **options},
        out_dir=out,
        batch_size=batch_size,
        workers=0,
    )


def _values(result) -> dict:
    return {(r.subset, r.metric): (r.value, r.n) for r in result.rows.itertuples()}


def _same(a: dict, b: dict) -> None:
    assert a.keys() == b.keys()
    for k in a:
        (va, na), (vb, nb) = a[k], b[k]
        assert na == nb, k
        assert (math.isnan(va) and math.isnan(vb)) or abs(va - vb) <= 1e-12, k


def _kill_and_resume(bench: str, tmp_path: Path, fail_after: int, **options) -> None:
    plugin.reset()
    whole = _values(_run(bench, tmp_path / "whole", **options))
    total_calls = sum(plugin.STATE["calls"].values())
    assert len(set(plugin.STATE["asked"])) == total_calls  # nothing asked twice in one run

    plugin.reset(fail_after=fail_after)
    with pytest.raises(runner.RunError, match="injected judge failure"):
        _run(bench, tmp_path / "killed", **options)
    asked_before = list(plugin.STATE["asked"])
    assert 0 < len(asked_before) == fail_after < total_calls
    plugin.STATE["fail_after"] = None
    resumed = _run(bench, tmp_path / "killed", **options)
    asked = plugin.STATE["asked"]
    assert len(asked) == len(set(asked)) == total_calls  # no question asked twice, none skipped
    _same(_values(resumed), whole)
    return resumed


def test_kill_and_resume_full_benchmark(tmp_path: Path, records_file: Path) -> None:
    resumed = _kill_and_resume(
        "detailmaster", tmp_path, fail_after=40, data=str(records_file), allow_unpinned=True
    )
    rows = resumed.rows
    assert set(rows["subset"]) == {"all", "prompt_truncated", "prompt_within_limit"}
    assert not rows["comparable"].any()  # a plug-in judge is not the official one
    # The runner's numbers are evaluate()'s on the kept images (official image_info layout).
    run_dir = resumed.run_dir
    info = json.loads((run_dir / "images" / "image_info.json").read_text())
    images: dict = {}
    for e in info:
        with Image.open(run_dir / "images" / e["output_image_name"]) as im:
            images.setdefault(e["image_id"], []).append(im.convert("RGB"))
    pure = evaluate(json.loads(records_file.read_text()), images, ScriptedJudge(seed=5))
    got = rows[rows["subset"] == "all"].set_index("metric")["value"]
    for key, value in pure.items():
        assert got[row_metric(key)] == pytest.approx(value, abs=1e-12, nan_ok=True)
    units = resumed.samples[resumed.samples["row"] == "unit"]
    assert (units["prompt_tokens_seen"] <= 77).all() and units["prompt_truncated"].any()


@needs_mini
def test_kill_and_resume_mini(tmp_path: Path) -> None:
    resumed = _kill_and_resume(
        "detailmaster-mini", tmp_path, fail_after=57, data=str(MINI_FILE), limit=10
    )
    assert "character_attributes_object_detect" in set(resumed.rows["metric"])


def test_full_benchmark_needs_allow_unpinned(tmp_path: Path, records_file: Path) -> None:
    with pytest.raises(ValueError, match="allow_unpinned"):
        _run("detailmaster", tmp_path, data=str(records_file))


def test_empty_dimension_is_n_zero_nan(tmp_path: Path, records_file: Path) -> None:
    result = _run("detailmaster", tmp_path, data=str(records_file), allow_unpinned=True)
    style = result.rows[
        (result.rows["metric"] == "scene_attributes_style") & (result.rows["subset"] == "all")
    ]
    assert int(style["n"].iloc[0]) == 0 and math.isnan(float(style["value"].iloc[0]))


def _samples_folder(tmp_path: Path, records: list[dict], skip: int | None = None) -> Path:
    folder = tmp_path / "samples"
    folder.mkdir()
    info = []
    for i, r in enumerate(records):
        if i == skip:
            continue
        key = f"{r['dataset_target']}_{r['image_id']}"
        for k in range(1 + (i % 3 == 0)):  # every third prompt has two images (pooled)
            name = f"img_{i}_{k}.png"
            Image.new("RGB", (50 + 3 * i, 40 + k), (20 * i % 255, 90, 30 * k)).save(folder / name)
            info.append({"image_id": key, "output_image_name": name})
    (folder / "image_info.json").write_text(json.dumps(info))
    return folder


def test_samples_folder_pools_images_and_names_missing(tmp_path: Path, records_file: Path) -> None:
    records = json.loads(records_file.read_text())
    folder = _samples_folder(tmp_path, records, skip=4)
    opts = {
        "judge": "scripted",
        "data": str(records_file),
        "allow_unpinned": True,
        "samples": str(folder),
    }
    with pytest.raises(ValueError, match="docci_4.jpg"):
        runner.run("detailmaster", "samples:test", options=opts, out_dir=tmp_path / "o")
    result = runner.run(
        "detailmaster",
        "samples:test",
        options={**opts, "allow_missing": True},
        out_dir=tmp_path / "o",
        workers=0,
    )
    assert not result.rows["comparable"].any()
    assert json.loads(result.rows["options"].iloc[0])["dropped_prompts"] == 1
    images: dict = {}
    for e in json.loads((folder / "image_info.json").read_text()):
        images.setdefault(e["image_id"], []).append(Image.open(folder / e["output_image_name"]))
    pure = evaluate(records, images, ScriptedJudge(), allow_missing=True)
    got = result.rows[result.rows["subset"] == "all"].set_index("metric")["value"]
    for key, value in pure.items():
        assert got[row_metric(key)] == pytest.approx(value, abs=1e-12, nan_ok=True)


def test_official_judges_missing_give_one_message(
    tmp_path: Path, records_file: Path, empty_store
) -> None:
    from evalkit.store import MissingAssetError

    plugin.register()
    with pytest.raises(MissingAssetError) as err:
        runner.run(
            "detailmaster",
            "dm-toy",
            options={"data": str(records_file), "allow_unpinned": True},
            out_dir=tmp_path,
        )
    text = str(err.value)
    for name in (
        "Qwen/Qwen2.5-VL-7B-Instruct",
        "model-00005-of-00005.safetensors",
        "yoloe-11l-seg.pt",
        "mobileclip_blt.ts",
        "evalkit fetch detailmaster --model dm-toy --store <store>",
    ):
        assert name in text


@needs_mini
def test_mini_records_are_the_official_ones() -> None:
    assert len(mini_records()) == 800


def test_missing_data_and_judges_in_one_message(tmp_path: Path, empty_store) -> None:
    from evalkit.store import MissingAssetError

    plugin.register()
    with pytest.raises(MissingAssetError) as err:
        runner.run("detailmaster-mini", "dm-toy", out_dir=tmp_path)
    text = str(err.value)
    for name in (
        "DetailMaster_mini_benchmark.json",
        "aa4064d4a8ce92ebf60370447c2d60f53a5262ea",
        "Qwen/Qwen2.5-VL-7B-Instruct",
        "yoloe-11l-seg.pt",
    ):
        assert name in text


@needs_mini
def test_generator_makes_one_image_per_record_as_the_official_script() -> None:
    """The official generation script writes one image per record and the evaluation judges each
    record on every image of its key: the mini set's 94 keys shared by 224 records make 1,162
    record-image judgements from 800 images (670 keys)."""
    from evalkit.benchmarks.detailmaster.benchmark import DetailMaster

    bench = DetailMaster("detailmaster-mini", data=str(MINI_FILE), judge="scripted")
    samples = [bench.samples[i] for i in range(len(bench.sample_ids()))]
    assert len(samples) == 800 and len({s.key for s in samples}) == 670
    assert len(set(bench.sample_ids())) == 800
    assert sum(len(bench.by_key[s.key]) for s in samples) == 1162
    seeds = {bench.load(i)["condition"].seed for i in range(len(samples))}
    assert len(seeds) == 800  # every record's image has its own seed


@needs_mini
def test_generated_images_are_judged_for_every_record_of_their_key(tmp_path: Path) -> None:
    from evalkit.benchmarks.detailmaster import judgements

    plugin.register()
    result = runner.run(
        "detailmaster-mini",
        "dm-toy",
        options={"judge": JUDGE, "data": str(MINI_FILE), "limit": 20},
        out_dir=tmp_path,
        batch_size=4,
        workers=0,
    )
    keys = list(dict.fromkeys(f"{r['dataset_target']}_{r['image_id']}" for r in mini_records()))
    records = [r for r in mini_records() if f"{r['dataset_target']}_{r['image_id']}" in keys[:20]]
    shared = {
        k: sum(f"{r['dataset_target']}_{r['image_id']}" == k for r in records) for k in keys[:20]
    }
    assert max(shared.values()) == 3 and len(records) == 26  # 20 keys, 5 shared
    info = json.loads((result.run_dir / "images" / "image_info.json").read_text())
    assert len(info) == len(records)  # one image per record
    images: dict = {}
    for e in info:
        with Image.open(result.run_dir / "images" / e["output_image_name"]) as im:
            images.setdefault(e["image_id"], []).append(im.convert("RGB"))
    found = judgements(records, images, ScriptedJudge(seed=5), mini=True)
    assert len(found) == sum(m * m for m in shared.values()) == 40
    pure = evaluate(records, images, ScriptedJudge(seed=5), mini=True)
    got = result.rows[result.rows["subset"] == "all"].set_index("metric")
    for key, value in pure.items():
        assert got["value"][row_metric(key)] == pytest.approx(value, abs=1e-12, nan_ok=True)
