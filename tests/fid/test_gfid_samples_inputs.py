"""`evalkit run imagenet-gfid --model samples:NAME -O samples=DIR`: the folder is content (a
rerun after its images change is a new run); a corrupt, empty or text image file and images of
different sizes in one batch are bad input (exit 2) naming the files and the way out."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image
from typer.testing import CliRunner

from evalkit.cli import app

cli = CliRunner()


def _reference(tmp_path: Path, make_photos, net) -> Path:  # type: ignore[no-untyped-def]
    from evalkit.fid.stats import FeatureStats

    real_images, _, _ = make_photos
    ref_imgs = real_images(8, 64, seed=5)
    st = FeatureStats().update(net(torch.from_numpy(ref_imgs).permute(0, 3, 1, 2)).pool)
    np.savez(tmp_path / "ref.npz", mu=st.mu(), sigma=st.sigma(), arr_0=ref_imgs)
    return tmp_path / "ref.npz"


def _folder(tmp_path: Path, real_images, n: int) -> Path:  # type: ignore[no-untyped-def]
    """``n`` real 64 px photos as uncompressed PNGs (their size depends on the pixels' count)."""
    folder = tmp_path / "samples"
    folder.mkdir()
    for i, im in enumerate(real_images(n, 64, seed=6)):
        Image.fromarray(im).save(folder / f"{i:03d}.png", compress_level=0)
    return folder


def _gfid(folder: Path, ref: Path, out: Path, *extra: str):  # type: ignore[no-untyped-def]
    return cli.invoke(
        app,
        [
            *["run", "imagenet-gfid", "--model", "samples:photos", "-O", f"samples={folder}"],
            *["-O", f"reference={ref}", "-O", "weights=fid-helper", "-O", "min_samples=ignore"],
            *["--out", str(out), "--no-leaderboard", "--workers", "0", "--json", *extra],
        ],
    )


def _rows(result) -> list[dict]:  # type: ignore[no-untyped-def]
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


@pytest.mark.slow  # two runs of Inception on CPU
def test_rerun_after_images_change_is_a_new_run(tmp_path: Path, make_photos, net) -> None:
    real_images, _, _ = make_photos
    ref, folder = _reference(tmp_path, make_photos, net), _folder(tmp_path, real_images, 6)
    first = _rows(_gfid(folder, ref, tmp_path / "out"))
    target, other = folder / "002.png", real_images(1, 64, seed=9)[0]
    before = target.stat()
    Image.fromarray(other).save(target, compress_level=0)
    os.utime(target, ns=(before.st_atime_ns, before.st_mtime_ns))
    assert target.stat().st_size == before.st_size
    second = _rows(_gfid(folder, ref, tmp_path / "out"))
    assert second[0]["run_id"] != first[0]["run_id"]
    assert second[0]["dataset_sha256"] != first[0]["dataset_sha256"]
    gfid = [next(r["value"] for r in rows if r["metric"] == "gfid") for rows in (first, second)]
    assert gfid[0] != gfid[1]


@pytest.mark.slow  # two runs of Inception on CPU
def test_images_of_different_sizes_name_the_files(tmp_path: Path, make_photos, net) -> None:
    real_images, _, _ = make_photos
    ref, folder = _reference(tmp_path, make_photos, net), _folder(tmp_path, real_images, 4)
    Image.fromarray(real_images(1, 80, seed=7)[0]).save(folder / "003.png")
    result = _gfid(folder, ref, tmp_path / "out", "--batch-size", "4")
    assert result.exit_code == 2, result.output
    errors = [ln for ln in result.stderr.splitlines() if ln.startswith("error")]
    assert len(errors) == 1, result.stderr
    assert "'sample-000000'" in errors[0] and "'sample-000003'" in errors[0]
    assert "64x64" in errors[0] and "80x80" in errors[0] and "--batch-size 1" in errors[0]
    rows = _rows(_gfid(folder, ref, tmp_path / "out", "--batch-size", "1"))
    assert next(r["n"] for r in rows if r["metric"] == "gfid") == 4


@pytest.mark.slow  # Inception on CPU
@pytest.mark.parametrize("kind", ["corrupt", "zero-byte", "text"])
def test_bad_image_file_is_bad_input(tmp_path: Path, make_photos, net, kind: str) -> None:
    real_images, _, _ = make_photos
    ref, folder = _reference(tmp_path, make_photos, net), _folder(tmp_path, real_images, 4)
    bad = folder / "003.png"
    bad.write_bytes({"corrupt": bad.read_bytes()[:80], "zero-byte": b"", "text": b"hi\n"}[kind])
    result = _gfid(folder, ref, tmp_path / "out", "--batch-size", "2")
    assert result.exit_code == 2, result.output
    errors = [ln for ln in result.stderr.splitlines() if ln.startswith("error")]
    assert len(errors) == 1 and str(bad) in errors[0] and "2 of 4 samples are done" in errors[0]
    assert errors[0].count("sample '") == 1, errors[0]  # the sample is named once


def test_a_batch_of_mixed_sizes_is_reported_not_raised_in_the_loader() -> None:
    """The runner's collate names every size's samples and files (the main process raises it as
    bad input, exit 2); the slow tests above run it through the command line."""
    from evalkit.runner import _collate

    items = [
        {"sample_id": "a", "input": torch.zeros(3, 8, 8), "path": "/x/a.png"},
        {"sample_id": "b", "input": torch.zeros(3, 8, 8)},
        {"sample_id": "c", "input": torch.zeros(3, 4, 6), "file": "c.png"},
    ]
    inputs, out = _collate(items)
    assert inputs is None and out[0]["input_error"] is True
    assert out[0]["load_error"] == (
        "images of one batch differ in size (8x8: 'a' (/x/a.png), 'b'; 4x6: 'c' (c.png)); images "
        "of different sizes cannot share a batch: rerun with --batch-size 1"
    )


def test_missing_samples_folder_is_bad_input(tmp_path: Path) -> None:
    ref = tmp_path / "ref.npz"
    ref.write_bytes(b"")  # only its existence is checked before the samples are read
    result = _gfid(tmp_path / "nowhere", ref, tmp_path / "out")
    assert result.exit_code == 2, result.output
    assert f"samples: {tmp_path / 'nowhere'} does not exist" in result.stderr
    assert not (tmp_path / "out").exists()
