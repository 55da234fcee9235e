"""Mask2Former Swin-S (GenEval's detector): the official runtime's top-100 instances on
scikit-image photos, with a seeded random checkpoint of the exact architecture.

    PYTHONPATH=<site with mmdet + mmcv>:<their pure-Python deps>:. \\
        python scripts/record_official_fixtures.py mask2former [--seed 5] [--out DIR]

The official runtime is mmdet 2.x (GenEval's evaluate_images.py: ``init_detector`` with mmdet's
config mask2former_swin-s-p4-w7-224_lsj_8x2_50e_coco.py, then ``inference_detector`` on each
image file), installed in a throwaway environment, never in evalkit's: ``pip install --target SITE
--no-deps mmdet==2.27.0`` and mmcv 1.7.1 built without compiled ops from mmcv-full 1.7.1's sdist
(``MMCV_WITH_OPS=0 pip wheel --no-deps --no-build-isolation mmcv-full-1.7.1.tar.gz`` with
setuptools<70), plus addict, yapf 0.33, terminaltables and pycocotools. mmcv's compiled ops are
absent; a stand-in ``mmcv._ext`` lets ``mmcv.ops`` import and raises if any op is called (none
is on CPU: mmcv's multi-scale deformable attention falls back to its pure-PyTorch function).

The checkpoint is :func:`evalkit.judges.mask2former_random.random_state_dict` of the key/shape
list in tests/geneval/data/mask2former_mmdet2_keys.json (checked equal to this mmdet's model),
saved in mmdet's format and loaded by ``init_detector``; the test regenerates it from the seed.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import sys
import tempfile
import types
from pathlib import Path

from official_fixtures.common import FIXTURES, versions

ROOT = Path(__file__).resolve().parents[2]
KEYS = ROOT / "tests" / "geneval" / "data" / "mask2former_mmdet2_keys.json"
CONFIG = "mask2former/mask2former_swin-s-p4-w7-224_lsj_8x2_50e_coco.py"
NAME = "mask2former_mmdet_random"
#: full masks are kept for the 10 top-scoring instances and the top-scoring instance of each of
#: the 5 top-scoring classes (what GenEval's colour step reads for one-object clauses about
#: them); random masks are ragged (all 900 take 5 MB). Every instance keeps its label, box,
#: score and mask area.
MASKS_TOP = 10
CLASSES_TOP = 5


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--seed", type=int, default=5, help="seed of the random checkpoint")
    p.add_argument("--out", type=Path, default=FIXTURES, help="folder for the fixture files")
    p.add_argument("--config", type=Path, help="mmdet config (default: the one mmdet ships)")
    p.add_argument("--checkpoint-out", type=Path, help="also keep the checkpoint file here")
    p.add_argument("--all-masks", type=Path, help="also write every mask (npz, large) here")


def record(a: argparse.Namespace) -> Path:
    return record_mask2former(a.seed, a.out, a.config, a.checkpoint_out, a.all_masks)


#: photo name -> (skimage.data function, [row0, row1, col0, col1] crop or None): 2 square and 7
#: not (one taller than wide; two strips whose long side meets the 1333 bound, the default
#: suite's fast subset; hubble_deep_field is scaled down). The test rebuilds them from this.
PHOTO_SOURCES: dict[str, tuple[str, list[int] | None]] = {
    "astronaut": ("astronaut", None),  # 512 x 512
    "immunohistochemistry": ("immunohistochemistry", None),  # 512 x 512
    "coffee": ("coffee", None),  # 400 x 600
    "chelsea": ("chelsea", None),  # 300 x 451
    "rocket": ("rocket", None),  # 427 x 640
    "hubble_deep_field": ("hubble_deep_field", None),  # 872 x 1000
    "astronaut_portrait": ("astronaut", [0, 512, 100, 400]),  # 512 x 300
    "coffee_strip": ("coffee", [150, 210, 0, 600]),  # 60 x 600
    "astronaut_strip": ("astronaut", [0, 512, 200, 260]),  # 512 x 60
}


def photos() -> dict[str, object]:
    """The photos of PHOTO_SOURCES, uint8 RGB (H, W, 3)."""
    import numpy as np
    from skimage import data

    out = {}
    for name, (source, crop) in PHOTO_SOURCES.items():
        photo = getattr(data, source)()
        if crop is not None:
            photo = photo[crop[0] : crop[1], crop[2] : crop[3]]
        out[name] = np.ascontiguousarray(photo)
    return out


def rle(mask) -> object:
    """Row-major run lengths of a bool mask as uint8, starting with a run of False (possibly 0);
    a run over 255 is written 255, 0, rest (a zero-length run of the other value between)."""
    import numpy as np

    flat = np.concatenate([[False], mask.ravel(), [not mask.ravel()[-1]]])
    change = np.flatnonzero(flat[1:] != flat[:-1])
    out: list[int] = []
    for run in np.diff(np.concatenate([[0], change])).tolist():
        while run > 255:
            out += [255, 0]
            run -= 255
        out.append(run)
    return np.array(out, np.uint8)


def _stand_in_ext() -> None:
    class NoExt(types.ModuleType):
        def __getattr__(self, name: str):  # every compiled op: a stub that must never run
            if name.startswith("__"):
                raise AttributeError(name)

            def missing(*args, **kwargs):
                raise RuntimeError(f"mmcv op {name} is not compiled here and was called")

            return missing

    sys.modules["mmcv._ext"] = NoExt("mmcv._ext")


def record_mask2former(
    seed: int,
    out: Path,
    config: Path | None,
    checkpoint_out: Path | None = None,
    all_masks: Path | None = None,
) -> Path:
    import numpy as np
    import torch
    from PIL import Image

    _stand_in_ext()
    import mmcv
    import mmdet
    from mmdet.apis import inference_detector, init_detector
    from mmdet.datasets import replace_ImageToTensor
    from mmdet.datasets.pipelines import Compose

    from evalkit.judges.mask2former_random import (
        RECIPE,
        random_state_dict,
        save_mmdet_checkpoint,
        state_dict_sha256,
    )
    from evalkit.judges.yolox import COCO80

    config = config or Path(os.path.dirname(mmdet.__file__)) / ".mim" / "configs" / CONFIG
    torch.manual_seed(0)
    fresh = init_detector(str(config), None, device="cpu").state_dict()
    shapes = json.loads(KEYS.read_text())["keys"]
    if {k: list(v.shape) for k, v in fresh.items()} != shapes:
        raise SystemExit(f"mmdet {mmdet.__version__}'s model differs from {KEYS}")
    state = random_state_dict(shapes, seed)
    for key, tensor in fresh.items():  # mmdet's own fixed buffers equal the recipe's
        if key.endswith("relative_position_index") and not torch.equal(tensor, state[key]):
            raise SystemExit(f"{key}: the recipe's index differs from mmdet's")

    with tempfile.TemporaryDirectory() as tmp:
        ckpt = Path(tmp) / "mask2former_random.pth"
        save_mmdet_checkpoint(ckpt, state, COCO80)
        if checkpoint_out is not None:
            checkpoint_out.write_bytes(ckpt.read_bytes())
        model = init_detector(str(config), str(ckpt), device="cpu")
        loaded = model.state_dict()
        if set(loaded) != set(state) or any(not torch.equal(loaded[k], state[k]) for k in state):
            raise SystemExit("mmdet did not load every tensor of the checkpoint as saved")
        pipeline = Compose(replace_ImageToTensor(model.cfg.data.test.pipeline))
        arrays: dict[str, np.ndarray] = {}
        every: dict[str, np.ndarray] = {}
        about_photos = {}
        for name, photo in photos().items():
            path = Path(tmp) / f"{name}.png"
            Image.fromarray(photo).save(path)
            bbox, segm = inference_detector(model, str(path))  # as evaluate_images.py calls it
            prepared = pipeline({"img_info": {"filename": str(path)}, "img_prefix": None})
            pixels = prepared["img"][0].data.numpy()  # the model's input: (3, H, W) float32
            labels = np.concatenate([np.full(len(b), c) for c, b in enumerate(bbox)])
            boxes = np.concatenate(bbox).astype(np.float32)
            masks = np.stack([m for per_class in segm for m in per_class])
            order = np.argsort(-boxes[:, 4], kind="stable")
            best_of_class = [i for i in order if i == order[labels[order] == labels[i]][0]]
            kept = np.union1d(order[:MASKS_TOP], best_of_class[:CLASSES_TOP])
            runs = [rle(masks[i]) for i in kept]
            arrays[f"{name}/labels"] = labels.astype(np.int16)
            arrays[f"{name}/boxes"] = boxes
            arrays[f"{name}/areas"] = masks.reshape(len(masks), -1).sum(1).astype(np.int32)
            arrays[f"{name}/masks_kept"] = kept.astype(np.int16)
            arrays[f"{name}/mask_runs"] = np.concatenate(runs)
            arrays[f"{name}/mask_run_counts"] = np.array([len(r) for r in runs], np.int32)
            if all_masks is not None:
                every[f"{name}/masks"] = np.packbits(masks, axis=-1)
            about_photos[name] = {
                "shape": list(photo.shape),
                "sha256": hashlib.sha256(np.ascontiguousarray(photo).tobytes()).hexdigest(),
                "source": PHOTO_SOURCES[name],
                "input_shape": list(pixels.shape),
                "input_sha256": hashlib.sha256(np.ascontiguousarray(pixels).tobytes()).hexdigest(),
                "img_shape": list(prepared["img_metas"][0].data["img_shape"]),
                "instances": len(labels),
                "above_0.3": int((boxes[:, 4] > 0.3).sum()),
                "above_0.9": int((boxes[:, 4] > 0.9).sum()),
            }
            print(f"{name} {photo.shape}: {about_photos[name]}", file=sys.stderr)
    out.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(out / f"{NAME}.npz", **arrays)
    if all_masks is not None:
        np.savez_compressed(all_masks, **every)
    meta = {
        "_about": (
            "Official outputs of GenEval's detector runtime (mmdet 2.x init_detector + "
            "inference_detector on each photo's PNG file, CPU) with a seeded random checkpoint "
            f"of the exact architecture (Mask2Former Swin-S, mmdet config {CONFIG}). Per "
            "photo, in mmdet's order (class by class, as bbox2result gives them): labels "
            "(COCO-80 index), boxes [x1, y1, x2, y2, score] float32, mask areas (pixels); for "
            f"the {MASKS_TOP} top-scoring instances and the top-scoring instance of each of the "
            f"{CLASSES_TOP} top-scoring classes (indices masks_kept) the bool mask at the "
            "photo's size as row-major uint8 run "
            "lengths starting with False, a run over 255 written as 255, 0, rest "
            "(mask_run_counts runs per mask). The checkpoint is evalkit.judges."
            "mask2former_random.random_state_dict(keys, seed) of the key/shape list in "
            "tests/geneval/data/mask2former_mmdet2_keys.json; the test regenerates it and "
            "checks its digest. Recorded by scripts/record_official_fixtures.py mask2former."
        ),
        "official_runtime": f"mmdet {mmdet.__version__} + mmcv {mmcv.__version__}",
        "official_repo": "https://github.com/djghosh13/geneval (evaluation/evaluate_images.py)",
        "official_commit": "af4902f24d3ca90ebbb446dd9891a59e0f82725f",
        "config": CONFIG,
        "command": "python scripts/record_official_fixtures.py mask2former --seed "
        f"{seed} (PYTHONPATH: mmdet {mmdet.__version__}, mmcv {mmcv.__version__} without "
        "compiled ops, see the recorder's docstring)",
        "versions": versions("mmdet", "mmcv", "torch", "numpy", "opencv-python", "scikit-image"),
        "device": "cpu",
        "checkpoint": {
            "recipe": RECIPE,
            "seed": seed,
            "keys": str(KEYS.relative_to(ROOT)),
            "keys_sha256": hashlib.sha256(KEYS.read_bytes()).hexdigest(),
            "state_dict_sha256": state_dict_sha256(state),
        },
        "photos": about_photos,
    }
    path = out / f"{NAME}.json"
    path.write_text(json.dumps(meta, indent=1) + "\n")
    return path
