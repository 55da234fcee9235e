"""TokBench judges: PARSeq (T-ACC, T-NED) and antelopev2's recognition network (F-Sim) run by
TokBench's OWN evaluation scripts, ``eval_text.py`` and ``eval_face.py`` of wjf5203/TokBench
(docTR vendored there, 0.11.1a0; insightface 0.7.3 and onnxruntime of May 2025), with seeded
random weights of the exact architectures.

    PYTHONPATH=<TokBench checkout>:<site with insightface 0.7.3, onnxruntime 1.22.0, ...> \\
    python scripts/record_official_fixtures.py tokbench_judges --official <TokBench checkout> \\
        --arcface <insightface checkout>/recognition/arcface_torch --work <scratch folder>

The official scripts run unchanged (``eval_text.main``, ``eval_face.main``); observers around
PARSeq.forward, ArcFaceONNX.get and face_align.norm_crop record what they computed. Inputs: the
shipped mini set (evalkit/data/tokbench_mini), skimage photos with boxes and polygons made here,
and faces (the mini set's, and /work/shared/offline/images/faces with dlib's landmarks; those
photos stay out of the repository). Weights: PARSeq ``torch.manual_seed`` + docTR's own init, made
non-degenerate (``nondegenerate``); glintr100 = arcface_torch's iresnet100 exported as its
torch2onnx does, every initializer refilled from a seed (``fill_initializers``): the weightless
graph is committed and tests refill it. The helpers below are shared with the tests and import no
official code.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import shutil
import sys
from pathlib import Path
from typing import Any

import numpy as np

from official_fixtures.common import FIXTURES, git_head, versions

REPO = Path(__file__).resolve().parents[2]
MINI = REPO / "evalkit" / "data" / "tokbench_mini"
SHARED_FACES = REPO.parent / "shared" / "offline" / "images" / "faces"
JSON_OUT = FIXTURES / "tokbench_judges_official.json"
NPZ_OUT = FIXTURES / "tokbench_judges_official.npz"
SKELETON_OUT = FIXTURES / "tokbench_glintr100_skeleton.onnx"

PARSEQ_SEED = 20250516
HEAD_GAIN = 10.0  # docTR's head init (std 0.02) gives flat softmaxes; x10 makes them peaked
EOS_BIAS = 8.0  # with this seed: readings of 0 to 13 characters, most run to the bound
GLINT_SEED = 20250516
FACE_SETTING = 256  # the reconstruction of each face image: evalkit's "Resize" baseline here
# In TokBench's vendored docTR (0.11.1a0) and in parseq-56125471.pt, never used by forward;
# docTR >= 0.11.1 dropped them (its from_pretrained ignores them).
UNUSED_DECODER_NORMS = (
    "decoder.attention_norm.weight",
    "decoder.attention_norm.bias",
    "decoder.cross_attention_norm.weight",
    "decoder.cross_attention_norm.bias",
)


# --- helpers shared with tests/tokbench/test_judge_parity.py (no official code) -----------------
def seeded_parseq_state(build: Any) -> dict[str, Any]:
    """``build()`` after torch.manual_seed(PARSEQ_SEED), made non-degenerate, official keys."""
    import torch

    torch.manual_seed(PARSEQ_SEED)
    state = {k: v.detach().clone() for k, v in build().state_dict().items()}
    state["head.weight"] *= HEAD_GAIN
    state["head.bias"][-1] = EOS_BIAS  # the last class is <eos>
    width = state["head.weight"].shape[1]
    for key in UNUSED_DECODER_NORMS:  # LayerNorm defaults, as the vendored model has them
        state.setdefault(key, torch.ones(width) if key.endswith("weight") else torch.zeros(width))
    return state


def state_digest(state: dict[str, Any]) -> str:
    """sha256 over every tensor's name, dtype, shape and bytes, in key order."""
    h = hashlib.sha256()
    for key in sorted(state):
        t = state[key].detach().cpu().contiguous()
        h.update(f"{key}|{t.dtype}|{tuple(t.shape)}\n".encode())
        h.update(t.numpy().tobytes())
    return h.hexdigest()


def _roles(graph: Any) -> dict[str, tuple[str, int, Any]]:
    """initializer name -> (op type, input index, node) of the node that consumes it."""
    out: dict[str, tuple[str, int, Any]] = {}
    for node in graph.node:
        for i, name in enumerate(node.input):
            out.setdefault(name, (node.op_type, i, node))
    return out


