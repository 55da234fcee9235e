"""``-O seeding=official --seed 7`` against GenEval's own generation loop, not against our adapter.

The reference re-runs the RNG use of djghosh13/geneval@af4902f ``generation/diffusers_generate.py``
(the commit in benchmarks/geneval/card.toml): L115-L116 ``for index, metadata in
enumerate(metadatas): seed_everything(opt.seed)`` (pytorch_lightning: seeds ``random``, numpy and
torch), then L134-L144 one pipeline call per sample (``--batch_size`` default 1, L88):
``model(prompt, height=opt.H, width=opt.W, num_inference_steps=opt.steps,
guidance_scale=opt.scale, num_images_per_prompt=1, negative_prompt=None)`` with no generator, so
diffusers draws each image's initial latents from the global torch RNG, which advances over the
prompt's 4 images and is reset at the next prompt. The same tiny random-weight pipeline (same
seed, same weights) runs on both sides; ours through ``evalkit run geneval``.

Before: the adapter re-seeded with a hard-wired 42 and recorded gen_seed 42 whatever --seed said.
"""

from __future__ import annotations

import json
import random
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import torch
from PIL import Image
from typer.testing import CliRunner

pytest.importorskip("diffusers", reason="diffusers (evalkit[t2i]) is not installed")
pytest.importorskip("transformers", reason="transformers (evalkit[t2i]) is not installed")

from evalkit import catalog  # noqa: E402
from evalkit.cards import card_file  # noqa: E402
from evalkit.cli import app  # noqa: E402
from evalkit.models import t2i  # noqa: E402
from tests.generators.tiny_pipeline import tiny_sd_pipeline  # noqa: E402
from tests.support import SHARED_OFFLINE  # noqa: E402

MODEL = "test-tiny-sd-official"
SETTINGS = {"steps": 2, "guidance": 9.0, "size": 16}  # the script's --scale default is 9.0
_VOCAB: list[Path] = []  # where the tiny pipeline's tokenizer files go (set by the fixture)


def build(model_id: str) -> t2i.T2IGenerator:
    return t2i.build("sd15", pipeline=tiny_sd_pipeline(_VOCAB[0], seed=0), **SETTINGS)


def card(model_id: str) -> Any:
    return replace(t2i.card("sd15"), id=model_id, weights=())  # random weights: nothing to load


def official_images(prompts: list[str], seed: int, folder: Path, n_samples: int = 4) -> list:
    """GenEval's loop (diffusers_generate.py L115-L146), batch 1, as uint8 HWC images."""
    folder.mkdir(exist_ok=True)
    pipe = tiny_sd_pipeline(folder, seed=0)
    pipe.set_progress_bar_config(disable=True)
    out = []
    for prompt in prompts:
        random.seed(seed)  # seed_everything(opt.seed), L116
        np.random.seed(seed)
        torch.manual_seed(seed)
        for _ in range(n_samples):  # L134: (n_samples + batch_size - 1) // batch_size calls
            with torch.no_grad():
                image = pipe(
                    prompt,
                    height=SETTINGS["size"],
                    width=SETTINGS["size"],
                    num_inference_steps=SETTINGS["steps"],
                    guidance_scale=SETTINGS["guidance"],
                    num_images_per_prompt=1,
                    negative_prompt=None,
                    output_type="pt",
                ).images[0]
            out.append(image.mul(255).round().to(torch.uint8).permute(1, 2, 0).numpy())
    return out


@pytest.mark.skipif(
    not (SHARED_OFFLINE / "weights" / "yolox-nano").is_dir(),
    reason="the offline store with yolox-nano is absent (set EVALKIT_TEST_STORE)",
)
def test_official_seeding_follows_the_scripts_sequence_with_the_run_seed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _VOCAB[:] = [tmp_path / "vocab"]
    _VOCAB[0].mkdir()
    if MODEL not in catalog.models:
        catalog.models.register(MODEL, f"{__name__}:build", card=f"{__name__}:card")
    monkeypatch.chdir(tmp_path)
    first_two = card_file("geneval", "evaluation_metadata.jsonl").read_text().splitlines()[:2]
    Path("prompts.jsonl").write_text("\n".join(first_two) + "\n")  # the official first 2
    args = ["run", "geneval", "--model", MODEL, "-O", "seeding=official", "--seed", "7"]
    args += ["-O", "prompts=prompts.jsonl", "-O", "detector=yolox-nano", "-O", "colour=pixels"]
    result = CliRunner().invoke(app, [*args, "--batch-size", "1", "--workers", "0", "--json"])
    assert result.exit_code == 0, result.output
    (run,) = Path("evalkit-results", "geneval", MODEL).iterdir()
    records = pd.read_parquet(run / "samples.parquet")
    assert set(records["gen_seed"]) == {7} and set(records["gen_seeding"]) == {"official"}
    prompts = [
        json.loads((run / f"{p:05d}" / "metadata.jsonl").read_text())["prompt"] for p in (0, 1)
    ]
    reference = official_images(prompts, 7, tmp_path / "ref-vocab")

    def ours(p: int, k: int) -> np.ndarray:
        return np.asarray(Image.open(run / f"{p:05d}" / "samples" / f"{k:05d}.png").convert("RGB"))

    assert np.array_equal(ours(0, 2), reference[2]), "3rd image of a prompt"
    assert np.array_equal(ours(0, 3), reference[3]), "4th image of a prompt"
    assert np.array_equal(ours(1, 0), reference[4]), "reset at the next prompt"
    assert not np.array_equal(reference[2], reference[3])  # the RNG advanced between them
    # without the reset, prompt 1's first image would take the 5th draw after the seed
    assert not np.array_equal(ours(1, 0), official_images(prompts[1:], 7, tmp_path / "r2", 5)[4])
