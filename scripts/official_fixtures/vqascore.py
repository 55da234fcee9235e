"""VQAScore, Qwen2.5-VL variant: t2v-metrics 3.0's ``Qwen2VLModel.forward`` on scikit-image
photos and prompts, with a seeded random Qwen2.5-VL checkpoint of the real architecture (tiny).

Two steps, two environments:

    # 1. evalkit's environment: the random checkpoint folder (transformers 5)
    python scripts/record_official_fixtures.py vqascore --make-checkpoint DIR
    # 2. the official runtime: t2v-metrics 3.0 with its pinned transformers 4.49.0
    PYTHONPATH=<site with t2v-metrics 3.0, transformers 4.49.0, qwen-vl-utils>:. \\
        python scripts/record_official_fixtures.py vqascore --checkpoint DIR

Step 2 installs nothing in evalkit's environment: ``pip install --target SITE --no-deps
t2v-metrics==3.0 transformers==4.49.0 tokenizers==0.21.0 huggingface_hub==0.29.3 qwen-vl-utils
accelerate==1.4.0``, on the shared torch (t2v-metrics pins torch 2.5.1; not installed here: disk
and time). Bypassed, outside the scored path: the package ``__init__`` files (they import every
other score's dependencies), ``decord`` (video only; a stand-in module) and, in the model table,
bf16 + flash-attention-2 (float32 + sdpa on CPU) and the Hub paths (the checkpoint folder).
The tokenizer is the checkpoint's small word-level one (Qwen's cannot be had offline), so token
ids differ from Qwen's; the chat template is the tiny one of :mod:`evalkit.judges.qwen_random`.
"""

from __future__ import annotations

import argparse
import importlib
import json
import sys
import tempfile
import types
from pathlib import Path

from official_fixtures.common import FIXTURES, versions

NAME = "vqascore_qwen_official_random"
SEED = 11
PHOTOS = ("astronaut", "chelsea", "coffee", "rocket")
PROMPTS = (
    "an astronaut in a white suit",
    "a ginger cat looking at the camera",
    "a cup of coffee on a saucer",
    "a rocket on a launch pad",
)
#: Qwen2.5-VL-7B-Instruct's generation_config.json sampling and penalty fields (greedy decoding
#: in t2v-metrics applies only the repetition penalty)
GENERATION = {"do_sample": True, "repetition_penalty": 1.05, "temperature": 0.1, "top_k": 1,
              "top_p": 0.001}  # fmt: skip


def make_checkpoint(folder: Path) -> Path:
    """The tiny random Qwen2.5-VL checkpoint folder (evalkit's environment, transformers 5)."""
    from evalkit.scores.vqascore_random import make_checkpoint as make

    return make(folder, PROMPTS, SEED, GENERATION)


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--make-checkpoint", type=Path, help="write the random checkpoint here, stop")
    p.add_argument("--checkpoint", type=Path, help="the folder step 1 wrote")
    p.add_argument("--out", type=Path, default=FIXTURES, help="folder for the fixture file")


def record(a: argparse.Namespace) -> Path:
    if a.make_checkpoint:
        return make_checkpoint(a.make_checkpoint)
    if not a.checkpoint:
        sys.exit("pass --make-checkpoint DIR (evalkit's env) or --checkpoint DIR (official env)")
    return record_vqascore(a.checkpoint, a.out)


def bypass_package_inits() -> None:
    """t2v-metrics' packages as bare namespaces: their ``__init__`` files import every other
    score's dependencies."""
    spec = importlib.util.find_spec("t2v_metrics")
    if spec is None or not spec.submodule_search_locations:
        sys.exit("t2v-metrics is not importable: put its --target folder first on PYTHONPATH")
    root = Path(list(spec.submodule_search_locations)[0])
    for name, folder in (
        ("t2v_metrics", root),
        ("t2v_metrics.models", root / "models"),
        ("t2v_metrics.models.vqascore_models", root / "models" / "vqascore_models"),
    ):
        pkg = types.ModuleType(name)
        pkg.__path__ = [str(folder)]
        sys.modules[name] = pkg