def _values(role: tuple[str, int, Any], shape: tuple[int, ...], rng: Any) -> np.ndarray:
    op, idx, node = role
    if op in ("Conv", "Gemm") and idx == 1:
        trans_b = any(a.name == "transB" and a.i for a in node.attribute)
        fan_in = int(np.prod(shape[1:])) if op == "Conv" or trans_b else shape[0]
        return rng.standard_normal(shape) * (0.6 / np.sqrt(fan_in))
    if op in ("Conv", "Gemm") and idx == 2:
        return rng.standard_normal(shape) * 0.05
    if op == "BatchNormalization" and idx in (1, 4):  # scale, variance
        return rng.uniform(0.5, 1.5, shape)
    if op == "BatchNormalization" and idx in (2, 3):  # bias, mean
        return rng.normal(0.0, 0.1, shape)
    if op == "PRelu" and idx == 1:  # near 1: embeddings of different faces stay apart
        return rng.uniform(0.7, 1.3, shape)
    raise ValueError(f"no seeding rule for input {idx} of {op}")


def fill_initializers(model: Any, seed: int = GLINT_SEED) -> Any:
    """A copy of ``model`` whose every initializer is drawn from ``seed`` by its role."""
    from onnx import numpy_helper

    out = type(model)()
    out.CopyFrom(model)
    roles = _roles(out.graph)
    for k, init in enumerate(out.graph.initializer):
        rng = np.random.default_rng([seed, k])
        values = _values(roles[init.name], tuple(init.dims), rng).astype(np.float32)
        init.CopyFrom(numpy_helper.from_array(values, init.name))
    return out


def strip_initializers(model: Any) -> Any:
    """The graph with every initializer's values removed (names, shapes and types kept)."""
    out = type(model)()
    out.CopyFrom(model)
    for init in out.graph.initializer:
        dims, dtype, name = list(init.dims), init.data_type, init.name
        init.Clear()
        init.name, init.data_type = name, dtype
        init.dims.extend(dims)
    return out


def resize_baseline(img: Any, setting: int = FACE_SETTING) -> np.ndarray:
    """TokBench's "Resize" reconstruction (letterbox in, back out) by evalkit's protocol code."""
    from evalkit.benchmarks.tokbench.protocol import letterbox, restore

    canvas, meta = letterbox(img, setting)
    return np.asarray(restore(canvas, meta))


def array_sha256(a: np.ndarray) -> str:
    a = np.ascontiguousarray(a)
    return hashlib.sha256(f"{a.dtype}|{a.shape}|".encode() + a.tobytes()).hexdigest()


PHOTOS = ("page", "text", "rocket", "astronaut", "coffee", "chelsea")
# Words of skimage's page(): straight boxes on printed text.
PAGE_WORDS = [
    ([4.6, 6.2, 153.9, 34.8], "Region-based"),
    ([157.3, 6.0, 294.5, 35.1], "segmentation"),
    ([4.0, 45.0, 31.0, 63.0], "Let"),
    ([37.0, 45.0, 58.0, 63.0], "us"),
    ([63.2, 44.4, 101.7, 63.9], "first"),
    ([105.0, 45.0, 187.0, 63.0], "determine"),
    ([4.0, 66.0, 107.0, 86.0], "background."),
    ([4.0, 154.0, 140.0, 176.0], ">>>markers"),  # the vocab has no space
    ([4.6, 6.2, 294.5, 35.1], "Region-based-segmentation-of-coins"),  # 34 > 30 characters
]
# Handwriting of skimage's text(): 4-point polygons, first three points fix the crop.
TEXT_POLYGONS = [
    ([[96.4, 22.0], [250.0, 60.0], [244.0, 92.0], [90.0, 54.0]], "(t-x)"),
    ([[0.0, 42.0], [130.0, 70.0], [124.0, 102.0], [0.0, 74.0]], "(s)="),
    ([[150.0, 0.0], [300.0, 20.0], [296.0, 48.0], [146.0, 28.0]], "(s)=1"),
    ([[300.0, 20.0], [440.0, 40.0], [436.0, 70.0], [296.0, 50.0]], "t-"),
    ([[50.0, 120.0], [120.0, 130.0], [117.0, 170.0], [47.0, 160.0]], "-5"),
]


