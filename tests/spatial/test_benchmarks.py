"""The spatial benchmarks through the runner: generators, samples folders, messages, overlays."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import evalkit
from evalkit.benchmarks.spatial import detectors, prompts
from evalkit.store import MissingAssetError
from tests.spatial import doubles


@pytest.fixture
def colour_detector(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every detector name builds the colour double; nothing needs weights."""
    doubles.register()
    monkeypatch.setattr(detectors, "check_available", lambda name, bench: None)
    monkeypatch.setattr(detectors, "build", lambda name, device="cpu": doubles.ColourDetector())


def _rows(result) -> dict[str, float]:  # type: ignore[no-untyped-def]
    return dict(zip(result.rows["metric"], result.rows["value"]))


def test_visor_generator_subset_known_answer(colour_detector: None, tmp_path: Path) -> None:
    res = evalkit.run(
        "visor",
        "test-painter",
        options={"prompts": 8, "detector": "yolox-nano"},
        out_dir=tmp_path,
        batch_size=5,
    )
    rows = _rows(res)
    # images 0 and 2 of each prompt are right, 1 and 3 wrong; both objects always found
    assert rows["oa"] == 100 and rows["visor_cond"] == 50 and rows["visor_uncond"] == 50
    assert (rows["visor_1"], rows["visor_2"], rows["visor_3"], rows["visor_4"]) == (100, 100, 0, 0)
    assert not res.rows["comparable"].any()
    ids = sorted(set(res.samples["unique_id"]))
    assert ids == prompts.stratified_subset(8, 0)
    kept = sorted(p.name for p in (res.run_dir / "images").glob("*.png"))
    assert kept == sorted(f"{u}_{k}.png" for u in ids for k in range(4))
    first = res.samples.iloc[0]
    assert first["visor_boxes1"] != "[]" and first["visor_relation_found"] != ""


def test_visor_batch_size_does_not_change_rows(colour_detector: None, tmp_path: Path) -> None:
    a = evalkit.run(
        "visor", "test-painter", options={"prompts": 4}, out_dir=tmp_path / "a", batch_size=1
    )
    b = evalkit.run(
        "visor", "test-painter", options={"prompts": 4}, out_dir=tmp_path / "b", batch_size=16
    )
    assert _rows(a) == _rows(b)


def _visor_folder(root: Path, uids: list[int], skip: tuple[int, int] | None = None) -> Path:
    sr2d = prompts.sr2d()
    root.mkdir()
    for u in uids:
        for k in range(4):
            if (u, k) == skip:
                continue
            Image.fromarray(doubles.paint(sr2d[u].relation, k == 0)).save(root / f"{u}_{k}.png")
    return root


def test_visor_samples_folder_allow_missing(colour_detector: None, tmp_path: Path) -> None:
    folder = _visor_folder(tmp_path / "imgs", [0, 2, 4])
    with pytest.raises(ValueError, match="prompt 1 .*allow_missing=true"):
        evalkit.run(
            "visor", "samples:painter", options={"samples": str(folder)}, out_dir=tmp_path / "o"
        )
    res = evalkit.run(
        "visor",
        "samples:painter",
        options={"samples": str(folder), "allow_missing": True, "overlays": True},
        out_dir=tmp_path / "o",
    )
    rows = _rows(res)
    assert rows["visor_cond"] == 25 and rows["visor_1"] == 100 and rows["visor_2"] == 0
    assert len(res.samples) == 12 and not res.rows["comparable"].any()
    assert len(list((res.run_dir / "overlays").glob("*.png"))) == 12


def test_visor_partly_present_prompt_is_an_error(colour_detector: None, tmp_path: Path) -> None:
    folder = _visor_folder(tmp_path / "imgs", [0, 2], skip=(2, 3))
    with pytest.raises(ValueError, match="2_3.png"):
        evalkit.run(
            "visor",
            "samples:painter",
            options={"samples": str(folder), "allow_missing": True},
            out_dir=tmp_path,
        )


def test_t2i_samples_folder_official_names(colour_detector: None, tmp_path: Path) -> None:
    rows = prompts.t2i_prompts()
    samples = tmp_path / "out" / "samples"
    samples.mkdir(parents=True)
    counter = 0
    for p, _o1, _o2, loc in rows[:3]:
        for k in range(2):
            image = doubles.paint(loc, k == 0)
            Image.fromarray(image).save(samples / f"{p}_{counter:06}.png")
            counter += 1
    res = evalkit.run(
        "t2i-compbench-spatial",
        "samples:painter",
        options={"samples": str(tmp_path / "out"), "allow_missing": True},
        out_dir=tmp_path / "o",
    )
    s = res.samples.set_index("sample_id")
    assert len(s) == 6
    right = s[s["image_index"] == 0]
    # both found at 0.9: 0.25 * 0.9 * 2 + position / 2, position 1 when placed right
    assert np.allclose(right["t2i_score"], 0.95)
    wrong = s.loc["a girl on the top of a frog_000003"]  # mirrored: position 0, cut to 0
    assert wrong["t2i_score"] == 0 and wrong["t2i_raw"] == pytest.approx(0.45)
    assert res.rows.loc[0, "metric"] == "t2i_spatial"


