"""VISOR's per-image verdicts on float32 scores at the 0.1 boundary, from the official notebook.

``process_detection`` is taken verbatim from microsoft/VISOR ``text2image_realtime_evaluate.ipynb``
and run on torch tensors as OWL-ViT's post-processing gives them (float32 boxes and scores, int64
labels indexing the two queries): ``score > 0.1`` on a float32 tensor compares in float32, so a
score of exactly float32(0.1) is not a detection.

    python scripts/record_official_fixtures.py visor_float32 --official <microsoft/VISOR checkout>
"""

from __future__ import annotations

import argparse
import ast
import itertools
import json
from pathlib import Path

from official_fixtures.common import FIXTURES, git_head, versions

OUT = FIXTURES / "visor_float32_official.json"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--official", type=Path, required=True, help="microsoft/VISOR checkout")
    p.add_argument("--commit", help="commit of the checkout when it is not a git folder")


def record(a: argparse.Namespace) -> Path:
    import numpy as np
    import torch

    notebook = json.loads((a.official / "text2image_realtime_evaluate.ipynb").read_text())
    cells = ["".join(c["source"]) for c in notebook["cells"] if c["cell_type"] == "code"]
    (cell,) = [c for c in cells if "def process_detection" in c]
    tree = ast.parse(cell)
    (fn,) = [n for n in tree.body if isinstance(n, ast.FunctionDef)]
    ns: dict = {"np": np, "itertools": itertools}
    exec(compile(ast.Module(body=[fn], type_ignores=[]), "notebook", "exec"), ns)  # noqa: S102
    f32 = np.float32
    up, down = np.nextafter(f32(0.1), f32(1)), np.nextafter(f32(0.1), f32(0))
    cases = []
    for s1, s2 in itertools.product((f32(0.1), up, down, f32(0.5)), repeat=2):
        for rel in ("to the left of", "above"):
            boxes = [[10.0, 10.0, 30.0, 30.0], [50.0, 50.0, 70.0, 70.0]]
            outs = [
                {
                    "boxes": torch.tensor(boxes, dtype=torch.float32),
                    "scores": torch.tensor([s1, s2], dtype=torch.float32),
                    "labels": torch.tensor([0, 1]),
                }
            ]
            got = ns["process_detection"](outs, "dog", "cat", rel)
            cases.append(
                {
                    "obj1": "dog",
                    "obj2": "cat",
                    "relation": rel,
                    "detections": {
                        "dog": [boxes[0] + [float(s1)]],
                        "cat": [boxes[1] + [float(s2)]],
                    },
                    "recall": int(got["recall"]),
                    "sra": int(got["sra"]),
                }
            )
    doc = {
        "_about": (
            "VISOR's official process_detection (text2image_realtime_evaluate.ipynb, run verbatim) "
            "on float32 torch scores at and around float32(0.1): recall and sra per case. "
            "Detections as {class: [[x1, y1, x2, y2, score]]} with the float32 values."
        ),
        "source_repo": "https://github.com/microsoft/VISOR",
        "source_commit": a.commit or git_head(a.official),
        "command": "python scripts/record_official_fixtures.py visor_float32 --official <checkout>",
        "versions": versions("torch", "numpy"),
        "cases": cases,
    }
    OUT.write_text(json.dumps(doc, indent=0) + "\n")
    return OUT
