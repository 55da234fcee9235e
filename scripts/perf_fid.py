"""rFID speed, side by side: evalkit vs the usual workflow, same machine, same run, same weights.

Usual workflow: reconstruct N real images, write originals and reconstructions as PNG folders,
then torch-fidelity ``calculate_metrics`` on the two folders (its cache off when cold, its
name-keyed cache on when warm). evalkit: reconstruct in memory and stream uint8 batches through
one Inception pass (originals' statistics from the content-keyed cache when warm). Prints both
ratios and the share of evalkit's time spent in Inception forward passes. Speed is reported as
ratios only; nothing here asserts a timing.

    python scripts/perf_fid.py --n 64 [--model jpeg-q50] [--device cpu]
"""

from __future__ import annotations

import argparse
import os
import shutil
import tempfile
import time
from pathlib import Path

import numpy as np
import torch


def real_images(n: int, size: int = 256) -> np.ndarray:
    """n uint8 crops of scikit-image's bundled photos (offline, real statistics)."""
    from PIL import Image
    from skimage import data

    names = [
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
        "brick",
        "grass",
        "gravel",
        "clock",
        "page",
    ]
    rng = np.random.default_rng(0)
    out = []
    for i in range(n):
        im = np.asarray(getattr(data, names[i % len(names)])())
        im = np.stack([im] * 3, -1) if im.ndim == 2 else im[..., :3]
        h, w = im.shape[:2]
        side = int(min(h, w) * rng.uniform(0.5, 1.0))
        y, x = rng.integers(0, h - side + 1), rng.integers(0, w - side + 1)
        crop = Image.fromarray(np.ascontiguousarray(im[y : y + side, x : x + side]))
        out.append(np.asarray(crop.resize((size, size), Image.Resampling.BICUBIC)))
    return np.stack(out)


def make_codec(model: str):
    """The model under test, from evalkit's catalog (e.g. jpeg-q50, taef2)."""
    from evalkit.catalog import models

    tok = models.build(model)
    return lambda x: tok.reconstruct(x).clamp(0, 1), model


def evalkit_rfid(orig: np.ndarray, codec, batch: int | None, device: str, cache_dir: Path) -> dict:
    from evalkit.fid.api import LazyNet, Side, side_stats
    from evalkit.fid.refcache import RefCache
    from evalkit.fid.stats import fid_from_stats

    t0 = time.perf_counter()
    net = LazyNet("auto", device)
    ref = Side("originals", array=orig, manifest="perf-originals:" + str(orig.shape))
    side_stats(ref, net, keep_features=False, cache=RefCache(cache_dir), batch_size=batch)
    recon = []
    chunk = batch or 32  # codec chunking only; not an Inception batch
    for i in range(0, len(orig), chunk):
        x = torch.from_numpy(orig[i : i + chunk]).permute(0, 3, 1, 2).float() / 255
        r = codec(x).mul(255).round().to(torch.uint8).permute(0, 2, 3, 1).numpy()
        recon.append(r)
    fake = Side("recon", array=np.concatenate(recon))
    side_stats(fake, net, keep_features=False, cache=None, batch_size=batch)
    value = fid_from_stats(fake.stats, ref.stats)
    total = time.perf_counter() - t0
    inception = ref.seconds_inception + fake.seconds_inception
    return {"fid": value, "seconds": total, "inception": inception, "cache": ref.cache}


def usual_rfid(
    orig: np.ndarray, codec, batch: int | None, device: str, work: Path, warm: bool
) -> dict:
    import torch_fidelity
    from PIL import Image

    from evalkit.fid.inception import InceptionFeatures

    t0 = time.perf_counter()
    a, b = work / "orig", work / "recon"
    if not warm:
        shutil.rmtree(work, ignore_errors=True)
        a.mkdir(parents=True)
        for i, im in enumerate(orig):
            Image.fromarray(im).save(a / f"{i:05d}.png")
    shutil.rmtree(b, ignore_errors=True)
    b.mkdir(parents=True)
    chunk = batch or 32  # codec chunking only; not an Inception batch
    for i in range(0, len(orig), chunk):
        x = torch.from_numpy(orig[i : i + chunk]).permute(0, 3, 1, 2).float() / 255
        r = codec(x).mul(255).round().to(torch.uint8).permute(0, 2, 3, 1).numpy()
        for j, im in enumerate(r):
            Image.fromarray(im).save(b / f"{i + j:05d}.png")
    path = InceptionFeatures.pick("auto")[0]
    m = torch_fidelity.calculate_metrics(
        input1=str(b),
        input2=str(a),
        fid=True,
        cuda=device.startswith("cuda"),
        verbose=False,
        feature_extractor="inception-v3-compat",
        feature_extractor_weights_path=str(path),
        **({"batch_size": batch} if batch else {}),
        cache=warm,
        input2_cache_name="perf-fid-originals" if warm else None,
        cache_root=str(work / "tf-cache"),
        save_cpu_ram=True,
    )
    return {"fid": m["frechet_inception_distance"], "seconds": time.perf_counter() - t0}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=64)
    ap.add_argument(
        "--batch",
        type=int,
        default=None,
        help="one Inception batch for both (default: each tool's own default)",
    )
    ap.add_argument("--model", default="jpeg-q50")
    ap.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    args = ap.parse_args()
    orig = real_images(args.n)
    codec, codec_name = make_codec(args.model)
    with tempfile.TemporaryDirectory() as tmp:
        tmp_path = Path(tmp)
        os.environ.setdefault("EVALKIT_CACHE_DIR", str(tmp_path / "evalkit-cache"))
        from evalkit.fid.inception import shared_inception

        shared_inception("auto", args.device)  # load once, outside both timings
        res = {
            "usual cold": usual_rfid(orig, codec, args.batch, args.device, tmp_path / "u", False),
            "evalkit cold": evalkit_rfid(orig, codec, args.batch, args.device, tmp_path / "c"),
        }
        usual_rfid(orig, codec, args.batch, args.device, tmp_path / "u", True)  # fill its cache
        res["usual warm"] = usual_rfid(orig, codec, args.batch, args.device, tmp_path / "u", True)
        res["evalkit warm"] = evalkit_rfid(orig, codec, args.batch, args.device, tmp_path / "c")
    batch = args.batch or "each tool's default (evalkit 8 CPU / 64 GPU, torch-fidelity 64)"
    print(f"rFID perf: n={args.n} codec={codec_name} device={args.device} batch={batch}")
    for k, v in res.items():
        extra = ""
        if "inception" in v:
            share = v["inception"] / v["seconds"]
            extra = f"  inception {v['inception']:.1f}s ({share:.0%}) ref cache {v['cache']}"
        print(f"  {k:<13} {v['seconds']:7.1f}s  FID {v['fid']:.4f}{extra}")
    cold = res["usual cold"]["seconds"] / res["evalkit cold"]["seconds"]
    warm = res["usual warm"]["seconds"] / res["evalkit warm"]["seconds"]
    print(f"speed-up cold: {cold:.2f}x (goal >= 1.3x)   warm: {warm:.2f}x (goal >= 1.9x)")
    print(
        f"FID agreement: |evalkit - torch-fidelity| = "
        f"{abs(res['evalkit cold']['fid'] - res['usual cold']['fid']):.2e}"
    )


if __name__ == "__main__":
    main()
