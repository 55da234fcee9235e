"""CMMD: google-research ``cmmd`` run under JAX: ``distance.mmd`` on fixed embeddings, and
``io_util.compute_embeddings_for_dir`` with ``embedding.ClipEmbeddingModel`` (scenic's CLIP
``vit_l14_336px``) on seeded random CLIP weights, on scikit-image photos.

    python scripts/record_official_fixtures.py cmmd_official --jax-python PY \\
        --cmmd DIR --scenic DIR [--cmmd-commit SHA]

``PY`` is a Python with jax, flax and tensorflow (the reference's requirements); ``--cmmd`` the
folder holding the ``cmmd`` package (google-research/google-research's ``cmmd/``), ``--scenic`` a
google-research/scenic checkout. The random weights (evalkit.fid.random_weights.clip_state, in
OpenAI's key layout, plus ``logit_scale``) are written as the ``<download_dir>/vit_l14_336px.npy``
that scenic's ``load_model_vars`` reads and converts itself (HOME points at a temporary folder).
Fewer blocks: scenic's ``CONFIGS['vit_l14_336px']['vision_num_layers']`` is set before the model
is built.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import tempfile
from pathlib import Path

from official_fixtures.common import FIXTURES, git_head, versions

OUT = FIXTURES / "cmmd_official.npz"

# Runs under the JAX Python: argv = work folder, number of vision blocks, x64 flag.
DRIVER = r"""
import json, os, sys
import numpy as np
work, layers = sys.argv[1], int(sys.argv[2])
import jax
from scenic.projects.baselines.clip import model as clip
clip.CONFIGS["vit_l14_336px"]["vision_num_layers"] = layers
from cmmd import distance, embedding, io_util
emb = io_util.compute_embeddings_for_dir(
    os.path.join(work, "photos"), embedding.ClipEmbeddingModel(), batch_size=2
)
np.save(os.path.join(work, f"embeddings_{layers}.npy"), np.asarray(emb, np.float32))
sets = np.load(os.path.join(work, "sets.npz"))
out = {"float32": {}, "float64": {}}
for name in ("ab", "aa", "ac"):
    out["float32"][name] = float(distance.mmd(sets[name[0]], sets[name[1]]))
jax.config.update("jax_enable_x64", True)
for name in ("ab", "aa", "ac"):
    out["float64"][name] = float(
        distance.mmd(sets[name[0]].astype(np.float64), sets[name[1]].astype(np.float64))
    )
json.dump(out, open(os.path.join(work, "mmd.json"), "w"))
import flax, tensorflow
print(json.dumps({"jax": jax.__version__, "flax": flax.__version__,
                  "tensorflow": tensorflow.__version__, "numpy": np.__version__}))
"""


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--jax-python", type=Path, required=True, help="Python with jax, flax, TF")
    p.add_argument("--cmmd", type=Path, required=True, help="folder holding the cmmd package")
    p.add_argument("--scenic", type=Path, required=True, help="google-research/scenic checkout")
    p.add_argument("--cmmd-commit", help="commit the cmmd files were read at")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--layers", type=int, nargs="+", default=[2, 24])


def embedding_sets(seed: int) -> dict:
    """Fixed float32 embedding sets: a (300) and b (200) unit vectors around two directions,
    c (250) = a's direction with more spread; 768-d like CLIP ViT-L/14."""
    import numpy as np

    rng = np.random.default_rng(seed)

    def unit(centre: np.ndarray, n: int, spread: float) -> np.ndarray:
        x = centre + spread * rng.standard_normal((n, 768))
        return (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32)

    c1, c2 = rng.standard_normal(768), rng.standard_normal(768)
    c1, c2 = c1 / np.linalg.norm(c1), c2 / np.linalg.norm(c2)
    return {"a": unit(c1, 300, 0.03), "b": unit(c1 + 0.5 * c2, 200, 0.03), "c": unit(c1, 250, 0.05)}


def record(a: argparse.Namespace) -> Path:
    import os

    import numpy as np
    from PIL import Image

    from evalkit.fid.random_weights import clip_state
    from official_fixtures.fd_dinov2 import PHOTOS, photos

    arrays: dict[str, np.ndarray] = {}
    info: dict = {}
    with tempfile.TemporaryDirectory() as work:
        (Path(work) / "photos").mkdir()
        for i, photo in enumerate(photos()):
            Image.fromarray(photo).save(Path(work) / "photos" / f"{i}.png")
        sets = embedding_sets(a.seed)
        np.savez(Path(work) / "sets.npz", **sets)
        for layers in a.layers:
            state = {k: v.numpy() for k, v in clip_state(a.seed, layers).items()}
            state["logit_scale"] = np.array(np.log(100.0), np.float32)
            ckpt = Path(work) / "home" / ".cache" / "scenic" / "clip"
            ckpt.mkdir(parents=True, exist_ok=True)
            np.save(ckpt / "vit_l14_336px.npy", np.array(state, dtype=object), allow_pickle=True)
            env = dict(
                os.environ,
                HOME=str(Path(work) / "home"),
                PYTHONPATH=f"{a.cmmd}:{a.scenic}",
                JAX_PLATFORMS="cpu",
            )
            run = subprocess.run(
                [str(a.jax_python), "-c", DRIVER, work, str(layers)],
                env=env,
                capture_output=True,
                text=True,
            )
            if run.returncode:
                raise SystemExit(f"reference run failed:\n{run.stderr[-4000:]}")
            info = json.loads(run.stdout.strip().splitlines()[-1])
            arrays[f"embeddings_layers{layers}"] = np.load(Path(work) / f"embeddings_{layers}.npy")
        mmd = json.loads((Path(work) / "mmd.json").read_text())
    np.savez_compressed(OUT, **arrays)
    meta = {
        "_about": (
            "google-research cmmd, unmodified, under JAX on CPU. embeddings_layers<n>: "
            "io_util.compute_embeddings_for_dir(folder, embedding.ClipEmbeddingModel(), "
            f"batch_size=2) over skimage.data {', '.join(PHOTOS)} saved as PNG 0..3 (file "
            "order), scenic CLIP vit_l14_336px with n vision blocks loaded by scenic's "
            "load_model_vars from evalkit.fid.random_weights.clip_state(seed, n) (+ logit_scale); "
            "float32 (4, 768), L2-normalised. 'mmd': distance.mmd on the sets of "
            "scripts/official_fixtures/cmmd_official.py:embedding_sets(seed) ('ab' = mmd(a, b)), "
            "as the reference runs it (float32) and with jax_enable_x64 on float64 inputs."
        ),
        "source_repos": {
            "cmmd": "https://github.com/google-research/google-research (cmmd/)",
            "scenic": "https://github.com/google-research/scenic",
        },
        "source_commits": {
            "cmmd": a.cmmd_commit or git_head(a.cmmd),
            "scenic": git_head(a.scenic),
        },
        "command": (
            "python scripts/record_official_fixtures.py cmmd_official --jax-python <python> "
            "--cmmd <folder with cmmd/> --scenic <checkout> --cmmd-commit <sha>"
        ),
        "seed": a.seed,
        "layers": a.layers,
        "mmd": mmd,
        "versions": {**versions("torch", "numpy", "pillow", "open_clip_torch"), **info},
        "device": "cpu",
    }
    (FIXTURES / "cmmd_official.json").write_text(json.dumps(meta, indent=1) + "\n")
    return OUT
