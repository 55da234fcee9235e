"""`evalkit fetch` on a connected machine, then `evalkit run --store` on one without network."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from evalkit import lockfile
from evalkit.cli import app


def test_fetch_then_run_offline_from_the_store(tokbench_hub, tmp_path, monkeypatch):
    store = tmp_path / "store"
    got = CliRunner().invoke(
        app, ["fetch", "tokbench", "--model", "sd-ft-mse-vae", "--store", str(store)]
    )
    assert got.exit_code == 0, got.output
    out = got.stdout
    lock = lockfile.read(store / "evalkit.lock.json")
    vae = tokbench_hub.repos[("model", "stabilityai/sd-vae-ft-mse")]
    weights = lock["files"][
        f"hub:model:stabilityai/sd-vae-ft-mse@{vae.commit}/diffusion_pytorch_model.safetensors"
    ]
    assert weights["sha256"] in out and "first use, verified against the Hub" in out
    assert lock["revisions"]["hub:model:stabilityai/sd-vae-ft-mse@main"]["commit"] == vae.commit
    for line in ("weights/sd-ft-mse-vae/config.json", "datasets/tokbench/images.zip", "cc-by-4.0"):
        assert line in out
    assert (store / "datasets/tokbench/images/face_data/astronaut.png").is_file()  # unpacked

    tokbench_hub.stop()  # the compute node: no Hub, a fresh cache, network off
    monkeypatch.setenv("EVALKIT_CACHE_DIR", str(tmp_path / "node-cache"))
    monkeypatch.setenv("EVALKIT_OFFLINE", "1")
    args = ["run", "tokbench", "--model", "sd-ft-mse-vae", "--store", str(store)]
    run = CliRunner().invoke(
        app, [*args, "--out", str(tmp_path / "o"), "--no-leaderboard", "--json"]
    )
    assert run.exit_code == 0, run.output
    rows = json.loads(run.stdout[run.stdout.index("[") :])
    files = {f["name"]: f for f in json.loads(rows[0]["provenance"])}
    assert files["diffusion_pytorch_model.safetensors"]["sha256"] == weights["sha256"]
    assert files["diffusion_pytorch_model.safetensors"]["verified"] == weights["verified"]
    assert (
        files["images.zip"]["commit"] == tokbench_hub.repos[("dataset", "Junfeng5/TokBench")].commit
    )


def test_dry_run_lists_files_and_size_and_downloads_nothing(tokbench_hub, tmp_path):
    store = tmp_path / "store"
    got = CliRunner().invoke(
        app, ["fetch", "tokbench", "--model", "sd-ft-mse-vae", "--store", str(store), "--dry-run"]
    )
    assert got.exit_code == 0, got.output
    assert tokbench_hub.downloads() == []
    assert not store.exists()
    assert not lockfile.cache_lock_path().exists()  # a dry run locks nothing either
    sizes = [s.size for r in tokbench_hub.repos.values() for s in r.files.values()]
    sizes += [s.size for s in tokbench_hub.pub.values()]
    assert f"{len(sizes)} files, " in got.stdout
    for name in ("images.zip", "diffusion_pytorch_model.safetensors", "antelopev2.zip"):
        assert name in got.stdout
