"""GenEval's CLIP colour step, run by the OFFICIAL code on real photos with seeded random weights.

    PYTHONPATH=<site with open_clip_torch==2.20.0 and clip-benchmark==1.4.0> \\
    python scripts/record_official_fixtures.py geneval_colour --official <geneval checkout>

The official ``evaluation/evaluate_images.py`` (djghosh13/geneval) is imported from the checkout
(mmdet stubbed: the colour step never calls it; its CUDA assert passed at import, then DEVICE set
to "cpu") and driven through its own ``evaluate_image``: a stand-in ``inference_detector`` returns
the boxes and masks defined here (real objects of scikit-image photos, in mmdet's per-class
format), so thresholds, ordering, ``ImageCrops`` (mask on #999, PIL crop), clip_benchmark's
``zero_shot_classifier`` / ``run_classification`` and the verdict are the official code's. CLIP is
built by open_clip's own ``create_model_and_transforms("ViT-L-14", pretrained="openai")`` with
its download replaced by a seeded random checkpoint in OpenAI's state-dict format (recipe in
the fixture; evalkit.judges.random_weights regenerates it). Outputs: tests/fixtures/
geneval_colour_official.json (+ .npz with the masks and logits).
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.util
import math
import sys
import tempfile
import types
from pathlib import Path
from typing import Any

import numpy as np

from official_fixtures.common import git_head, versions, write_fixture

ARCH = "ViT-L-14"
NAME = "geneval_colour_official"
OPEN_CLIP = "2.20.0"  # GenEval's environment.yml
CLIP_BENCHMARK = "1.4.0"  # GenEval's environment.yml

# Real objects of scikit-image photos: (class, score, polygon mask or None, box). Boxes are the
# polygon's extent with fractional ends (PIL's crop rounds them; .5 ends round half to even).
CASES: list[dict[str, Any]] = [
    {
        "id": "coffee-cup",
        "photo": "coffee",
        "tag": "colors",
        "objects": [
            (
                "cup",
                0.95,
                [
                    (176, 62),
                    (200, 25),
                    (290, 14),
                    (382, 24),
                    (406, 70),
                    (398, 190),
                    (360, 240),
                    (290, 256),
                    (252, 250),
                    (226, 292),
                    (196, 290),
                    (200, 232),
                    (182, 190),
                ],
                [175.6, 13.5, 406.4, 292.5],
            ),
            ("cup", 0.2, None, [150.0, 0.0, 420.0, 300.0]),  # below the 0.3 threshold: dropped
            (
                "spoon",
                0.8,
                [
                    (322, 248),
                    (378, 196),
                    (404, 66),
                    (424, 72),
                    (396, 214),
                    (404, 290),
                    (366, 326),
                    (330, 312),
                ],
                [321.5, 65.5, 424.5, 326.5],
            ),
        ],
        "ask": [("cup", "same")],
    },
    {
        "id": "coffee-cup-spoon",
        "photo": "coffee",
        "tag": "color_attr",
        "objects": "coffee-cup",
        "ask": [("cup", "other"), ("spoon", "same")],
    },
    {
        "id": "chelsea-cat-mask",
        "photo": "chelsea",
        "tag": "colors",
        "objects": [
            (
                "cat",
                0.9,
                [
                    (10, 40),
                    (90, 0),
                    (360, 0),
                    (440, 60),
                    (430, 230),
                    (300, 300),
                    (120, 300),
                    (0, 220),
                ],
                [0.4, 0.0, 440.6, 300.0],
            ),
        ],
        "ask": [("cat", "same")],
    },
    {
        "id": "chelsea-cat-box",
        "photo": "chelsea",
        "tag": "colors",
        "masks": False,  # a detector without masks: the official crops the photo itself
        "objects": [("cat", 0.9, None, [40.5, 20.5, 410.5, 280.5])],
        "ask": [("cat", "other")],
    },
    {
        "id": "motorcycle-bench",
        "photo": "stereo_motorcycle",
        "tag": "color_attr",
        "objects": [
            (
                "motorcycle",
                0.97,
                [
                    (94, 200),
                    (150, 160),
                    (350, 166),
                    (470, 168),
                    (520, 98),
                    (572, 118),
                    (560, 200),
                    (640, 290),
                    (686, 380),
                    (650, 452),
                    (560, 440),
                    (490, 372),
                    (350, 382),
                    (250, 402),
                    (150, 382),
                    (118, 320),
                    (100, 232),
                ],
                [93.7, 97.6, 686.2, 452.4],
            ),
            (
                "bench",
                0.6,
                [(55, 110), (280, 106), (282, 190), (150, 196), (100, 230), (62, 300), (50, 300)],
                [49.5, 105.5, 282.5, 300.5],
            ),
        ],
        "ask": [("motorcycle", "same"), ("bench", "same")],
    },
    {
        "id": "astronaut-person",
        "photo": "astronaut",
        "tag": "colors",
        "objects": [
            (
                "person",
                0.99,
                [
                    (150, 40),
                    (200, 14),
                    (300, 40),
                    (300, 150),
                    (362, 270),
                    (372, 511),
                    (20, 511),
                    (30, 300),
                    (110, 220),
                    (150, 150),
                ],
                [-2.3, 13.5, 372.5, 512.0],
            ),  # a box leaving the photo: PIL pads black
        ],
        "ask": [("person", "other")],
    },
]


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--official", type=Path, required=True, help="djghosh13/geneval checkout")
    p.add_argument("--commit", help="commit of the checkout when it is not a git folder")
    p.add_argument("--seed", type=int, default=0, help="seed of the random ViT-L-14")


def record(a: argparse.Namespace) -> Path:
    return record_colour(a.official, a.commit or git_head(a.official), a.seed)


def clip_recipes(shapes: dict[str, list[int]]) -> dict[str, dict[str, Any]]:
    """Per-tensor N(mean, std) like open_clip's own initialisation, with non-trivial norms."""
    out: dict[str, dict[str, Any]] = {}
    for name, shape in shapes.items():
        width = 1024 if name.startswith("visual.") else 768
        layers = 24 if name.startswith("visual.") else 12
        proj_std = width**-0.5 * (2 * layers) ** -0.5
        mean, std = 0.0, width**-0.5
        if name == "logit_scale":
            mean, std = math.log(1 / 0.07), 0.0
        elif name == "token_embedding.weight":
            std = 0.02
        elif name == "positional_embedding":
            std = 0.01
        elif name == "visual.conv1.weight":
            std = (3 * 14 * 14) ** -0.5
        elif ".ln_" in name or name.startswith("ln_final") or name.startswith("visual.ln_"):
            mean, std = (1.0, 0.05) if name.endswith(".weight") else (0.0, 0.02)
        elif name.endswith("_bias") or name.endswith(".bias"):
            std = 0.02
        elif name.endswith("out_proj.weight") or name.endswith("c_proj.weight"):
            std = proj_std
        elif name.endswith("c_fc.weight"):
            std = (2 * width) ** -0.5
        out[name] = {"shape": list(shape), "mean": mean, "std": std}
    return out


