"""GenEval judging speed with the offline judges (YOLOX-Nano + pixels), same images, same run.

Two measurements:
1. ``ratio``: N images scored by ours (the benchmark's batched detector and colour passes) against
   the official structure (one image at a time; for every colour check a fresh 4-worker
   DataLoader over that check's crops, as evaluate_images.py does), each in its own subprocess so
   peak RSS is its own; verdicts must agree.
2. ``full``: ``evalkit run geneval`` over a whole 553 x 4 = 2,212-image folder, wall time.

Images: VISOR's real generated images (shared/offline/images/visor, 128 px) upscaled to 512 px
(SD 1.5's size) and laid out under every official prompt, cycling; verdicts are meaningless,
timing is what counts. Run: ``python scripts/perf_geneval.py [--n 200] [--full]``.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
VISOR = (
    Path(os.environ.get("EVALKIT_TEST_STORE", REPO.parent / "shared" / "offline"))
    / "images"
    / "visor"
)


def make_folder(root: Path, size: int = 512) -> Path:
    """553 prompt folders x 4 images in GenEval's layout (once)."""
    from PIL import Image

    from evalkit.benchmarks.geneval.layout import load_prompts

    if (root / "00552" / "samples" / "00003.png").is_file():
        return root
    sources = sorted(VISOR.glob("*/*.png"))
    if not sources:
        sys.exit(f"no images under {VISOR}")
    for p, meta in enumerate(load_prompts()):
        folder = root / f"{p:05d}"
        (folder / "samples").mkdir(parents=True, exist_ok=True)
        (folder / "metadata.jsonl").write_text(json.dumps(meta))
        for k in range(4):
            src = sources[(4 * p + k) % len(sources)]
            Image.open(src).convert("RGB").resize((size, size), Image.BICUBIC).save(
                folder / "samples" / f"{k:05d}.png"
            )
    return root