def _word(rng: Any, vocab: str) -> str:
    return "".join(rng.choice(list(vocab), size=int(rng.integers(1, 13))))


def photo_text_set() -> tuple[dict[str, np.ndarray], list[dict[str, Any]]]:
    """skimage photos (PNG) with straight boxes and polygons: 3 batches of 64 when read in order.

    Batch 1 holds a 34-character word (decoding bounded at 30), batch 2 only short words, batch 3
    a word with a character outside docTR's french vocab (the official script skips that batch).
    Box shapes cover wide, tall, exactly 1:4 and fractional coordinates (truncated to int); text.png
    and chelsea.png hold 4-point polygons (the official loader needs one kind per image).
    """
    from skimage import data

    images = {f"{n}.png": getattr(data, n)() for n in PHOTOS}
    rng = np.random.default_rng(7)
    vocab = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZéèàç-.,:'"
    words: list[tuple[str, Any, str]] = [("page.png", b, w) for b, w in PAGE_WORDS]
    words += [("text.png", p, w) for p, w in TEXT_POLYGONS]
    fixed = [(60, 20, 80, 20), (10, 10, 128, 32), (30, 40, 12, 40), (5, 5, 200, 18)]
    while len(words) < 150:
        name = f"{PHOTOS[2 + len(words) % 4]}.png"
        h, w = images[name].shape[:2]
        if len(words) < len(PAGE_WORDS) + len(TEXT_POLYGONS) + len(fixed):
            x, y, bw, bh = fixed[len(words) - len(PAGE_WORDS) - len(TEXT_POLYGONS)]
        else:
            bw, bh = int(rng.integers(8, 220)), int(rng.integers(6, 70))
            x, y = int(rng.integers(0, w - bw)), int(rng.integers(0, h - bh))
        box = [x + float(rng.uniform(0, 0.99)), y + 0.5, x + bw + 0.25, y + bh + 0.0]
        if name == "chelsea.png":  # quadrilaterals (an image holds one kind: np.array of boxes)
            d = float(rng.uniform(-0.3, 0.3)) * bh
            box = [[x, y + d], [x + bw, y], [x + bw, y + bh], [x, y + bh + d]]
        words.append((name, box, _word(rng, vocab)))
    by_image: dict[str, list[dict[str, Any]]] = {n: [] for n in images}
    for name, box, word in words:
        by_image[name].append({"bbox": box, "rec": word, "ratio": 0.05})
    ann = [
        {"file_name": n, "height": int(a.shape[0]), "width": int(a.shape[1]), "annotations": ws}
        for n, a in images.items()
        for ws in [by_image[n]]
    ]
    ann[-1]["annotations"][-1]["rec"] = "Straße"  # in batch 3; 'ß' is not in the french vocab
    return images, ann


# --- recording (official runtime) ----------------------------------------------------------------
def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--official", type=Path, required=True, help="wjf5203/TokBench checkout")
    p.add_argument("--arcface", type=Path, required=True, help="insightface arcface_torch folder")
    p.add_argument("--work", type=Path, required=True, help="scratch folder (outside the repo)")
    p.add_argument("--faces", type=Path, default=SHARED_FACES, help="real face photos (JPEG)")
    p.add_argument("--commit", help="commit of the TokBench checkout when it is not a git folder")


