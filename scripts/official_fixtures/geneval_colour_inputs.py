"""The inputs and the classifier arithmetic of GenEval's colour step, cheaply (no ViT-L-14).

    PYTHONPATH=<site with open_clip_torch==2.20.0 clip-benchmark==1.4.0 Pillow==9.4.0> \\
    python scripts/record_official_fixtures.py geneval_colour_inputs --official <geneval checkout>

The official ``evaluation/evaluate_images.py`` is driven through its own ``evaluate_image`` on the
cases of tests/fixtures/geneval_colour_official.{json,npz} (same photos, boxes, masks and
metadata; a stand-in detector returns them). Its ``transform`` is open_clip's ViT-L-14 eval
transform, ``create_model_and_transforms("ViT-L-14")`` built on the meta device (the transform
does not depend on the weights; the official ``pretrained="openai"`` sets OpenAI's mean/std,
which are open_clip's defaults; the slow test ties our meta-built transform to our real loading
path). Its ``clip_model`` is a SMALL open_clip CLIP (TINY_CONFIG, image size 224, QuickGELU)
with seeded random weights, so that clip_benchmark's
``zero_shot_classifier`` / ``run_classification`` run in seconds. Recorded per crop, in asking
order: the official ``ImageCrops`` crop (mask on #999, PIL crop) as uint8 sha256 and shape; the
tensor that reached ``encode_image`` through the official DataLoader (float32 sha256, sum, sum
of squares, sampled values); and the logits (.npz). Output:
tests/fixtures/geneval_colour_inputs_official.{json,npz}.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import json
import re
import sys
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

from official_fixtures.common import FIXTURES, git_head, versions, write_fixture
from official_fixtures.geneval_colour import (
    ARCH,
    CLIP_BENCHMARK,
    OPEN_CLIP,
    _load_official,
    clip_recipes,
    prepare_official,
)

NAME = "geneval_colour_inputs_official"
PILLOW = "9.4.0"  # GenEval's environment.yml
TINY = "evalkit-tiny-clip"
TINY_CONFIG: dict[str, Any] = {
    "embed_dim": 32,
    "quick_gelu": True,
    "vision_cfg": {"image_size": 224, "layers": 2, "width": 64, "head_width": 32, "patch_size": 32},
    "text_cfg": {"context_length": 77, "vocab_size": 49408, "width": 64, "heads": 2, "layers": 2},
}
SAMPLES = 16  # sampled values per tensor (flat indices from a seeded generator)


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--official", type=Path, required=True, help="djghosh13/geneval checkout")
    p.add_argument("--commit", help="commit of the checkout when it is not a git folder")
    p.add_argument("--seed", type=int, default=0, help="seed of the small CLIP's weights")


def tensor_summary(x: np.ndarray, seed: int = 0) -> dict[str, Any]:
    """What a test needs to check a float32 tensor bitwise (sha256) and to see how far it is."""
    x = np.ascontiguousarray(x, np.float32)
    flat = x.reshape(-1).astype(np.float64)
    idx = np.random.default_rng(seed).choice(flat.size, SAMPLES, replace=False)
    return {
        "shape": list(x.shape),
        "sha256": hashlib.sha256(x.tobytes()).hexdigest(),
        "sum": float(flat.sum()),
        "sum_sq": float((flat * flat).sum()),
        "sample_index": idx.tolist(),
        "sample_value": x.reshape(-1)[idx].tolist(),
    }


def photo(name: str) -> np.ndarray:
    from skimage import data

    image = getattr(data, name.removeprefix("skimage.data."))()
    return np.ascontiguousarray(image[0] if isinstance(image, tuple) else image)


def tiny_clip(seed: int) -> tuple[Any, dict[str, Any]]:
    """The small CLIP, built by open_clip itself from TINY_CONFIG, with seeded random weights."""
    import open_clip
    import torch
    from open_clip import factory

    from evalkit.judges.random_weights import seeded_state_dict, to_torch

    factory._MODEL_CONFIGS[TINY] = TINY_CONFIG
    model = open_clip.create_model(TINY, device="cpu")
    recipes = clip_recipes({k: list(v.shape) for k, v in model.state_dict().items()})
    model.load_state_dict(to_torch(seeded_state_dict(recipes, seed, fp16=True)))
    with torch.no_grad():
        model.eval()
    return model, recipes


def record(a: argparse.Namespace) -> Path:
    import open_clip
    import torch
    from PIL import Image

    from evalkit.judges.random_weights import digest

    found = versions("open_clip_torch", "clip-benchmark", "torch", "torchvision", "pillow", "numpy")
    pins = (("open_clip_torch", OPEN_CLIP), ("clip-benchmark", CLIP_BENCHMARK), ("pillow", PILLOW))
    for pkg, want in pins:
        if found[pkg] != want:
            raise SystemExit(f"{pkg} {found[pkg]} found; GenEval pins {want}")
    recorded = json.loads((FIXTURES / "geneval_colour_official.json").read_text())
    arrays_in = np.load(FIXTURES / "geneval_colour_official.npz")
    ev = _load_official(a.official)
    with torch.device("meta"):
        _, _, transform = open_clip.create_model_and_transforms(ARCH, device="meta")
    model, recipes = tiny_clip(a.seed)
    seen: list[np.ndarray] = []
    encode_image = model.encode_image

    def recording(images: Any, *args: Any, **kwargs: Any) -> Any:
        seen.append(images.detach().numpy().copy())  # the batch the official DataLoader made
        return encode_image(images, *args, **kwargs)

    model.encode_image = recording
    calls = prepare_official(ev, a.official, model, transform, open_clip.get_tokenizer(ARCH))

    crops: list[np.ndarray] = []
    classify = ev.color_classification

    def crop_recording(image: Any, bboxes: Any, classname: str) -> Any:
        ev.transform = lambda im: im  # the official ImageCrops, in this process, untransformed
        try:
            crops.extend(np.asarray(ev.ImageCrops(image, bboxes)[i][0]) for i in range(len(bboxes)))
        finally:
            ev.transform = transform
        return classify(image, bboxes, classname)

    ev.color_classification = crop_recording
    cases, arrays = [], {}
    with tempfile.TemporaryDirectory() as tmp, contextlib.redirect_stderr(sys.stdout):
        for case in recorded["cases"]:
            image = photo(case["photo"])
            h, w = image.shape[:2]
            path = Path(tmp) / f"{case['id']}.png"
            Image.fromarray(image).save(path)
            boxes = [np.zeros((0, 5), np.float32) for _ in ev.classnames]
            segms: list[list[np.ndarray]] = [[] for _ in ev.classnames]
            with_masks = all(o["mask"] for o in case["objects"])
            for k, obj in enumerate(case["objects"]):
                c = ev.classnames.index(obj["class"])
                boxes[c] = np.concatenate([boxes[c], np.array([obj["box"]], np.float32)])
                if with_masks:
                    bits = np.unpackbits(arrays_in[f"{case['id']}/mask{k}"])[: h * w]
                    segms[c].append(bits.reshape(h, w).astype(bool))
            result = (boxes, segms) if with_masks else boxes
            ev.inference_detector = lambda _model, _path, result=result: result
            seen.clear(), crops.clear(), calls.clear()
            out = ev.evaluate_image(str(path), case["metadata"])
            if out["correct"] is None:
                raise SystemExit(f"{case['id']}: the official gave no verdict")
            pixels = np.concatenate(seen) if seen else np.zeros((0, 3, 224, 224), np.float32)
            in_process = np.stack([transform(Image.fromarray(c)).numpy() for c in crops])
            if not np.array_equal(in_process, pixels):
                raise SystemExit(f"{case['id']}: the DataLoader's tensors differ from transform()")
            arrays[f"{case['id']}/logits"] = np.concatenate(calls)
            cases.append(
                {
                    "id": case["id"],
                    "crops": [
                        {
                            "shape": list(c.shape),
                            "sha256": hashlib.sha256(np.ascontiguousarray(c).tobytes()).hexdigest(),
                            "pixels": tensor_summary(p),
                        }
                        for c, p in zip(crops, pixels, strict=True)
                    ],
                    "official": {"correct": bool(out["correct"]), "reason": out["reason"]},
                }
            )
            print(case["id"], len(crops), out["reason"], file=sys.stderr)
    doc = {
        "_about": (
            "Inputs and zero-shot arithmetic of GenEval's OFFICIAL colour step (evaluation/"
            "evaluate_images.py evaluate_image -> color_classification: ImageCrops on #999, "
            "open_clip's ViT-L-14 eval transform, clip_benchmark zero_shot_classifier / "
            "run_classification through the official DataLoader), CPU float32, on the cases of "
            "geneval_colour_official.json. Per crop in asking order: the uint8 crop (sha256, "
            "shape) and the float32 tensor given to encode_image (sha256, sum, sum of squares, "
            "sampled values). The CLIP is a small open_clip model (tiny_config, QuickGELU) with "
            "weights evalkit.judges.random_weights.seeded_state_dict(recipes, seed, fp16=True); "
            "its logits per case are in the .npz. Recorded by scripts/record_official_fixtures.py "
            "geneval_colour_inputs; not written by hand."
        ),
        "source_repo": "https://github.com/djghosh13/geneval",
        "source_commit": a.commit or git_head(a.official),
        "command": (
            "PYTHONPATH=<site: open_clip_torch==2.20.0 clip-benchmark==1.4.0 Pillow==9.4.0> "
            "python scripts/record_official_fixtures.py geneval_colour_inputs --official <checkout>"
        ),
        "versions": found,
        "transform": {"architecture": ARCH, "repr": re.sub(r" at 0x\w+", "", repr(transform))},
        "tiny_name": TINY,
        "tiny_config": TINY_CONFIG,
        "seed": a.seed,
        "digest": digest(model.state_dict(), list(recipes)),
        "cases": cases,
        "recipes": recipes,
    }
    return write_fixture(NAME, doc, arrays)