def test_geneval_position_generator_layout(colour_detector: None, tmp_path: Path) -> None:
    res = evalkit.run("geneval-position", "test-painter", out_dir=tmp_path, batch_size=50)
    assert _rows(res)["position"] == 0.5  # images 0 and 2 right, 1 and 3 mirrored
    first = prompts.geneval_position_prompts()[0]
    folder = res.run_dir / f"{first['index']:05d}"
    assert (folder / "metadata.jsonl").is_file() and (folder / "samples" / "00003.png").is_file()


def test_spatial_compare_labels_csv_report(colour_detector: None, tmp_path: Path) -> None:
    folder = tmp_path / "imgs"
    folder.mkdir()
    lines = ["file,obj1,relation,obj2"]
    for i, (rel, ok) in enumerate(
        [("to the left of", True), ("above", False), ("right of", True), ("on the bottom of", True)]
    ):
        Image.fromarray(doubles.paint(rel, ok)).save(folder / f"img{i}.png")
        lines.append(f"img{i}.png,cat,{rel},dog")
    (folder / "labels.csv").write_text("\n".join(lines) + "\n")
    res = evalkit.run(
        "spatial-compare",
        "samples:painter",
        options={"samples": str(folder)},
        out_dir=tmp_path / "o",
    )
    rows = _rows(res)
    assert rows["visor_correct"] == 0.75 and rows["geneval_position"] == 0.75
    assert rows["t2i_pass"] == 0.75 and rows["agree_visor_geneval"] == 1.0
    assert (res.run_dir / "agreement.svg").read_text().lstrip().startswith("<?xml")
    assert "| visor | geneval | 1.000 |" in (res.run_dir / "agreement.md").read_text()


def test_missing_official_detector_and_generator_weights_one_message(
    empty_store: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    doubles.register()
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))
    with pytest.raises(MissingAssetError) as err:
        evalkit.run("visor", "test-painter-noweights", options={"prompts": 200}, out_dir=tmp_path)
    text = str(err.value)
    assert "OWL-ViT" in text and "-O detector=yolox-nano" in text
    assert "unet.safetensors" in text  # the generator's missing weights in the same message


def test_unidet_and_mask2former_say_what_to_do(empty_store: Path) -> None:
    for bench, det in (("t2i-compbench-spatial", "unidet"), ("geneval-position", "mask2former")):
        with pytest.raises(MissingAssetError, match="detector=yolox-nano"):
            detectors.check_available(det, bench)


def test_unknown_options_and_detectors_are_refused() -> None:
    from evalkit.benchmarks.spatial.benchmark import build

    with pytest.raises(ValueError, match="unknown option"):
        build("visor", prompts=10, protocol="fixed")
    with pytest.raises(ValueError, match="unknown detector"):
        detectors.check_available("detr", "visor")


def test_nan_from_a_detector_names_the_image(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    class NanDetector(doubles.ColourDetector):
        def detect_queries(self, images, queries):  # type: ignore[no-untyped-def]
            return [{"cat": np.array([[0, 0, 1, 1, np.nan]])} for _ in images]

    doubles.register()
    monkeypatch.setattr(detectors, "check_available", lambda name, bench: None)
    monkeypatch.setattr(detectors, "build", lambda name, device="cpu": NanDetector())
    with pytest.raises(Exception, match="NaN/Inf"):
        evalkit.run("visor", "test-painter", options={"prompts": 1}, out_dir=tmp_path)


def test_reported_values_come_from_the_cards() -> None:
    from evalkit.benchmarks.base import MetricValue
    from evalkit.benchmarks.spatial.benchmark import build
    from evalkit.types import ModelCard

    def reported(bench, model: str, metric: str):  # type: ignore[no-untyped-def]
        return bench.reported_value(
            ModelCard(id=model, family="x"), MetricValue(metric, 0.0, 1, True)
        )

    visor = build("visor", prompts=4)
    assert reported(visor, "samples:cogview2", "oa") == 18.47
    assert reported(visor, "samples:dallemini", "visor_4") == 1.96
    assert reported(build("visor", prompts=4, visor_n="notebook"), "samples:cogview2", "oa") is None
    assert reported(build("geneval-position"), "sd15", "position") == 0.04
    assert reported(build("geneval-position"), "samples:x", "position") is None
