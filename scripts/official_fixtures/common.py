"""Helpers shared by every fixture recorder (scripts/official_fixtures/<name>.py)."""

from __future__ import annotations

import json
import platform
import subprocess
from importlib.metadata import version
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    import torch

FIXTURES = Path(__file__).resolve().parents[2] / "tests" / "fixtures"

# The per-image score recorders' inputs (clipscore, pickscore, hpsv2): scikit-image photos of
# several sizes and aspect ratios, each with a prompt about it.
SCORE_PHOTOS = ("astronaut", "chelsea", "coffee", "rocket", "camera")
SCORE_PROMPTS = (
    "an astronaut in a spacesuit next to a flag",
    "a photo of a cat",
    "a cup of coffee on a saucer",
    "a rocket on a launch pad at night",
    "a man with a camera on a tripod",
)
# longer than CLIP's 77 tokens: how each score truncates shows
LONG_PROMPT = "a logo " + " and ".join(
    f"a {c} square" for c in ["red", "green", "blue", "yellow"] * 6
)


def skimage_photo(name: str) -> object:
    """``skimage.data.<name>()`` as a PIL image (mode as stored: L, RGB or RGBA)."""
    from PIL import Image
    from skimage import data

    return Image.fromarray(getattr(data, name)())


def git_head(folder: Path) -> str:
    """The commit of a git checkout, or "unknown" (pass --commit then)."""
    try:
        out = subprocess.run(
            ["git", "-C", str(folder), "rev-parse", "HEAD"],
            check=True,
            capture_output=True,
            text=True,
        )
        return out.stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def versions(*names: str) -> dict[str, str]:
    """Python and each named distribution's version, as recorded beside a fixture."""
    out = {"python": platform.python_version()}
    for n in names:
        try:
            out[n] = version(n)
        except Exception:  # noqa: BLE001 - a missing package is recorded as such
            out[n] = "not installed"
    return out


def dump_compact(doc: dict) -> str:
    """JSON with one line per state-dict key (``"name": [shape]``), for readable diffs."""
    text = json.dumps(doc, indent=1)
    out, buf = [], None
    for line in text.splitlines():  # fold the shape lists json.dumps spreads over many lines
        stripped = line.strip()
        if buf is not None:
            buf.append(stripped)
            if stripped.startswith("]"):
                out.append(
                    buf[0] + " ".join(buf[1:-1]).replace(",", ", ").replace(",  ", ", ") + buf[-1]
                )
                buf = None
            continue
        if stripped.endswith("[") and stripped.startswith('"'):
            buf = [line]
            continue
        out.append(line)
    folded = "\n".join(out) + "\n"
    assert json.loads(folded) == json.loads(text)
    return folded


def randomize_(module, seed: int, scale: float = 0.05) -> None:  # noqa: ANN001 - torch module
    """Seeded random values for every floating parameter and buffer of ``module`` (in name
    order), so normalisation scales, biases and running statistics are not the identity that
    default initialisation leaves: a parity test then checks every tensor's role. Variances
    (``running_var``) stay positive."""
    import torch

    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, t in sorted(module.state_dict(keep_vars=True).items()):
            if not t.is_floating_point():
                continue
            noise = torch.randn(t.shape, generator=gen, dtype=torch.float32)
            if name.endswith("running_var"):
                t.copy_(1.0 + noise.abs() * 0.5)
            elif t.dim() <= 1:  # norm scales and biases: around 1 and 0
                base = 1.0 if name.endswith("weight") or name.endswith("gamma") else 0.0
                t.copy_(base + noise * 0.1)
            else:
                fan_in = max(1, t[0].numel())
                t.copy_(noise * (scale if fan_in <= 1 else fan_in**-0.5))


PHOTOS = ("astronaut", "chelsea", "coffee")  # scikit-image's bundled photos