def record(a: argparse.Namespace) -> Path:

    run = a.work.resolve() / "run"
    shutil.rmtree(run, ignore_errors=True)
    (run / "data" / "annotations").mkdir(parents=True)
    (run / "out").mkdir()  # eval_face.py writes there without creating it (eval.sh runs text first)
    sys.path.insert(0, str(a.official))
    glint, face_rows, face_arrays = _record_faces(run, a.arcface, a.faces)
    parseq, text_rows, text_arrays, photos = _record_text(run)
    import doctr

    doc = {
        "_about": (
            "Outputs of TokBench's own evaluation scripts (eval_text.py, eval_face.py, run "
            "unchanged through their main()) with seeded random weights of the exact judge "
            "architectures, recorded by scripts/record_official_fixtures.py tokbench_judges. "
            "text: per instance in the official dataset order (per set file, batches of 64): "
            "the official reading, docTR's confidence, the official accuracy and ned, and the sum "
            "and sum of squares of the normalised 3x32x128 input; skipped = the batch the script "
            "skipped (a GT character outside the vocab). faces: per face the official "
            "similarity and the sha256 of both aligned 112x112 chips and both decoded images. "
            "The .npz beside it: per-position argmax and max logit of every reading, and the "
            "512-d embeddings. Not written by hand; rerun the recorder to refresh it."
        ),
        "source_repo": "https://github.com/wjf5203/TokBench",
        "source_commit": a.commit or git_head(a.official),
        "command": (
            "PYTHONPATH=<TokBench>:<site> python scripts/record_official_fixtures.py "
            "tokbench_judges --official <TokBench> --arcface <insightface>/recognition/"
            "arcface_torch --work <scratch>"
        ),
        "versions": {
            "doctr (vendored in TokBench)": doctr.__version__,
            **versions(
                "torch",
                "torchvision",
                "insightface",
                "onnxruntime",
                "onnx",
                "opencv-python-headless",
                "scikit-image",
                "numpy",
                "pillow",
                "nltk",
                "dlib-bin",
            ),
        },  # fmt: skip
        "parseq": parseq,
        "glintr100": glint,
        "photos_annotations": photos,
        "text": text_rows,
        "faces": face_rows,
    }
    JSON_OUT.write_text(json.dumps(doc, indent=1, ensure_ascii=False) + "\n")
    np.savez_compressed(NPZ_OUT, **text_arrays, **face_arrays)
    return JSON_OUT


def _record_text(run: Path) -> tuple[dict, list[dict], dict[str, np.ndarray], list[dict]]:
    import torch
    from doctr.datasets import VOCABS
    from doctr.models import recognition
    from PIL import Image

    def build() -> Any:
        return recognition.parseq(
            pretrained=False, input_shape=(3, 32, 128), vocab=VOCABS["french"]
        )

    state = seeded_parseq_state(build)
    ckpt = run / "parseq_seeded.pt"
    torch.save(state, ckpt)
    data = run / "data"
    shutil.copytree(MINI / "images" / "text_data" / "mini", data / "images" / "text_data" / "mini")
    shutil.copy(MINI / "annotations" / "text_mini.json", data / "annotations" / "text_mini.json")
    images, photos = photo_text_set()
    (data / "images" / "text_data" / "photos").mkdir(parents=True)
    for name, arr in images.items():
        Image.fromarray(arr).save(data / "images" / "text_data" / "photos" / name)
    (data / "annotations" / "text_photos.json").write_text(json.dumps(photos))
    rows: list[dict] = []
    for set_name in ("mini", "photos"):
        ann = json.loads((data / "annotations" / f"text_{set_name}.json").read_text())
        log, details = _run_eval_text(data, set_name, ckpt, run / "out")
        rows += _text_rows(set_name, ann, log, details)
    # per decoded position (at most 33): the argmax class and its logit; -1 / NaN past the end
    arrays = {
        "text_argmax": np.full((len(rows), 33), -1, np.int16),
        "text_max_logit": np.full((len(rows), 33), np.nan, np.float32),
    }
    for i, r in enumerate(rows):
        am, ml = r.pop("_am", None), r.pop("_ml", None)
        if am is not None:
            arrays["text_argmax"][i, : len(am)] = am
            arrays["text_max_logit"][i, : len(ml)] = ml
    meta = {
        "seed": PARSEQ_SEED,
        "build": "doctr.models.recognition.parseq(pretrained=False, input_shape=(3, 32, 128), "
        "vocab=VOCABS['french']) after torch.manual_seed(seed)",
        "nondegenerate": f"head.weight *= {HEAD_GAIN}; head.bias[<eos>] = {EOS_BIAS}",
        "unused_official_keys": list(UNUSED_DECODER_NORMS),
        "state_sha256": state_digest(state),
        "num_parameters": int(sum(v.numel() for k, v in state.items())),
        "checkpoint": "torch.save(state_dict), loaded by eval_text.py --resume",
    }
    return meta, rows, arrays, photos


