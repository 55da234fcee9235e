"""VISOR's OWL-ViT step, run by the OFFICIAL notebook's code with the transformers of its time.

    PYTHONPATH=<site with transformers==4.28.1 tokenizers==0.13.3 huggingface_hub==0.14.1> \\
    python scripts/record_official_fixtures.py visor_owlvit --official <microsoft/VISOR checkout>

The cells of ``text2image_realtime_evaluate.ipynb`` (microsoft/VISOR) run verbatim: the imports
and ``OwlViTProcessor/OwlViTForObjectDetection.from_pretrained("google/owlvit-base-patch32")``
(answered offline from a Hugging Face cache holding a seeded random checkpoint with the real
repository's config, processor and tokenizer files), the helpers, ``process_detection`` and
``get_visor``, the image-loading cell and the detection loop (``display`` is a no-op; the loop's
``processor.post_process`` outputs are recorded as they pass). Cells left out: ``!pip``, the
prompt file (absent: SR2D prompts come from evalkit's regeneration) and the random prompt choice.
Images: VISOR's own CogView2 / DALLE-mini samples and scikit-image photos (non-square), 4 per
prompt as the notebook loads them. Outputs: tests/fixtures/visor_owlvit_official.json (+ .npz).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

from official_fixtures.common import git_head, versions, write_fixture

NAME = "visor_owlvit_official"
HUB_ID = "google/owlvit-base-patch32"
TRANSFORMERS = "4.28.1"  # the notebook's first commit is 2023-04-24; 4.28.1 was current then
# the Hub repo's config.json / preprocessor_config.json / tokenizer files (google/owlvit-base-
# patch32 main, as mirrored by Thomasboosinger/owlvit-base-patch32 and Xenova's export): every
# architecture field is OwlViTConfig's default; these are the non-default ones
CONFIG = {
    "architectures": ["OwlViTForObjectDetection"],
    "initializer_factor": 1.0,
    "logit_scale_init_value": 2.6592,
    "model_type": "owlvit",
    "projection_dim": 512,
    "text_config": {
        "bos_token_id": 0,
        "eos_token_id": 2,
        "pad_token_id": 1,
        "max_length": 16,
        "model_type": "owlvit_text_model",
    },
    "vision_config": {"model_type": "owlvit_vision_model"},
}
PREPROCESSOR = {
    "crop_size": 768,
    "do_center_crop": False,
    "do_convert_rgb": True,
    "do_normalize": True,
    "do_resize": True,
    "feature_extractor_type": "OwlViTFeatureExtractor",
    "image_mean": [0.48145466, 0.4578275, 0.40821073],
    "image_std": [0.26862954, 0.26130258, 0.27577711],
    "processor_class": "OwlViTProcessor",
    "resample": 3,
    "size": [768, 768],
}
TOKENIZER = {
    "add_prefix_space": False,
    "bos_token": "<|startoftext|>",
    "do_lower_case": True,
    "eos_token": "<|endoftext|>",
    "errors": "replace",
    "model_max_length": 16,
    "pad_token": "!",
    "processor_class": "OwlViTProcessor",
    "tokenizer_class": "CLIPTokenizer",
    "unk_token": "<|endoftext|>",
}
SPECIAL_TOKENS = {
    "bos_token": "<|startoftext|>",
    "eos_token": "<|endoftext|>",
    "pad_token": "!",
    "unk_token": "<|endoftext|>",
}
# (group, SR2D unique_id, images): VISOR's samples (<unique_id>_<k>.png) or scikit-image photos
GROUPS: list[tuple[str, int, list[str]]] = [
    ("cogview2", 10321, []),
    ("cogview2", 12812, []),
    ("dallemini", 13352, []),
    ("dallemini", 19100, []),
    ("skimage", 0, ["coffee", "chelsea", "rocket", "stereo_motorcycle"]),
    ("skimage", 7, ["astronaut", "hubble_deep_field", "immunohistochemistry", "colorwheel"]),
]


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--official", type=Path, required=True, help="microsoft/VISOR checkout")
    p.add_argument("--images", type=Path, required=True, help="folder with cogview2/, dallemini/")
    p.add_argument("--commit", help="commit of the checkout when it is not a git folder")
    p.add_argument("--seed", type=int, default=0, help="seed of the random OWL-ViT")


def record(a: argparse.Namespace) -> Path:
    return record_owlvit(a.official, a.images, a.commit or git_head(a.official), a.seed)


EMBEDDINGS = ("token_embedding.weight", "position_embedding.weight", "class_embedding")


def owlvit_recipes(shapes: dict[str, list[int]]) -> dict[str, dict[str, Any]]:
    """Per-tensor N(mean, std): CLIP-like towers; heads set so that a few boxes per query score
    above VISOR's 0.1 and boxes stay near their patch (non-degenerate verdicts)."""
    out: dict[str, dict[str, Any]] = {}
    for name, shape in shapes.items():
        fan_in = int(np.prod(shape[1:])) if len(shape) > 1 else max(1, int(np.prod(shape)))
        mean, std = 0.0, fan_in**-0.5
        if name == "owlvit.logit_scale":
            mean, std = 2.6592, 0.0
        elif name.endswith(EMBEDDINGS):
            std = 0.02
        elif "norm" in name:
            mean, std = (1.0, 0.05) if name.endswith(".weight") else (0.0, 0.02)
        elif name.endswith("out_proj.weight") or name.endswith("fc2.weight"):
            std = fan_in**-0.5 / np.sqrt(24)
        elif name == "class_head.logit_shift.weight":
            std = 0.008
        elif name == "class_head.logit_shift.bias":
            mean, std = -1.65, 0.0
        elif name == "class_head.logit_scale.weight":
            std = 0.01
        elif name == "class_head.logit_scale.bias":
            mean, std = 0.5, 0.0
        elif name == "box_head.dense2.weight":
            std = 0.01
        elif name.endswith(".bias"):
            std = 0.02
        out[name] = {"shape": [int(s) for s in shape], "mean": float(mean), "std": float(std)}
    return out


