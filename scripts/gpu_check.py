"""GPU check: rFID of taef2 on N real-photo crops, fp32 vs bf16, end to end and by stage.

Driven by scripts/gpu_check.sh (read it for what must be on the machine). Writes every figure
to ``<out>/gpu_check.json`` and a markdown summary ``<out>/perf.md``; measures, never asserts.

    python scripts/gpu_check.py --n 5000 --out "$OUT"            # on the GPU machine
    python scripts/gpu_check.py --n 16 --device cpu --out /tmp/gc  # dry run on CPU

Stages are timed apart from the run (decode: DataLoader workers reading and resizing the
JPEGs; model: taef2 reconstruct on the device; Inception: features of uint8 batches on the
device; pixel metrics: PSNR/SSIM on the CPU), then end to end through ``evalkit.run``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np
import torch

TIERS = {"fp32": None, "bf16": torch.bfloat16, "fp16": torch.float16}
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
    "brick",
    "grass",
    "gravel",
    "clock",
    "page",
    "moon",
    "text",
    "cell",
    "logo",
)


def _write_crops(args: tuple[Path, int, int]) -> None:
    """Crops of scikit-image's bundled photos, saved as ImageNet-like JPEGs (about 500x375)."""
    from PIL import Image
    from skimage import data

    folder, start, stop = args
    cache: dict[str, np.ndarray] = {}
    for i in range(start, stop):
        rng = np.random.default_rng(i)
        name = PHOTOS[i % len(PHOTOS)]
        if name not in cache:
            im = np.asarray(getattr(data, name)())
            cache[name] = np.stack([im] * 3, -1) if im.ndim == 2 else im[..., :3]
        im = cache[name]
        h, w = im.shape[:2]
        side = int(min(h, w) * rng.uniform(0.4, 1.0))
        y, x = rng.integers(0, h - side + 1), rng.integers(0, w - side + 1)
        crop = np.ascontiguousarray(im[y : y + side, x : x + side])
        if rng.random() < 0.5:
            crop = np.ascontiguousarray(crop[:, ::-1])
        size = (500, 375) if rng.random() < 0.7 else (375, 500)
        Image.fromarray(crop).resize(size, Image.Resampling.BICUBIC).save(
            folder / f"crop_{i:06d}.JPEG", quality=90
        )