def _run_eval_text(data: Path, set_name: str, ckpt: Path, out: Path) -> tuple[list, dict]:
    import eval_text  # the official script (TokBench checkout on sys.path)
    from doctr.models.recognition.parseq import pytorch as parseq_pt

    log: list[dict[str, Any]] = []
    original = parseq_pt.PARSeq.forward

    def observed(self, x, target=None, return_model_output=False, return_preds=False):  # noqa: ANN001, ANN202
        xs = x.detach().double()
        entry: dict[str, Any] = {"targets": list(target or []), "sum": xs.sum((1, 2, 3)).tolist(),
                                 "sqsum": (xs * xs).sum((1, 2, 3)).tolist()}  # fmt: skip
        log.append(entry)
        try:
            result = original(self, x, target, True, return_preds)
        except ValueError:
            entry["skipped"] = True
            raise
        entry["preds"] = result["preds"]
        entry["logits"] = result["out_map"].detach().float().cpu().numpy()
        return result

    parseq_pt.PARSeq.forward = observed
    argv = sys.argv
    try:
        sys.argv = ["eval_text.py", "--img_folder", f"{data}/images/text_data/{set_name}/",
                    "--gt_path", f"{data}/annotations/text_{set_name}.json", "--dataset", set_name,
                    "--batch_size", "64", "--method_name", "seeded", "--setting", "256",
                    "--resume", str(ckpt), "--save_dir", str(out), "-j", "0"]  # fmt: skip
        args = eval_text.parse_args()
        eval_text.check_img_filename(args.img_folder)
        eval_text.main(args)
    finally:
        parseq_pt.PARSeq.forward, sys.argv = original, argv
    details = json.loads((out / f"{set_name}.json").read_text())["seeded"]["256"]["details"]
    return log, details


def _text_rows(set_name: str, ann: list, log: list, details: dict) -> list[dict]:
    words = [(img["file_name"], k, w) for img in ann for k, w in enumerate(img["annotations"])]
    official = iter([r for d in details.values() for r in d["results"]])
    rows: list[dict] = []
    for b, entry in enumerate(log):
        batch = words[64 * b : 64 * b + 64]
        assert entry["targets"] == [w["rec"] for _, _, w in batch], "batches out of step"
        for j, (image, k, w) in enumerate(batch):
            row = {"set": set_name, "image": image, "instance": k, "gt": w["rec"], "batch": b,
                   "skipped": bool(entry.get("skipped")), "input_sum": entry["sum"][j],
                   "input_sqsum": entry["sqsum"][j]}  # fmt: skip
            if not row["skipped"]:
                res = next(official)
                assert res["gt"] == w["rec"]
                pred, conf = entry["preds"][j]
                assert res["pred"] == pred
                logits = entry["logits"][j]
                row |= {"pred": pred, "confidence": float(conf), "t_acc": float(res["accuracy"]),
                        "t_ned": float(res["ned"]), "_am": logits.argmax(-1),
                        "_ml": logits.max(-1)}  # fmt: skip
            rows.append(row)
    assert len(rows) == len(words) and next(official, None) is None
    return rows


def initializer_sha256(model: Any) -> str:
    """sha256 over every initializer's name, dims and values (independent of serialisation)."""
    from onnx import numpy_helper

    h = hashlib.sha256()
    for init in model.graph.initializer:
        h.update(f"{init.name}|{list(init.dims)}\n".encode())
        h.update(np.ascontiguousarray(numpy_helper.to_array(init)).tobytes())
    return h.hexdigest()


def _export_iresnet100(arcface: Path, path: Path) -> Any:
    """arcface_torch's iresnet100 exported as its torch2onnx.py does (input "data", opset 11,
    batch dim "None"). BN/PReLU values are made distinct first so the exporter keeps one
    initializer per parameter, as it does for a trained model (fill_initializers sets them)."""
    import onnx
    import torch

    sys.path.insert(0, str(arcface / "backbones"))
    from iresnet import iresnet100  # the official definition (arcface_torch/backbones)

    torch.manual_seed(GLINT_SEED)
    net = iresnet100(dropout=0.0, num_features=512)
    with torch.no_grad():
        for m in net.modules():
            if isinstance(m, (torch.nn.BatchNorm1d, torch.nn.BatchNorm2d, torch.nn.PReLU)):
                for t in (*m.parameters(), *m.buffers()):
                    if t.is_floating_point():
                        t.uniform_(0.5, 1.5)
    net.eval()
    x = torch.rand(1, 3, 112, 112)
    torch.onnx.export(net, x, str(path), input_names=["data"], keep_initializers_as_inputs=False,
                      verbose=False, opset_version=11, dynamo=False)  # fmt: skip
    model = onnx.load(str(path))
    model.graph.input[0].type.tensor_type.shape.dim[0].dim_param = "None"
    return model