def hub_files() -> dict[str, dict[str, Any]]:
    return {
        "config.json": CONFIG,
        "preprocessor_config.json": PREPROCESSOR,
        "tokenizer_config.json": TOKENIZER,
        "special_tokens_map.json": SPECIAL_TOKENS,
    }


def _cells(official: Path) -> list[str]:
    nb = json.loads((official / "text2image_realtime_evaluate.ipynb").read_text())
    return ["".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "code"]


def _cell(cells: list[str], marker: str) -> str:
    (found,) = [c for c in cells if marker in c]
    return found


def record_owlvit(official: Path, images: Path, commit: str, seed: int) -> Path:
    from PIL import Image
    from skimage import data

    from evalkit.benchmarks.spatial.prompts import sr2d
    from evalkit.judges.random_weights import digest, seeded_state_dict, write_hub_folder

    work = Path(tempfile.mkdtemp(prefix="visor-owlvit-"))
    os.environ.update(
        HF_HOME=str(work / "hf"),
        HF_HUB_OFFLINE="1",
        TRANSFORMERS_OFFLINE="1",
        TOKENIZERS_PARALLELISM="false",
    )
    import torch
    import transformers
    from transformers import OwlViTConfig, OwlViTForObjectDetection

    found = versions("transformers", "tokenizers", "huggingface_hub", "torch", "pillow", "numpy")
    if transformers.__version__ != TRANSFORMERS:
        raise SystemExit(
            f"transformers {transformers.__version__} found; record with {TRANSFORMERS}"
        )
    with torch.device("meta"):
        model = OwlViTForObjectDetection(OwlViTConfig(**CONFIG))
    shapes = {k: list(v.shape) for k, v in model.state_dict().items() if "position_ids" not in k}
    recipes = owlvit_recipes(shapes)
    state = seeded_state_dict(recipes, seed)
    weights_digest = digest(state)
    revision = "0" * 40
    repo = work / "hf" / "hub" / f"models--{HUB_ID.replace('/', '--')}"
    write_hub_folder(repo / "snapshots" / revision, hub_files(), state)
    (repo / "refs").mkdir(parents=True)
    (repo / "refs" / "main").write_text(revision)
    del state

    cells = _cells(official)
    ns: dict[str, Any] = {"display": lambda *a, **k: None}
    exec(_cell(cells, "OwlViTForObjectDetection.from_pretrained"), ns)  # imports + model load
    if digest(ns["model"].state_dict(), list(recipes)) != weights_digest:
        raise SystemExit("the official loader did not load the seeded weights")
    for marker in ("def image_grid", "def process_detection", "def get_visor"):
        exec(_cell(cells, marker), ns)
    load_cell, loop_cell = (
        _cell(cells, "all_images = {}"),
        _cell(cells, "# process object detection"),
    )
    passed: list[dict[str, Any]] = []
    post_process = ns["processor"].post_process

    def recording(*args: Any, **kwargs: Any) -> Any:
        outs = post_process(*args, **kwargs)
        passed.append({k: v.detach().cpu().numpy() for k, v in outs[0].items()})
        return outs

    ns["processor"].post_process = recording
    prompts = {p.unique_id: p for p in sr2d()}
    photos = work / "photos"
    groups, arrays = [], {}
    for group, uid, names in GROUPS:
        folder = images
        if names:  # scikit-image photos under the notebook's file names
            folder = photos
            (photos / group).mkdir(parents=True, exist_ok=True)
            for k, n in enumerate(names):
                arr = getattr(data, n)()
                arr = arr[0] if isinstance(arr, tuple) else arr
                Image.fromarray(np.ascontiguousarray(arr)).save(photos / group / f"{uid}_{k}.png")
        p = prompts[uid]
        ns.update(
            MODELS=[group],
            URL_PREFIX=f"{folder}/",
            uniq_id=uid,
            obj1=p.obj1,
            obj2=p.obj2,
            rel=p.relation,
        )
        exec(load_cell, ns)
        passed.clear()
        exec(loop_cell, ns)
        sizes = [im.size for im in ns["all_images"][group]]
        results = ns["results"]
        for k in range(4):
            out = passed[k]
            arrays[f"{group}/{uid}_{k}/scores"] = out["scores"].astype(np.float32)
            arrays[f"{group}/{uid}_{k}/labels"] = out["labels"].astype(np.int16)
            arrays[f"{group}/{uid}_{k}/boxes"] = out["boxes"].astype(np.float32)
        groups.append(
            {
                "group": group,
                "unique_id": uid,
                "obj1": p.obj1,
                "obj2": p.obj2,
                "relation": p.relation,
                "images": [
                    {
                        "file": f"{group}/{uid}_{k}.png",
                        "source": f"skimage.data.{names[k]}" if names else f"images/{group}",
                        "width": sizes[k][0],
                        "height": sizes[k][1],
                        "official": {
                            key: results[f"{uid}_{k}"][key] for key in ("classes", "recall", "sra")
                        },
                        "above_threshold": int((passed[k]["scores"] > 0.1).sum()),
                    }
                    for k in range(4)
                ],
                "visor": dict(
                    zip(
                        ("visor_uncond", "visor_cond", "visor_per_text", "objacc"),
                        ns["get_visor"](results, p.obj1, p.obj2, p.relation, uid),
                    )
                ),
            }
        )
        print(
            group,
            uid,
            [i["official"]["recall"] for i in groups[-1]["images"]],
            [i["official"]["sra"] for i in groups[-1]["images"]],
            [i["above_threshold"] for i in groups[-1]["images"]],
            file=sys.stderr,
        )
    doc = {
        "_about": (
            "Raw post-processed outputs (all 576 boxes: scores, labels, boxes in image pixels; "
            "in the .npz) and per-image VISOR verdicts of the OFFICIAL notebook "
            "text2image_realtime_evaluate.ipynb (its cells run verbatim) with transformers "
            f"{TRANSFORMERS} (PIL resize), CPU float32, a seeded random OWL-ViT B/32 built from "
            "google/owlvit-base-patch32's config (files as recorded here; vocab from open_clip's "
            "CLIP BPE list), weights evalkit.judges.random_weights.seeded_state_dict(recipes, seed)"
            ". Recorded by scripts/record_official_fixtures.py visor_owlvit; not written by hand."
        ),
        "source_repo": "https://github.com/microsoft/VISOR",
        "source_commit": commit,
        "command": (
            "PYTHONPATH=<site: transformers==4.28.1 tokenizers==0.13.3 huggingface_hub==0.14.1> "
            "python scripts/record_official_fixtures.py visor_owlvit --official <checkout> "
            "--images <store>/images/visor"
        ),
        "versions": found,
        "seed": seed,
        "digest": weights_digest,
        "hub_files": hub_files(),
        "groups": groups,
        "recipes": recipes,
    }
    return write_fixture(NAME, doc, arrays)
