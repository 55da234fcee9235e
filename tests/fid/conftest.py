"""Shared fixtures: real photos (skimage.data crops) and one Inception network per session."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest

PHOTOS = (
    "astronaut",
    "chelsea",
    "coffee",
    "rocket",
    "cat",
    "hubble_deep_field",
    "immunohistochemistry",
    "retina",
    "colorwheel",
    "camera",
    "coins",
    "moon",
    "brick",
    "grass",
    "gravel",
    "clock",
    "page",
    "text",
    "cell",
    "logo",
)


def real_images(n: int, size: int = 96, seed: int = 0) -> np.ndarray:
    """``n`` uint8 HxWx3 crops of skimage's bundled photos (real image statistics, offline)."""
    from PIL import Image
    from skimage import data

    rng = np.random.default_rng(seed)
    out = []
    i = 0
    while len(out) < n:
        name = PHOTOS[i % len(PHOTOS)]
        im = np.asarray(getattr(data, name)())
        if im.ndim == 2:
            im = np.stack([im] * 3, axis=-1)
        im = im[..., :3]
        h, w = im.shape[:2]
        side = int(min(h, w) * rng.uniform(0.5, 1.0))
        y, x = rng.integers(0, h - side + 1), rng.integers(0, w - side + 1)
        crop = Image.fromarray(np.ascontiguousarray(im[y : y + side, x : x + side]))
        out.append(np.asarray(crop.resize((size, size), Image.BICUBIC)))
        i += 1
    return np.stack(out)


def jpeg(images: np.ndarray, quality: int = 10) -> np.ndarray:
    from PIL import Image

    out = []
    for im in images:
        buf = io.BytesIO()
        Image.fromarray(im).save(buf, "JPEG", quality=quality)
        out.append(np.asarray(Image.open(buf).convert("RGB")))
    return np.stack(out)


def write_folder(images: np.ndarray, folder: Path) -> Path:
    from PIL import Image

    folder.mkdir(parents=True, exist_ok=True)
    for i, im in enumerate(images):
        Image.fromarray(im).save(folder / f"{i:03d}.png")
    return folder


@pytest.fixture(scope="session")
def fid_cache_env(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A private cache root for the whole session (converted weights are built once)."""
    import os

    root = tmp_path_factory.mktemp("evalkit-cache")
    os.environ["EVALKIT_CACHE_DIR"] = str(root)
    return root


@pytest.fixture(scope="session")
def net(fid_cache_env: Path):
    from evalkit.fid.inception import shared_inception

    return shared_inception("fid-helper", "cpu")


@pytest.fixture(scope="session")
def make_photos():
    """The helpers, as a fixture (tests run with --import-mode=importlib: no conftest import)."""
    return real_images, jpeg, write_folder


@pytest.fixture(scope="session")
def photos() -> np.ndarray:
    return real_images(16, 96)


@pytest.fixture(scope="session")
def folders(tmp_path_factory: pytest.TempPathFactory, photos: np.ndarray) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("fid-folders")
    return write_folder(photos, root / "a"), write_folder(jpeg(photos, 10), root / "b")


@pytest.fixture
def random_store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A store holding seeded random DINOv2 ViT-L/14 and CLIP ViT-L/14@336 weights (2 blocks
    each) where the loaders look for the real ones; private cache; fresh shared networks."""
    import os

    from safetensors.torch import save_file

    from evalkit.fid import cmmd, dinov2, spaces
    from evalkit.fid.random_weights import clip_state, dinov2_state

    store = tmp_path / "store"
    for wf, state in ((dinov2.WEIGHTS, dinov2_state(0, 2)), (cmmd.WEIGHTS, clip_state(0, 2))):
        path = store / wf.store_path
        path.parent.mkdir(parents=True)
        save_file({k: v.contiguous() for k, v in state.items()}, str(path))
    existing = os.environ.get("EVALKIT_STORE", "")
    monkeypatch.setenv("EVALKIT_STORE", os.pathsep.join(p for p in (str(store), existing) if p))
    monkeypatch.setenv("EVALKIT_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setattr(spaces, "_shared", {})
    return store