def _stub_detector(path: Path) -> None:
    """A never-run stand-in for antelopev2's scrfd_10g_bnkps.onnx: FaceAnalysis needs a
    'detection' model in the pack (9 outputs route it there); eval_face.py never detects."""
    import onnx
    from onnx import TensorProto, helper

    x = helper.make_tensor_value_info("input.1", TensorProto.FLOAT, [1, 3, "h", "w"])
    outs = [helper.make_tensor_value_info(f"o{i}", TensorProto.FLOAT, None) for i in range(9)]
    nodes = [helper.make_node("Identity", ["input.1"], [f"o{i}"]) for i in range(9)]
    graph = helper.make_graph(nodes, "stub_detector", [x], outs)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 11)])
    model.ir_version = 6  # what onnxruntime 1.22 reads (torch's opset-11 export writes 6 too)
    onnx.save(model, str(path))


def _shared_faces(folder: Path) -> list[dict[str, Any]]:
    """Faces of the shared photos: dlib's frontal detector and 68-point predictor -> 5 points."""
    import importlib.util

    import dlib
    from PIL import Image

    detector = dlib.get_frontal_face_detector()
    spec = importlib.util.find_spec("face_recognition_models")  # its __init__ needs pkg_resources
    models = Path(spec.origin).parent / "models"  # type: ignore[union-attr, arg-type]
    predictor = dlib.shape_predictor(str(models / "shape_predictor_68_face_landmarks.dat"))
    out = []
    for path in sorted(folder.glob("*.jpg")):
        img = np.asarray(Image.open(path).convert("RGB"))
        faces = []
        for r in detector(img, 1):
            p = np.array([[q.x, q.y] for q in predictor(img, r).parts()], dtype=np.float64)
            kps = [p[36:42].mean(0), p[42:48].mean(0), p[30], p[48], p[54]]
            box = [r.left(), r.top(), r.right(), r.bottom()]
            ratio = (box[2] - box[0]) * (box[3] - box[1]) / (img.shape[0] * img.shape[1])
            kps_list = [[round(float(v), 2) for v in k] for k in kps]
            faces.append({"kps": kps_list, "box": box, "ratio": ratio, "gt": path.stem})
        if faces:
            out.append({"image_name": path.name, "img_height": img.shape[0],
                        "img_width": img.shape[1], "faces": faces, "_path": path})  # fmt: skip
    return out


