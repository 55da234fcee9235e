"""One image lister, one decoder, one quantiser: every entry point sees the same files and bytes."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image

from evalkit import imagefiles


def _tree(root: Path) -> None:
    (root / "n01" / "deep").mkdir(parents=True)
    (root / ".hidden").mkdir()
    for rel in ("b.png", "a.JPG", "n01/c.webp", "n01/deep/d.bmp", ".hidden/e.png", ".f.png"):
        Image.new("RGB", (4, 4), (10, 20, 30)).save(root / rel)
    (root / "notes.txt").write_text("not an image")


def test_fid_and_benchmark_folders_list_the_same_files(tmp_path: Path) -> None:
    from evalkit.benchmarks.images import folder
    from evalkit.fid.api import resolve_side

    _tree(tmp_path)
    expected = ["a.JPG", "b.png", "n01/c.webp", "n01/deep/d.bmp"]
    listed = [p.relative_to(tmp_path).as_posix() for p in imagefiles.list_images(tmp_path)]
    assert listed == expected
    assert list(folder(tmp_path).ids) == expected
    side = resolve_side(tmp_path, "A")
    assert [p.relative_to(tmp_path).as_posix() for p in side.files] == expected


def test_one_quantiser_for_every_path() -> None:
    import torch

    from evalkit.benchmarks.images import to_uint8 as bench_q
    from evalkit.benchmarks.tokbench.protocol import to_uint8 as tokbench_q

    x = torch.rand(2, 3, 5, 7)
    x[0, 0, 0, 0], x[0, 0, 0, 1], x[1, 2, 4, 6] = 0.5 / 255, 1.5 / 255, 1.0  # ties round to even
    ref = np.moveaxis(np.clip(np.round(x.numpy() * 255), 0, 255).astype(np.uint8), 1, -1)
    assert np.array_equal(imagefiles.to_uint8(x), ref)
    assert bench_q is imagefiles.to_uint8
    assert np.array_equal(tokbench_q(x[1]), ref[1])
