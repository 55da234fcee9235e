"""GenEval verdicts on float32 detections at the boundaries, from the official evaluate_images.py.

The official ``evaluate_image`` (and the ``evaluate``, ``relative_position`` and ``compute_iou``
it calls) is taken verbatim from the checkout and run under the numpy it pins (1.23: a float32
array compared with a Python float compares in float32; a float32 scalar plus a Python int is a
float64); only ``inference_detector`` is replaced by a function returning the case's mmdet-style
detections (a list over the 80 classes of float32 (n, 5) arrays), and the image is never opened.
No colour prompts (they need CLIP). Cases: scores at float32(0.3) and float32(0.9) and their
neighbours; overlap filtering (``max_overlap``) on float32 box pairs whose IoU falls on the other
side of the threshold in float64; position prompts on random float32 boxes (preferring boxes whose
relations differ in float64: ``flips`` in the fixture counts those found).

    PYTHONPATH=<site with numpy 1.23> python scripts/record_official_fixtures.py geneval_float32 \\
        --official <djghosh13/geneval checkout>
"""

from __future__ import annotations

import argparse
import ast
import json
import types
from pathlib import Path
from typing import Any

from official_fixtures.common import FIXTURES, git_head, versions

OUT = FIXTURES / "geneval_float32_official.json"
FUNCTIONS = ("compute_iou", "relative_position", "evaluate", "evaluate_image")


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--official", type=Path, required=True, help="djghosh13/geneval checkout")
    p.add_argument("--commit", help="commit of the checkout when it is not a git folder")
    p.add_argument("--seed", type=int, default=0)


def record(a: argparse.Namespace) -> Path:
    import numpy as np

    if not np.__version__.startswith("1.23"):
        raise SystemExit(f"run under numpy 1.23 (the official pin), not {np.__version__}")
    source = (a.official / "evaluation" / "evaluate_images.py").read_text()
    from evalkit.cards import load_card

    official_files = load_card("geneval")["protocol"]["files"]  # the checkout's files we read
    names_file = next(f for f in official_files if f.endswith("names.txt"))
    names = [n.strip() for n in (a.official / names_file).read_text().split("\n") if n.strip()]
    official = _official(source, names)
    lines = (a.official / "prompts" / "evaluation_metadata.jsonl").read_text().splitlines()
    official.prompts = [json.loads(line) for line in lines if line.strip()]
    cases, flips = _cases(np.random.default_rng(a.seed), official, names)
    doc = {
        "_about": (
            "Verdicts of GenEval's official evaluate_image (evaluation/evaluate_images.py, run "
            "verbatim under numpy 1.23 with inference_detector replaced by the case's float32 "
            "detections) on float32 boundary cases: scores at float32(0.3)/float32(0.9) and "
            "their neighbours, position prompts and max_overlap filtering where float32 and "
            "float64 arithmetic disagree, and random ones. Each case: metadata, options, "
            "detections {class: [[x1, y1, x2, y2, score] as float32 values]}, the official "
            "correct/reason/details."
        ),
        "source_repo": "https://github.com/djghosh13/geneval",
        "source_commit": a.commit or git_head(a.official),
        "command": (
            "PYTHONPATH=<numpy 1.23 site> python scripts/record_official_fixtures.py "
            "geneval_float32 --official <checkout>"
        ),
        "versions": versions("numpy"),
        "seed": a.seed,
        "flips": flips,
        "cases": cases,
    }
    OUT.write_text(json.dumps(doc, indent=0) + "\n")
    return OUT


def _official(source: str, classnames: list[str]) -> types.SimpleNamespace:
    """The official functions, exec'd in a namespace holding what their module globals would."""
    import numpy as np

    tree = ast.parse(source)
    defs = [n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name in FUNCTIONS]
    assert sorted(d.name for d in defs) == sorted(FUNCTIONS), [d.name for d in defs]
    identity = types.SimpleNamespace(exif_transpose=lambda im: im)
    ns: dict[str, Any] = {
        "np": np,
        "json": json,
        "classnames": classnames,
        "object_detector": None,
        "Image": types.SimpleNamespace(open=lambda path: None),
        "ImageOps": identity,
        "COLORS": [],
    }
    exec(compile(ast.Module(body=defs, type_ignores=[]), "evaluate_images.py", "exec"), ns)  # noqa: S102

    def run(metadata: dict, detections: dict, options: dict) -> dict:
        bbox = [
            np.asarray(detections.get(c, np.zeros((0, 5))), np.float32).reshape(-1, 5)
            for c in classnames
        ]
        ns["inference_detector"] = lambda _model, _path: bbox
        ns["THRESHOLD"] = float(options.get("threshold", 0.3))
        ns["COUNTING_THRESHOLD"] = float(options.get("counting_threshold", 0.9))
        ns["MAX_OBJECTS"] = int(options.get("max_objects", 16))
        ns["NMS_THRESHOLD"] = float(options.get("max_overlap", 1.0))
        ns["POSITION_THRESHOLD"] = float(options.get("position_threshold", 0.1))
        out = ns["evaluate_image"]("case.png", metadata)
        return {"correct": bool(out["correct"]), "reason": out["reason"], "details": out["details"]}

    return types.SimpleNamespace(run=run, ns=ns)