def photos(size: int, names: tuple[str, ...] = PHOTOS) -> np.ndarray:
    """(N, size, size, 3) uint8: each photo's centre square of side k * size, every k-th pixel
    (no resampling library involved, so the inputs are exactly reproducible)."""
    from skimage import data

    out = []
    for name in names:
        im = getattr(data, name)()
        k = min(im.shape[:2]) // size
        side = k * size
        top, left = (im.shape[0] - side) // 2, (im.shape[1] - side) // 2
        out.append(im[top : top + side : k, left : left + side : k, :3])
    return np.ascontiguousarray(np.stack(out))


def load_seeded(model: torch.nn.Module, seed: int) -> dict[str, list[int]]:
    """Give the official ``model`` evalkit's seeded random weights (strictly, through its own
    ``load_state_dict``); returns its state dict's names and shapes, in order, for the fixture
    (the test regenerates the same weights from them and the seed)."""
    from evalkit.models.weights import seeded_state_dict

    shapes = {k: list(t.shape) for k, t in model.state_dict().items()}
    model.load_state_dict(seeded_state_dict(shapes, seed), strict=True)
    return shapes


def to_float(images: np.ndarray, signed: bool) -> torch.Tensor:
    """uint8 NHWC -> float32 NCHW in [0, 1] (or [-1, 1] when ``signed``)."""
    import torch

    x = torch.from_numpy(images).permute(0, 3, 1, 2).float() / 255.0
    return 2 * x - 1 if signed else x


def save_fixture(stem: str, arrays: dict[str, np.ndarray], meta: dict) -> Path:
    """``tests/fixtures/<stem>.npz`` (the arrays, compressed) and ``<stem>.json`` (``meta``, with
    one line per state-dict key); returns the npz path."""
    FIXTURES.mkdir(parents=True, exist_ok=True)
    out = FIXTURES / f"{stem}.npz"
    np.savez_compressed(out, **arrays)
    meta = {**meta, "arrays": {k: [str(v.dtype), list(v.shape)] for k, v in arrays.items()}}
    (FIXTURES / f"{stem}.json").write_text(dump_compact(meta))
    return out


def vq_arrays(
    prefix: str, tiny: bool, flat_tokens: torch.Tensor, features: torch.Tensor, recon: torch.Tensor
) -> dict[str, np.ndarray]:
    """A 2D VQ tokenizer's recorded outputs: tokens as (B, h, w) from the features' grid; the
    features and every reconstruction for the narrow network, only the first photo's
    reconstruction for the real one (its tokens pin it down; the fixture stays small)."""
    b, _, h, w = features.shape
    out = {
        f"{prefix}.tokens": flat_tokens.reshape(b, h, w).numpy(),
        f"{prefix}.reconstruction": (recon if tiny else recon[:1]).numpy(),
    }
    if tiny:
        out[f"{prefix}.features"] = features.numpy()
    return out


def put_index_outputs(
    arrays: dict[str, np.ndarray],
    variant: str,
    images: np.ndarray,
    outputs: tuple[torch.Tensor, torch.Tensor, torch.Tensor],
) -> None:
    """An index tokenizer's recorded arrays for one variant: the photos, the tokens, the decode
    before its clamp, and the encoder's features for the narrow (``tiny``) network only."""
    features, tokens, decoded = outputs
    arrays[f"{variant}.images"] = images
    arrays[f"{variant}.tokens"] = tokens.numpy()
    arrays[f"{variant}.decoded"] = decoded.numpy()
    if variant == "tiny":
        arrays[f"{variant}.features"] = features.numpy()


def write_fixture(name: str, doc: dict, arrays: dict) -> Path:
    """``tests/fixtures/<name>.json`` (indented) and its arrays, if any, in ``<name>.npz``."""
    import numpy as np

    FIXTURES.mkdir(parents=True, exist_ok=True)
    if arrays:
        np.savez_compressed(FIXTURES / f"{name}.npz", **arrays)
    path = FIXTURES / f"{name}.json"
    path.write_text(json.dumps(doc, indent=1) + "\n")
    return path
