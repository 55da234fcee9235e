"""``evalkit fid --features dinov2-vit-l-14 --sfid --cmmd`` end to end, weights from the store.

No real DINOv2 or CLIP weights exist offline, so the store holds seeded random weights of the
real architectures (fewer blocks, to keep the suite fast) in the files and places the loaders
read; every number is then checked against the same networks called directly.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch


def _app():  # noqa: ANN202
    import typer

    from evalkit.fid.command import fid

    app = typer.Typer()
    app.command("fid")(fid)
    app.command("noop")(lambda: None)
    return app


@pytest.mark.slow  # 40-115 s on 2 shared cores: three networks, three passes, three runs
def test_fd_dinov2_sfid_cmmd_from_the_command_line(random_store: Path, make_photos) -> None:
    from typer.testing import CliRunner

    from evalkit.fid.cmmd import ClipEmbeddings, mmd
    from evalkit.fid.dinov2 import Dinov2Features
    from evalkit.fid.random_weights import clip_state, dinov2_state
    from evalkit.fid.stats import FeatureStats, fid_from_stats

    real_images, jpeg, write_folder = make_photos
    photos = real_images(3, 64, seed=5)
    a = write_folder(photos, random_store.parent / "a")
    b = write_folder(jpeg(photos, 10), random_store.parent / "b")
    args = ["fid", str(a), str(b), "--features", "dinov2-vit-l-14", "--sfid", "--cmmd"]
    args += ["--weights", "fid-helper", "--min-samples", "ignore", "--json"]
    out = CliRunner().invoke(_app(), args)
    assert out.exit_code == 0, out.output
    got = json.loads(out.stdout[out.stdout.index("{") :])
    assert got["features"] == "dinov2-vit-l-14" and got["weights"].startswith("timm/vit_large")
    assert set(got["extra_weights"]) == {"sfid", "cmmd"} and got["cache_a"] == "miss"

    u8 = [torch.from_numpy(np.stack(x)).permute(0, 3, 1, 2) for x in (photos, jpeg(photos, 10))]
    dino = Dinov2Features(state=dinov2_state(0, 2))
    fa, fb = (FeatureStats(1024).update(dino(x).pool) for x in u8)
    assert got["fid"] == pytest.approx(fid_from_stats(fa, fb), rel=1e-6)
    clip = ClipEmbeddings(state=clip_state(0, 2))
    assert got["cmmd"] == pytest.approx(mmd(clip(u8[0]).pool, clip(u8[1]).pool), rel=1e-5)
    assert got["sfid"] > 0

    rerun = CliRunner().invoke(_app(), args).stdout
    again = json.loads(rerun[rerun.index("{") :])
    assert (again["cache_a"], again["cache_b"]) == ("hit", "hit")
    assert again["fid"] == got["fid"] and again["cmmd"] == got["cmmd"]

    text = CliRunner().invoke(_app(), args[:-1] + ["--no-cache"])
    assert "FD-DINOv2" in text.stdout and "CMMD" in text.stdout and "sFID" in text.stdout


def test_statistics_only_input_is_refused_for_other_spaces(random_store: Path, tmp_path) -> None:
    from typer.testing import CliRunner

    a = tmp_path / "ref.npz"
    np.savez(a, mu=np.zeros(2048), sigma=np.eye(2048))
    out = CliRunner().invoke(_app(), ["fid", str(a), str(a), "--features", "dinov2-vit-l-14"])
    assert out.exit_code == 2 and "statistics only" in out.output
    out = CliRunner().invoke(_app(), ["fid", str(a), str(a), "--sfid"])
    assert out.exit_code == 2 and "sFID needs images" in out.output