def _f32(values: list[float]) -> list[float]:
    import numpy as np

    return [float(v) for v in np.asarray(values, np.float32)]


def _cases(rng: Any, official: Any, names: list[str]) -> tuple[list[dict], dict[str, int]]:
    import numpy as np

    f32 = np.float32
    cases = []

    def add(kind: str, metadata: dict, detections: dict, options: dict | None = None) -> None:
        options = options or {}
        dets = {k: [_f32(b) for b in v] for k, v in detections.items()}
        cases.append(
            {"kind": kind, "metadata": metadata, "options": options, "detections": dets}
            | official.run(metadata, dets, options)
        )

    single = {"tag": "single_object", "include": [{"class": "dog", "count": 1}], "prompt": "dog"}
    for score in (f32(0.3), np.nextafter(f32(0.3), f32(1)), np.nextafter(f32(0.3), f32(0))):
        add("threshold", single, {"dog": [[10, 10, 50, 50, float(score)]]})
    two = {
        "tag": "counting",
        "include": [{"class": "clock", "count": 2}],
        "exclude": [{"class": "clock", "count": 3}],
        "prompt": "a photo of two clocks",
    }
    up = float(np.nextafter(f32(0.9), f32(1)))
    for s1, s2, s3 in ((0.9, up, up), (up, up, 0.9), (up, up, up)):
        boxes = [[0, 0, 10, 10, s1], [20, 0, 30, 10, s2], [40, 0, 50, 10, s3]]
        add("counting", two, {"clock": boxes})
    add("threshold", single, {"dog": [[1, 1, 9, 9, 0.5]]}, {"threshold": float(f32(0.5))})

    # position: boxes whose relation differs between float32 and float64 arithmetic
    rel_f32 = official.ns["relative_position"]
    position = next(p for p in official.prompts if p["tag"] == "position")
    flips = randoms = 0
    for _ in range(200_000):
        if flips >= 40 and randoms >= 40:
            break
        a = _box(rng, 4000.0)
        b = _box(rng, 4000.0)
        ra = rel_f32((a, None), (b, None))
        rb = rel_f32((a.astype(np.float64), None), (b.astype(np.float64), None))
        differs = ra != rb
        if (differs and flips < 40) or (not differs and randoms < 40 and rng.random() < 0.01):
            flips += differs
            randoms += not differs
            # expect a relation float32 and float64 disagree on, so the verdicts differ
            rel = sorted(ra ^ rb or ra or {"right of"})[0]
            meta = json.loads(json.dumps(position))
            meta["include"][1]["position"][0] = rel
            dets = {c["class"]: [box.tolist() + [0.8]] for c, box in zip(meta["include"], (b, a))}
            add("position", meta, dets)
    found = {"position": flips}
    # overlap filtering: box pairs whose IoU lies on different sides of max_overlap in float64
    iou = official.ns["compute_iou"]
    flips = 0
    for _ in range(200_000):
        if flips >= 20:
            break
        a, b = _box(rng, 5000.0), _box(rng, 5000.0)
        b[:2] = a[:2] + rng.integers(-3, 4, 2).astype(np.float32) * np.float32(0.37)
        t = float(f32(iou(a, b)))
        if not 0.05 < t < 0.95:
            continue
        if (iou(a, b) < t) != (iou(a.astype(np.float64), b.astype(np.float64)) < t):
            flips += 1
            two_dogs = {"tag": "counting", "include": [{"class": "dog", "count": 2}], "prompt": "x"}
            dets = {"dog": [a.tolist() + [0.95], b.tolist() + [0.94]]}
            add("overlap", two_dogs, dets, {"max_overlap": t})
    return cases, {**found, "overlap": flips}


def _box(rng: Any, scale: float) -> Any:
    import numpy as np

    x1, y1 = rng.uniform(0, scale, 2)
    w, h = rng.uniform(1, scale / 4, 2)
    return np.array([x1, y1, x1 + w, y1 + h], np.float32) + np.float32(rng.uniform(0, 1) / 3)