def _official_model_module() -> types.ModuleType:
    bypass_package_inits()
    import transformers  # noqa: F401 - before the stand-in: it must see no decord

    decord = types.ModuleType("decord")  # video only
    decord.VideoReader, decord.cpu = None, None
    sys.modules["decord"] = decord
    return importlib.import_module("t2v_metrics.models.vqascore_models.qwen2vl_model")


def forward_on_photos(model: object) -> dict[str, list[float]]:
    """The official ``forward(paths, texts)`` per photo (saved as PNG, as users pass paths),
    all prompts in one batch."""
    from PIL import Image
    from skimage import data

    probs: dict[str, list[float]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for name in PHOTOS:
            path = Path(tmp) / f"{name}.png"
            Image.fromarray(getattr(data, name)()).save(path)
            scores = model.forward([str(path)] * len(PROMPTS), list(PROMPTS))  # type: ignore[attr-defined]
            probs[name] = [float(v) for v in scores]
    return probs


def flat_config(folder: Path, to: Path) -> Path:
    """The checkpoint folder with config.json in the layout transformers 4.49 reads (and
    Qwen2.5-VL-7B-Instruct's own config.json has): text fields at the top, ``rope_scaling``."""
    import shutil

    shutil.copytree(folder, to)
    config = json.loads((folder / "config.json").read_text())
    text = config.pop("text_config")
    rope = text.pop("rope_parameters")
    text["rope_theta"] = rope["rope_theta"]
    text["rope_scaling"] = {"type": "mrope", "mrope_section": rope["mrope_section"]}
    for key in ("model_type", "layer_types", "dtype"):
        text.pop(key, None)
    config["vision_config"].pop("rope_parameters", None)
    flat = {**text, **config, "torch_dtype": "float32"}
    (to / "config.json").write_text(json.dumps(flat, indent=1))
    return to


def record_vqascore(checkpoint: Path, out: Path) -> Path:
    import torch
    from PIL import Image
    from skimage import data

    from evalkit.scores.vqascore_random import LOGIT_GAIN, weights_sha256

    official = _official_model_module()
    original = checkpoint
    checkpoint = flat_config(checkpoint, Path(tempfile.mkdtemp()) / "checkpoint")
    entry = official.QWEN2_VL_MODELS["qwen2.5-vl-7b"]
    entry["tokenizer"]["path"] = str(checkpoint)
    entry["model"].update(torch_dtype=torch.float32, attn_implementation="sdpa")
    model = official.Qwen2VLModel("qwen2.5-vl-7b", device="cpu", checkpoint=str(checkpoint))
    probs = forward_on_photos(model)
    # the same forward without the checkpoint's repetition penalty: shows it matters
    model.model.generation_config.repetition_penalty = 1.0
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "astronaut.png"
        Image.fromarray(data.astronaut()).save(path)
        no_penalty = [float(v) for v in model.forward([str(path)] * len(PROMPTS), list(PROMPTS))]
    doc = {
        "_about": {
            "what": "t2v-metrics 3.0 Qwen2VLModel('qwen2.5-vl-7b').forward(paths, texts): "
            "P('Yes') per (photo, prompt), default question template, random tiny checkpoint",
            "official": "PyPI t2v-metrics==3.0 (linzhiqiu/t2v_metrics), transformers 4.49.0 "
            "(its pin), qwen-vl-utils; torch not its pinned 2.5.1",
            "checkpoint": "evalkit.scores.vqascore_random.make_checkpoint(prompts, seed, "
            "generation_config): the tiny random Qwen2.5-VL, LM head x logit_gain",
            "weights_sha256": weights_sha256(original),
            "logit_gain": LOGIT_GAIN,
            "command": "python scripts/record_official_fixtures.py vqascore --make-checkpoint D;"
            " PYTHONPATH=SITE:. python scripts/record_official_fixtures.py vqascore "
            "--checkpoint D",
            "versions": versions(
                "t2v-metrics", "transformers", "qwen-vl-utils", "torch", "pillow", "scikit-image"
            ),
        },
        "seed": SEED,
        "generation_config": GENERATION,
        "photos": list(PHOTOS),
        "prompts": list(PROMPTS),
        "p_yes": probs,
        "p_yes_astronaut_without_penalty": no_penalty,
    }
    out.mkdir(parents=True, exist_ok=True)
    (out / f"{NAME}.json").write_text(json.dumps(doc, indent=1) + "\n")
    return out / f"{NAME}.json"