def _record_faces(run: Path, arcface: Path, faces: Path) -> tuple[dict, list, dict]:
    import cv2
    import onnx
    from PIL import Image

    exported = _export_iresnet100(arcface, run / "iresnet100_export.onnx")
    skeleton = strip_initializers(exported)
    onnx.save(skeleton, str(SKELETON_OUT))
    model = fill_initializers(skeleton)
    pack = run / "home" / ".insightface" / "models" / "antelopev2"
    pack.mkdir(parents=True)
    onnx.save(model, str(pack / "glintr100.onnx"))
    _stub_detector(pack / "scrfd_10g_bnkps.onnx")

    mini = json.loads((MINI / "annotations" / "face_meta.json").read_text())
    for img in mini:
        img["_path"] = MINI / "images" / "face_data" / img["image_name"]
        for k, f in enumerate(img["faces"]):
            f["gt"] = f"{img['image_name']}#{k}"
    meta = _shared_faces(faces) + mini
    originals, recons = run / "data" / "images" / "face_data", run / "recon" / "face_data"
    originals.mkdir(parents=True)
    recons.mkdir(parents=True)
    decoded = {}
    for img in meta:
        src = img.pop("_path")
        shutil.copy(src, originals / img["image_name"])
        with Image.open(src) as im:
            recon = resize_baseline(im.convert("RGB"))
        # PNG bytes under the original name: cv2.imread reads the content, losslessly
        Image.fromarray(recon).save(recons / img["image_name"], format="PNG")
        decoded[img["image_name"]] = (
            array_sha256(cv2.imread(str(originals / img["image_name"]))[..., ::-1]),
            array_sha256(recon),
        )
    (run / "data" / "annotations" / "face_meta.json").write_text(json.dumps(meta))
    chips, embeddings, report = _run_eval_face(run, originals, recons)
    rows, details = [], report["details"]
    for img in meta:
        results = details[img["image_name"]]["results"]
        for k, (f, res) in enumerate(zip(img["faces"], results, strict=True)):
            n = len(rows)
            rows.append({
                "image": img["image_name"], "face": k, "kps": f["kps"], "ratio": f["ratio"],
                "source": "mini" if img["image_name"].startswith("face_") else "shared",
                "f_sim": res["similarity"], "image_sha256": decoded[img["image_name"]][0],
                "recon_sha256": decoded[img["image_name"]][1],
                "chip_sha256": [array_sha256(chips[2 * n][..., ::-1]),
                                array_sha256(chips[2 * n + 1][..., ::-1])],
            })  # fmt: skip
    assert 2 * len(rows) == len(chips) == len(embeddings)
    ref = embeddings[0][1:]
    arrays = {
        "face_embedding_original": np.stack([e[0] for e in embeddings[0::2]]).astype(np.float32),
        "face_embedding_reconstruction": np.stack([e[0] for e in embeddings[1::2]]),
    }
    glint = {
        "architecture": "arcface_torch backbones/iresnet.py iresnet100 (glintr100 is an iresnet100 "
        "from arcface_torch), exported as torch2onnx.py: input 'data', opset 11, batch 'None'",
        "skeleton": str(SKELETON_OUT.relative_to(REPO)),
        "skeleton_sha256": hashlib.sha256(SKELETON_OUT.read_bytes()).hexdigest(),
        "seed": GLINT_SEED,
        "initializer_sha256": initializer_sha256(model),
        "num_parameters": int(sum(np.prod(i.dims) for i in model.graph.initializer)),
        "insightface_input_mean_std": [float(ref[0]), float(ref[1])],
        "pack": "glintr100.onnx + a never-run stub scrfd_10g_bnkps.onnx in <HOME>/.insightface/"
        "models/antelopev2 (FaceAnalysis requires a detection model)",
        "reconstruction": f"tokbench protocol Resize baseline at {FACE_SETTING} (PNG)",
    }
    return glint, rows, arrays


def _run_eval_face(run: Path, originals: Path, recons: Path) -> tuple[list, list, dict]:
    import os

    import eval_face  # the official script (TokBench checkout on sys.path)
    from insightface.model_zoo.arcface_onnx import ArcFaceONNX
    from insightface.utils import face_align

    chips: list[np.ndarray] = []
    embeddings: list[tuple[np.ndarray, float, float]] = []
    get, crop = ArcFaceONNX.get, face_align.norm_crop

    def observed_crop(img, landmark, image_size=112, mode="arcface"):  # noqa: ANN001, ANN202
        chips.append(crop(img, landmark, image_size, mode))
        return chips[-1]

    def observed_get(self, img, face):  # noqa: ANN001, ANN202
        emb = get(self, img, face)
        embeddings.append((np.array(emb, dtype=np.float32), self.input_mean, self.input_std))
        return emb

    ArcFaceONNX.get, face_align.norm_crop = observed_get, observed_crop
    argv, home = sys.argv, os.environ.get("HOME")
    os.environ["HOME"] = str(run / "home")  # FaceAnalysis reads ~/.insightface/models/antelopev2
    try:
        sys.argv = ["eval_face.py", "--original_image_path", f"{originals}/",
                    "--reconstruction_image_path", f"{recons}/", "--tokenizer", "seeded",
                    "--meta_path", str(run / "data" / "annotations" / "face_meta.json"),
                    "--setting", "256", "--save_dir", str(run / "out")]  # fmt: skip
        parser = argparse.ArgumentParser("tokbench", parents=[eval_face.get_args_parser()])
        eval_face.main(parser.parse_args())
    finally:
        ArcFaceONNX.get, face_align.norm_crop, sys.argv = get, crop, argv
        if home is not None:
            os.environ["HOME"] = home
    report = json.loads((run / "out" / "face.json").read_text())["seeded"]["256"]
    return chips, embeddings, report
