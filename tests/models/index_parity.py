"""The output comparison shared by the index tokenizers' parity tests (var-vqvae, unitok,
open-magvit2-256): a fixture's photos through ``encode`` give the official tokens exactly, and
the decode of those tokens the official unclamped decode to a stated tolerance."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import torch


def fixture_images(arrays: Any, variant: str) -> torch.Tensor:
    """The recorded uint8 photos as float [0, 1] NCHW, what ``encode`` takes."""
    return torch.from_numpy(np.asarray(arrays[f"{variant}.images"])).permute(0, 3, 1, 2) / 255.0


def check_index_outputs(
    tok: Any, arrays: Any, variant: str, atol: float, as_ids: Callable | None = None
) -> dict[str, float]:
    """Asserts the parity of ``tok`` (an IndexTokenizer) with the recorded official outputs;
    returns the measured figures. ``as_ids`` maps the recorded tokens to ``token_ids``' layout
    (default: flattened)."""
    codes = tok.encode(fixture_images(arrays, variant))
    tokens = tok.token_ids(codes)
    recorded = torch.from_numpy(np.asarray(arrays[f"{variant}.tokens"]))
    expected = as_ids(recorded) if as_ids else recorded.flatten(1)
    assert tokens is not None and tokens.shape == expected.shape
    agreement = float((tokens == expected).float().mean())
    assert agreement == 1.0, f"token agreement {agreement:.4f}"
    decoded = torch.from_numpy(np.asarray(arrays[f"{variant}.decoded"]))
    with torch.no_grad():
        raw = tok.net.decode_indices(codes.indices)
    raw_diff = float((raw - decoded).abs().max())
    assert raw_diff < atol
    # what users get: the official clamp, mapped to [0, 1]
    image_diff = float((tok.decode(codes) - (decoded.clamp(-1, 1) + 1) / 2).abs().max())
    assert image_diff < atol / 2
    return {"token_agreement": agreement, "decoded_max_abs": raw_diff, "image_max_abs": image_diff}


def run_recon(model_id: str, checkpoint: Any, out_dir: Any) -> Any:
    """``recon`` on two photos with ``--model-option weights_path=<checkpoint>``, the runner's
    path for an explicit file; returns the result's rows indexed by metric."""
    import evalkit

    result = evalkit.run(
        "recon",
        model_id,
        options={"limit": 2},
        model_options={"weights_path": str(checkpoint)},
        workers=0,
        device="cpu",
        out_dir=out_dir,
    )
    return result.rows.set_index("metric")


def cli_recon_values(model: str, out_dir: Any, *model_options: str) -> dict[str, float]:
    """``evalkit run recon --model <model>`` at 32 px on two images, as users type it, with
    ``--model-option`` each of ``model_options``; returns each metric's value."""
    import json

    from typer.testing import CliRunner

    from evalkit.cli import app

    args = ["run", "recon", "--model", model, "--resolution", "32", "--limit", "2"]
    for opt in model_options:
        args += ["--model-option", opt]
    args += ["--workers", "0", "--out", str(out_dir), "--no-leaderboard", "--json"]
    res = CliRunner().invoke(app, args)
    assert res.exit_code == 0, res.output
    chunks = [c for c in res.output.split("\n]") if "[" in c]
    return {r["metric"]: r["value"] for c in chunks for r in json.loads(c + "\n]")}