def _images(root: Path, n: int) -> list[tuple[int, int, Path]]:
    from evalkit.benchmarks.geneval.layout import load_prompts, scan

    found = scan(root, load_prompts(), 4, allow_missing=False).images
    step = max(1, len(found) // n)  # spread over every task
    return found[::step][:n]


def run_ours(root: Path, n: int, batch: int) -> dict:
    import torch

    from evalkit.benchmarks.geneval.benchmark import GenEval
    from evalkit.benchmarks.geneval.layout import read_image

    bench = GenEval(samples=str(root), detector="yolox-nano", colour="pixels")
    bench.check()
    bench.setup(torch.device("cpu"))
    chosen = _images(root, n)
    t0 = time.perf_counter()
    verdicts = []
    for s in range(0, len(chosen), batch):
        part = chosen[s : s + batch]
        items = [
            {"sample_id": f"{p:05d}/{k:05d}", "prompt_index": p, "image_index": k, "path": str(f)}
            for p, k, f in part
        ]
        out = torch.stack(
            [torch.from_numpy(read_image(f)).permute(2, 0, 1).float() / 255 for _, _, f in part]
        )
        verdicts += [r["correct"] for r in bench.score(items, out).records]
    return {"seconds": time.perf_counter() - t0, "verdicts": verdicts}


def run_official_structure(root: Path, n: int) -> dict:
    """One image at a time; every colour check builds its own 4-worker DataLoader."""
    import numpy as np
    import torch

    from evalkit.benchmarks.geneval.layout import load_prompts, read_image
    from evalkit.benchmarks.geneval.rules import evaluate
    from evalkit.judges.colour import ColourCrop, PixelColour
    from evalkit.judges.yolox import YoloxNano

    detector, namer, prompts = YoloxNano(), PixelColour(), load_prompts()

    class Crops(torch.utils.data.Dataset):
        def __init__(self, image: np.ndarray, name: str, boxes: np.ndarray) -> None:
            self.image, self.name, self.boxes = image, name, boxes

        def __len__(self) -> int:
            return len(self.boxes)

        def __getitem__(self, i: int) -> ColourCrop:
            return ColourCrop(self.image, self.name, self.boxes[i], None)

    t0 = time.perf_counter()
    verdicts = []
    for p, _k, f in _images(root, n):
        image = read_image(f)
        dets = detector.detect([image])[0]

        def colours(name: str, boxes: np.ndarray, _m: object, image: np.ndarray = image) -> list:
            loader = torch.utils.data.DataLoader(
                Crops(image, name, boxes), batch_size=16, num_workers=4, collate_fn=list
            )
            return [c for batch in loader for c in namer.name(batch)]

        verdicts.append(evaluate(prompts[p], dets, None, colours).correct)
    return {"seconds": time.perf_counter() - t0, "verdicts": verdicts}


def run_full(root: Path, out: Path) -> dict:
    import evalkit

    t0 = time.perf_counter()
    res = evalkit.run(
        "geneval",
        "samples:perf",
        out_dir=out,
        batch_size=8,
        options={"samples": str(root), "detector": "yolox-nano", "colour": "pixels"},
    )
    return {"seconds": time.perf_counter() - t0, "images": len(res.samples)}


def _child(args: argparse.Namespace) -> None:
    root = Path(args.root)
    if args.child == "ours":
        result = run_ours(root, args.n, args.batch)
    elif args.child == "official":
        result = run_official_structure(root, args.n)
    else:
        result = run_full(root, Path(args.out))
    me = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    result["cpu_s"] = me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime
    result["peak_rss_mb"] = me.ru_maxrss / 1024
    result["peak_rss_children_mb"] = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(json.dumps(result))


def _spawn(kind: str, args: argparse.Namespace, root: Path, out: Path | None = None) -> dict:
    cmd = [
        sys.executable,
        __file__,
        "--child",
        kind,
        "--root",
        str(root),
        "--n",
        str(args.n),
        "--batch",
        str(args.batch),
        "--out",
        str(out or ""),
    ]
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    done = subprocess.run(cmd, capture_output=True, text=True, env=env, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=200, help="images for the ratio")
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--full", action="store_true", help="also judge all 2,212 images")
    ap.add_argument("--skip-ratio", action="store_true", help="only the full run")
    ap.add_argument("--root", help="a GenEval-layout folder (made from VISOR images if absent)")
    ap.add_argument("--child", help=argparse.SUPPRESS)
    ap.add_argument("--out", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        return _child(args)
    root = Path(args.root or Path(tempfile.gettempdir()) / "evalkit-perf-geneval")
    make_folder(root)
    print(f"cores {len(os.sched_getaffinity(0))}, load average {os.getloadavg()}")
    if not args.skip_ratio:
        ours = _spawn("ours", args, root)
        official = _spawn("official", args, root)
        if ours["verdicts"] != official["verdicts"]:
            sys.exit("verdicts differ between the two structures")
        print(
            f"{args.n} images: ours {ours['seconds']:.1f} s wall, {ours['cpu_s']:.1f} s CPU "
            f"(peak RSS {ours['peak_rss_mb']:.0f} MB); official structure "
            f"{official['seconds']:.1f} s wall, {official['cpu_s']:.1f} s CPU (peak RSS "
            f"{official['peak_rss_mb']:.0f} MB + workers {official['peak_rss_children_mb']:.0f}"
            f" MB); ratio {official['seconds'] / ours['seconds']:.2f}x wall, "
            f"{official['cpu_s'] / ours['cpu_s']:.2f}x CPU"
        )
    if args.full:
        with tempfile.TemporaryDirectory() as out:
            full = _spawn("full", args, root, Path(out))
        print(
            f"full: {full['images']} images judged in {full['seconds']:.1f} s wall "
            f"({full['seconds'] / 60:.2f} min), {full['cpu_s']:.1f} s CPU; peak RSS "
            f"{full['peak_rss_mb']:.0f} MB"
        )


if __name__ == "__main__":
    main()
