"""The connected user's first run, end to end through the CLI and huggingface_hub's real client,
against the local Hub and with no offline store: model, judges and data are downloaded, verified,
locked and recorded in the rows; a rerun asks the network nothing."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from evalkit import lockfile
from evalkit.cli import app


def _run(out, *extra: str):
    args = ["run", "tokbench", "--model", "sd-ft-mse-vae", "--out", str(out), "--no-leaderboard"]
    return CliRunner().invoke(app, [*args, "--json", "--batch-size", "2", *extra])


def test_tokbench_downloads_verifies_runs_and_records(tokbench_hub, tmp_path):
    result = _run(tmp_path / "out")
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout[result.stdout.index("[") :])
    assert {r["metric"] for r in rows} >= {"t_acc", "t_ned", "f_sim"}
    files = {f["name"]: f for f in json.loads(rows[0]["provenance"])}
    vae_commit = tokbench_hub.repos[("model", "stabilityai/sd-vae-ft-mse")].commit
    data_commit = tokbench_hub.repos[("dataset", "Junfeng5/TokBench")].commit
    weights = files["diffusion_pytorch_model.safetensors"]
    assert weights["commit"] == vae_commit
    assert weights["verified"] == (
        f"first use, verified against the Hub at commit {vae_commit} (LFS sha256)"
    )
    assert files["config.json"]["verified"].endswith("(git blob id)")
    assert files["images.zip"]["commit"] == data_commit
    assert files["annotations/face_meta.json"]["source"].startswith(
        "hub:dataset:Junfeng5/TokBench@"
    )
    parseq = next(f for n, f in files.items() if n.startswith("parseq-"))
    assert parseq["verified"].startswith("first use, sha256 prefix")
    assert files["antelopev2.zip"]["verified"] == "pinned by the card"
    assert rows[0]["dataset_revision"] == data_commit
    lock = lockfile.read(lockfile.cache_lock_path())
    assert {f["source"] for f in files.values()} <= set(lock["files"])
    for f in files.values():
        assert lock["files"][f["source"]]["sha256"] == f["sha256"]

    before = len(tokbench_hub.requests)
    again = _run(tmp_path / "out")
    assert again.exit_code == 0, again.output
    assert len(tokbench_hub.requests) == before  # a rerun downloads (and asks) nothing


def test_offline_without_the_files_names_them_and_asks_nothing(tokbench_hub, tmp_path, monkeypatch):
    monkeypatch.setenv("EVALKIT_OFFLINE", "1")
    result = _run(tmp_path / "out")
    assert result.exit_code != 0
    assert tokbench_hub.requests == []
    text = result.output
    for name in ("annotations/face_meta.json", "images.zip", "config.json"):
        assert name in text
    assert "evalkit fetch tokbench --model sd-ft-mse-vae --store <store>" in text