def make_images(folder: Path, n: int, jobs: int) -> float:
    folder.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    step = max(1, -(-n // jobs))
    with ProcessPoolExecutor(jobs) as pool:
        list(pool.map(_write_crops, [(folder, s, min(n, s + step)) for s in range(0, n, step)]))
    return time.perf_counter() - t0


class GpuSampler:
    """nvidia-smi every 200 ms in the background: utilisation and memory while a stage runs."""

    def __init__(self) -> None:
        self.samples: list[tuple[float, float]] = []
        self._proc: subprocess.Popen | None = None
        self._thread: threading.Thread | None = None

    def __enter__(self) -> GpuSampler:
        if shutil.which("nvidia-smi"):
            self._proc = subprocess.Popen(
                [
                    "nvidia-smi",
                    "--query-gpu=utilization.gpu,memory.used",
                    "--format=csv,noheader,nounits",
                    "-lms",
                    "200",
                ],
                stdout=subprocess.PIPE,
                text=True,
            )
            self._thread = threading.Thread(target=self._read, daemon=True)
            self._thread.start()
        return self

    def _read(self) -> None:
        assert self._proc is not None and self._proc.stdout is not None
        for line in self._proc.stdout:
            try:
                util, mem = (float(v) for v in line.split(",")[:2])
            except ValueError:
                continue
            self.samples.append((util, mem))

    def __exit__(self, *exc: object) -> None:
        if self._proc is not None:
            self._proc.terminate()
            self._proc.wait()

    def summary(self) -> dict[str, Any]:
        if not self.samples:
            return {
                "gpu_util_mean_pct": None,
                "gpu_util_max_pct": None,
                "gpu_mem_max_mib": None,
                "note": "no nvidia-smi samples",
            }
        util = np.array([s[0] for s in self.samples])
        return {
            "gpu_util_mean_pct": round(float(util.mean()), 1),
            "gpu_util_max_pct": float(util.max()),
            "gpu_mem_max_mib": max(s[1] for s in self.samples),
            "samples": len(util),
        }


def _sync(dev: torch.device) -> None:
    if dev.type == "cuda":
        torch.cuda.synchronize(dev)


def _rate(fn: Any, n_images: int, dev: torch.device, repeat: int) -> float:
    fn()  # warm-up (cuDNN autotune, lazy init)
    _sync(dev)
    t0 = time.perf_counter()
    for _ in range(repeat):
        fn()
    _sync(dev)
    return n_images * repeat / (time.perf_counter() - t0)


def stages(
    folder: Path,
    dev: torch.device,
    batch: int,
    workers: int,
    repeat: int,
    model_id: str,
    tiers: list[str],
) -> dict[str, Any]:
    """Images/s of each stage alone, fp32 and bf16 where the stage runs on the device."""
    from torch.utils.data import DataLoader

    from evalkit import catalog
    from evalkit.benchmarks.imagenet_fid import build
    from evalkit.fid.inception import shared_inception
    from evalkit.metrics.pixel import psnr, ssim
    from evalkit.runner import _collate, _Samples

    bench = build("imagenet-rfid", data=str(folder), weights="fid-helper")
    bench.check()
    ids = list(bench.sample_ids())
    loader = DataLoader(
        _Samples(bench, list(range(len(ids))), ids),
        batch_size=batch,
        num_workers=workers,
        collate_fn=_collate,
        pin_memory=dev.type == "cuda",
    )
    t0 = time.perf_counter()
    first = None
    for inputs, items in loader:
        first = first if first is not None else (inputs, items)
    out: dict[str, Any] = {
        "decode_img_s": len(ids) / (time.perf_counter() - t0),
        "decode_workers": workers,
    }
    assert first is not None
    x = first[0].to(dev)
    u8 = torch.stack([it["u8"] for it in first[1]]).to(dev)
    model = catalog.models.build(model_id).to(dev)
    net = shared_inception("fid-helper", str(dev))
    for tier in tiers:
        dtype = TIERS[tier]

        def recon(dtype: Any = dtype) -> None:
            with (
                torch.inference_mode(),
                torch.autocast(dev.type, dtype=dtype, enabled=dtype is not None),
            ):
                model.reconstruct(x)

        out[f"model_{tier}_img_s"] = _rate(recon, len(x), dev, repeat)
    out["inception_fp32_img_s"] = _rate(lambda: net(u8), len(u8), dev, repeat)
    a = first[1][0]["u8"].permute(1, 2, 0).numpy()
    t0 = time.perf_counter()
    for it in first[1]:
        b = it["u8"].permute(1, 2, 0).numpy()
        psnr(a, b)
        ssim(a, b)
    out["pixel_metrics_cpu_img_s_one_thread"] = len(first[1]) / (time.perf_counter() - t0)
    return out


def end_to_end(
    folder: Path,
    dev: torch.device,
    batch: int,
    workers: int,
    precision: str,
    out_dir: Path,
    label: str,
    model_id: str,
) -> dict[str, Any]:
    import evalkit

    if dev.type == "cuda":
        torch.cuda.reset_peak_memory_stats(dev)
    with GpuSampler() as gpu:
        t0 = time.perf_counter()
        result = evalkit.run(
            "imagenet-rfid",
            model_id,
            options={"data": str(folder), "weights": "fid-helper"},
            batch_size=batch,
            workers=workers,
            device=str(dev),
            precision=precision,
            out_dir=out_dir,
        )
        wall = time.perf_counter() - t0
    rows = result.rows.set_index("metric")["value"].to_dict()
    n = len(result.samples)
    return {
        "run": label,
        "precision": precision,
        "n": n,
        "wall_s": round(wall, 2),
        "img_s": float(f"{n / wall:.4g}"),
        "rfid": rows.get("rfid"),
        "psnr": rows.get("psnr"),
        "ssim": rows.get("ssim"),
        "peak_mem_mib": (
            torch.cuda.max_memory_allocated(dev) / 2**20 if dev.type == "cuda" else None
        ),
        **gpu.summary(),
    }


def tokbench_mini(
    dev: torch.device, batch: int, out_dir: Path, limit: int | None, model_id: str, tiers: list[str]
) -> dict[str, Any]:
    import evalkit

    found: dict[str, Any] = {}
    for tier in tiers:
        try:
            with GpuSampler() as gpu:
                t0 = time.perf_counter()
                res = evalkit.run(
                    "tokbench-mini",
                    model_id,
                    batch_size=batch,
                    device=str(dev),
                    precision=tier,
                    out_dir=out_dir,
                    workers=0,
                    options={"limit": limit},
                )
                wall = time.perf_counter() - t0
        except Exception as exc:  # noqa: BLE001 - judges may be absent there: say so, go on
            return {"skipped": f"{type(exc).__name__}: {exc}"[:500]}
        vals = {f"{r.metric}/{r.bin}": r.value for r in res.rows.itertuples()}
        n = len(set(res.samples["sample_id"]))
        found[tier] = {
            "wall_s": round(wall, 2),
            "img_s": float(f"{n / wall:.4g}"),
            "values": vals,
            **gpu.summary(),
        }
    if "fp32" in found and "bf16" in found:
        deltas = {
            k: found["bf16"]["values"][k] - v
            for k, v in found["fp32"]["values"].items()
            if k in found["bf16"]["values"]
        }
        found["max_abs_delta_bf16_vs_fp32"] = max((abs(d) for d in deltas.values()), default=None)
    return found


def geneval_judges() -> dict[str, Any]:
    from evalkit import catalog

    if "geneval" not in catalog.benchmarks:
        return {"skipped": "no geneval benchmark in this checkout"}
    return {"skipped": "GenEval judges need a generator; not timed by this script yet"}


def versions(dev: torch.device) -> dict[str, Any]:
    import evalkit

    return {
        "date_utc": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "gpu": torch.cuda.get_device_name(dev)
        if dev.type == "cuda"
        else f"none (cpu: {platform.processor() or platform.machine()}, {os.cpu_count()} cores)",
        "torch": torch.__version__,
        "cuda": torch.version.cuda,
        "cudnn": torch.backends.cudnn.version() if dev.type == "cuda" else None,
        "python": sys.version.split()[0],
        "evalkit": evalkit.__version__,
        "git_sha": subprocess.run(
            ["git", "rev-parse", "HEAD"], capture_output=True, text=True
        ).stdout.strip(),
    }


def markdown(report: dict[str, Any], command: str) -> str:
    v = report["versions"]
    lines = [
        f"# GPU check ({v['date_utc']})",
        "",
        f"Command: `{command}`",
        "",
        f"GPU: {v['gpu']}; torch {v['torch']}, CUDA {v['cuda']}, evalkit {v['evalkit']} "
        f"({v['git_sha'][:10]})",
        "",
        f"## rFID of {report['model']}, end to end (evalkit.run)",
        "",
        "| run | precision | n | images/s | wall s | rFID | PSNR | GPU util mean % | peak MiB |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for r in report["end_to_end"]:
        lines.append(
            f"| {r['run']} | {r['precision']} | {r['n']} | {r['img_s']} | {r['wall_s']} "
            f"| {r['rfid']} | {r['psnr']} | {r['gpu_util_mean_pct']} | "
            f"{r['peak_mem_mib']} |"
        )
    lines += [
        "",
        f"rFID delta bf16 - fp32: {report['rfid_delta_bf16_vs_fp32']}",
        "",
        "## Stages alone (images/s)",
        "",
    ]
    lines += [
        f"- {k}: {float(f'{val:.4g}') if isinstance(val, float) else val}"
        for k, val in report["stages"].items()
    ]
    lines += [
        "",
        f"## TokBench-mini ({report['model']}, judges on CPU)",
        "",
        "```",
        json.dumps(report["tokbench_mini"], indent=1)[:3000],
        "```",
        "",
        f"GenEval judges: {report['geneval']}",
        "",
    ]
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--n", type=int, default=5000)
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--device", default=None)
    ap.add_argument("--batch-size", type=int, default=64)
    ap.add_argument("--workers", type=int, default=None)
    ap.add_argument("--repeat", type=int, default=10, help="batches per stage timing")
    ap.add_argument("--model", default="taef2", help="tokenizer under test (dry runs: jpeg-q50)")
    ap.add_argument("--tiers", default="fp32,bf16")
    ap.add_argument("--skip-tokbench", action="store_true")
    ap.add_argument("--tokbench-limit", type=int, default=None, help="first N samples (dry run)")
    args = ap.parse_args()
    dev = torch.device(args.device or ("cuda" if torch.cuda.is_available() else "cpu"))
    workers = (
        args.workers if args.workers is not None else max(0, min(12, (os.cpu_count() or 1) - 2))
    )
    args.out.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="gpu-check-"))
    os.environ.setdefault("EVALKIT_CACHE_DIR", str(work / "cache"))
    tiers = args.tiers.split(",")
    report: dict[str, Any] = {
        "versions": versions(dev),
        "n": args.n,
        "model": args.model,
        "batch_size": args.batch_size,
        "workers": workers,
    }
    folder = work / "val"
    report["make_images_s"] = round(make_images(folder, args.n, max(1, workers)), 1)
    print(f"made {args.n} crops in {report['make_images_s']} s", flush=True)
    report["stages"] = stages(folder, dev, args.batch_size, workers, args.repeat, args.model, tiers)
    print(json.dumps(report["stages"]), flush=True)
    runs = [(f"{tiers[0]}, reference statistics computed (cold)", tiers[0], "cold")]
    runs += [(f"{t}, reference statistics cached", t, "warm") for t in tiers]
    report["end_to_end"] = []
    for label, precision, key in runs:
        r = end_to_end(
            folder,
            dev,
            args.batch_size,
            workers,
            precision,
            work / f"runs-{key}",
            label,
            args.model,
        )
        print(json.dumps(r), flush=True)
        report["end_to_end"].append(r)
    warm = {r["precision"]: r["rfid"] for r in report["end_to_end"][1:]}
    report["rfid_delta_bf16_vs_fp32"] = (
        warm["bf16"] - warm["fp32"] if None not in (warm.get("bf16"), warm.get("fp32")) else None
    )
    report["tokbench_mini"] = (
        {"skipped": "--skip-tokbench"}
        if args.skip_tokbench
        else tokbench_mini(dev, 16, work / "tokbench", args.tokbench_limit, args.model, tiers)
    )
    report["geneval"] = geneval_judges()
    command = " ".join(["python", *sys.argv])
    (args.out / "gpu_check.json").write_text(json.dumps(report, indent=2, default=str))
    (args.out / "perf.md").write_text(markdown(report, command))
    print(markdown(report, command))
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