def _photo(name: str) -> np.ndarray:
    from skimage import data

    image = getattr(data, name)()
    return np.ascontiguousarray(image[0] if isinstance(image, tuple) else image)


def _mask(polygon: list[tuple[int, int]], shape: tuple[int, int]) -> np.ndarray:
    from skimage.draw import polygon as fill

    mask = np.zeros(shape, bool)
    rr, cc = fill([y for _, y in polygon], [x for x, _ in polygon], shape)
    mask[rr, cc] = True
    return mask


def _objects(case: dict[str, Any]) -> list[tuple]:
    objs = case["objects"]
    if isinstance(objs, str):
        objs = next(c for c in CASES if c["id"] == objs)["objects"]
    return objs


def _load_official(official: Path) -> types.ModuleType:
    """evaluate_images.py as a module: mmdet stubbed, its CUDA assert passed, then CPU."""
    import torch

    apis = types.ModuleType("mmdet.apis")
    apis.inference_detector = apis.init_detector = None  # type: ignore[attr-defined]
    mmdet = types.ModuleType("mmdet")
    mmdet.apis = apis  # type: ignore[attr-defined]
    mmdet.__file__ = str(official / "mmdet_stub.py")
    sys.modules.update({"mmdet": mmdet, "mmdet.apis": apis})
    path = official / "evaluation" / "evaluate_images.py"
    spec = importlib.util.spec_from_file_location("geneval_evaluate_images", path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    real = torch.cuda.is_available
    torch.cuda.is_available = lambda: True  # type: ignore[assignment]
    try:
        spec.loader.exec_module(module)
    finally:
        torch.cuda.is_available = real  # type: ignore[assignment]
    module.DEVICE = "cpu"
    return module


def prepare_official(
    ev: types.ModuleType, official: Path, clip_model: Any, transform: Any, tokenizer: Any
) -> list[np.ndarray]:
    """Set evaluate_images.py's globals as its main() would (GenEval's default options) and
    record clip_benchmark's run_classification logits: the returned list fills, call by call."""
    classnames = (official / "evaluation" / "object_names.txt").read_text().split("\n")
    ev.args, ev.object_detector = argparse.Namespace(options={}), None
    ev.clip_model, ev.transform, ev.tokenizer = clip_model, transform, tokenizer
    ev.classnames = [c.strip() for c in classnames if c.strip()]
    ev.THRESHOLD, ev.COUNTING_THRESHOLD, ev.MAX_OBJECTS = 0.3, 0.9, 16
    ev.NMS_THRESHOLD, ev.POSITION_THRESHOLD = 1.0, 0.1
    calls: list[np.ndarray] = []
    run = ev.zsc.run_classification

    def recording(*args: Any, **kwargs: Any) -> Any:
        pred, true = run(*args, **kwargs)
        calls.append(pred.numpy().astype(np.float32))
        return pred, true

    ev.zsc.run_classification = recording
    return calls


def _official_clip(checkpoint: Path) -> tuple[Any, Any, Any]:
    """open_clip's own pretrained="openai" path, its download answered by ``checkpoint``."""
    import open_clip
    from open_clip import openai

    real = openai.download_pretrained_from_url
    openai.download_pretrained_from_url = lambda url, cache_dir=None: str(checkpoint)
    try:
        model, _, transform = open_clip.create_model_and_transforms(
            ARCH, pretrained="openai", device="cpu"
        )
    finally:
        openai.download_pretrained_from_url = real
    return model, transform, open_clip.get_tokenizer(ARCH)


def record_colour(official: Path, commit: str, seed: int) -> Path:
    import open_clip
    import torch
    from PIL import Image

    from evalkit.judges.random_weights import digest, seeded_state_dict, to_torch

    found = versions("open_clip_torch", "clip-benchmark", "torch", "torchvision", "pillow", "numpy")
    for pkg, want in (("open_clip_torch", OPEN_CLIP), ("clip-benchmark", CLIP_BENCHMARK)):
        if found[pkg] != want:
            raise SystemExit(f"{pkg} {found[pkg]} found; GenEval pins {want}")
    with torch.device("meta"):
        shapes = {
            k: list(v.shape)
            for k, v in open_clip.create_model(ARCH, force_quick_gelu=True, device="meta")
            .state_dict()
            .items()
        }
    recipes = clip_recipes(shapes)
    state = seeded_state_dict(recipes, seed, fp16=True)
    weights_digest = digest(state)
    ev = _load_official(official)
    with tempfile.TemporaryDirectory() as tmp:
        checkpoint = Path(tmp) / f"{ARCH}.pt"
        torch.save(to_torch(state), checkpoint)
        del state
        clip_model, transform, tokenizer = _official_clip(checkpoint)
    loaded = digest(clip_model.state_dict(), list(recipes))
    if loaded != weights_digest:
        raise SystemExit("the official loader changed the weights (not float16-exact?)")
    calls = prepare_official(ev, official, clip_model, transform, tokenizer)
    cases, arrays = [], {}
    with tempfile.TemporaryDirectory() as tmp, contextlib.redirect_stderr(sys.stdout):
        for case in CASES:
            photo = _photo(case["photo"])
            h, w = photo.shape[:2]
            path = Path(tmp) / f"{case['id']}.png"
            Image.fromarray(photo).save(path)
            with_masks = case.get("masks", True)
            boxes = [np.zeros((0, 5), np.float32) for _ in ev.classnames]
            segms: list[list[np.ndarray]] = [[] for _ in ev.classnames]
            objects = []
            for k, (cls, score, polygon, box) in enumerate(_objects(case)):
                c = ev.classnames.index(cls)
                row = np.array([*box, score], np.float32)[None]
                boxes[c] = np.concatenate([boxes[c], row])
                mask = _mask(polygon, (h, w)) if polygon else np.zeros((h, w), bool)
                segms[c].append(mask)
                if with_masks:
                    arrays[f"{case['id']}/mask{k}"] = np.packbits(mask, axis=None)
                objects.append({"class": cls, "box": row[0].tolist(), "mask": with_masks})
            result = (boxes, segms) if with_masks else boxes
            ev.inference_detector = lambda _model, _path, result=result: result
            # the colours asked: the official's own decision ("same": a correct verdict) or the
            # next colour ("other": a wrong one), found with the official colour function
            image = Image.open(path)
            include = []
            for cls, how in case["ask"]:
                c = ev.classnames.index(cls)
                top = int(np.argmax(boxes[c][:, 4]))
                top_object = [(boxes[c][top], segms[c][top] if with_masks else None)]
                named = ev.color_classification(image, top_object, cls)[0]
                want = named if how == "same" else ev.COLORS[(ev.COLORS.index(named) + 1) % 10]
                include.append({"class": cls, "count": 1, "color": want})
            calls.clear()
            metadata = {"tag": case["tag"], "include": include, "prompt": case["id"]}
            out = ev.evaluate_image(str(path), metadata)
            logits = np.concatenate(calls) if calls else np.zeros((0, 10), np.float32)
            arrays[f"{case['id']}/logits"] = logits
            cases.append(
                {
                    "id": case["id"],
                    "photo": f"skimage.data.{case['photo']}",
                    "height": h,
                    "width": w,
                    "metadata": metadata,
                    "objects": objects,
                    "official": {
                        "correct": bool(out["correct"]),
                        "reason": out["reason"],
                        "colours": [ev.COLORS[i] for i in logits.argmax(1)],
                        "top2_margin": float(np.min(np.diff(np.sort(logits, 1)[:, -2:], axis=1)))
                        if len(logits)
                        else None,
                    },
                }
            )
            print(case["id"], cases[-1]["official"], file=sys.stderr)
    doc = {
        "_about": (
            "Decisions, logits and verdicts of GenEval's OFFICIAL colour step "
            "(evaluation/evaluate_images.py: evaluate_image -> evaluate -> color_classification "
            "with clip_benchmark's zero_shot_classifier / run_classification) on real objects of "
            "scikit-image photos, CPU float32, with a seeded random open_clip ViT-L-14 (QuickGELU, "
            "OpenAI state-dict format, loaded by open_clip's pretrained='openai' path). The "
            "detector is a stand-in returning the objects listed here; masks and per-call logits "
            "(rows in crop order) are in the .npz. Weights: evalkit.judges.random_weights."
            "seeded_state_dict(recipes, seed, fp16=True); digest = random_weights.digest. Recorded "
            "by scripts/record_official_fixtures.py geneval_colour; not written by hand."
        ),
        "source_repo": "https://github.com/djghosh13/geneval",
        "source_commit": commit,
        "command": (
            "PYTHONPATH=<site: open_clip_torch==2.20.0 clip-benchmark==1.4.0> python "
            "scripts/record_official_fixtures.py geneval_colour --official <checkout>"
        ),
        "versions": found,
        "architecture": ARCH,
        "seed": seed,
        "fp16_exact": True,
        "digest": weights_digest,
        "cases": cases,
        "recipes": recipes,
    }
    return write_fixture(NAME, doc, arrays)
