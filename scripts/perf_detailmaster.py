"""DetailMaster judge throughput: questions per second, batched vs one at a time.

For a GPU machine: a random-weight Qwen2.5-VL of the real 7B architecture (bf16, transformers,
the wrapper evalkit uses), asked DetailMaster's own questions on a realistic mix of full images
(512x512: scene, box, location, relation questions) and crops (attribute questions). Random
weights never stop, so every answer is forced to exactly ``--max-new-tokens`` tokens (default 8:
the official yes/no answers are 1-3 tokens, box answers ~20; see --max-new-tokens). Goal: batched
>= 3x one at a time. It also reports how many answers batched and single runs agree on (bf16
padding can change a greedy token; fp32 should agree).

    python scripts/perf_detailmaster.py                      # 7B, bf16 on CUDA
    python scripts/perf_detailmaster.py --arch tiny --n 12   # CPU dry run of the plumbing
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np
from PIL import Image

from evalkit.benchmarks.detailmaster.protocol import (
    attribute_question,
    bbox_question,
    location_question,
    scene_question,
    spatial_question,
)


def workload(n: int, size: int, seed: int = 0) -> list[tuple[Image.Image, str]]:
    """n (image, question) pairs: about 45 % attribute questions on crops, the rest full images
    (the mini set's mix: ~11 attributes and ~14 other questions per prompt)."""
    rng = np.random.default_rng(seed)
    full = Image.fromarray(rng.integers(0, 256, (size, size, 3), dtype=np.uint8))
    out = []
    for i in range(n):
        kind = i % 9
        if kind < 4:
            w, h = (int(v) for v in rng.integers(48, size // 2 + 1, 2))
            out.append((full.crop((0, 0, w, h)), attribute_question("brown dog", f"feature {i}")))
        elif kind == 4:
            out.append((full, bbox_question(f"red cup {i}")))
        elif kind == 5:
            out.append(
                (
                    full,
                    location_question(
                        "dog", [0.1, 0.2, 0.5, 0.6], "The upper left part of the image"
                    ),
                )
            )
        elif kind == 6:
            out.append((full, spatial_question(["dog", "cup"], f"The dog is left of cup {i}.")))
        else:
            out.append(
                (
                    full,
                    scene_question(
                        ("background", "light", "style")[i % 3],
                        f"A sunny park with trees, variant {i}.",
                    ),
                )
            )
    return out


def main() -> None:
    import torch

    from evalkit.judges.qwen_random import random_init

    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    cuda = torch.cuda.is_available()
    ap.add_argument("--arch", choices=["tiny", "7b"], default="7b" if cuda else "tiny")
    ap.add_argument("--device", default="cuda" if cuda else "cpu")
    ap.add_argument("--dtype", choices=["bf16", "fp32"], default="bf16" if cuda else "fp32")
    ap.add_argument("--n", type=int, default=64, help="questions per measurement")
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--max-new-tokens", type=int, default=8)
    ap.add_argument("--size", type=int, default=512, help="full image side (SD1.5: 512)")
    ap.add_argument("--json", help="also write the result here")
    args = ap.parse_args()

    dtype = torch.bfloat16 if args.dtype == "bf16" else torch.float32
    t0 = time.perf_counter()
    vlm = random_init(
        args.arch,
        device=args.device,
        dtype=dtype,
        batch_size=args.batch,
        max_new_tokens=args.max_new_tokens,
    )
    vlm.generation_config.min_new_tokens = args.max_new_tokens  # equal work per answer
    build_s = time.perf_counter() - t0
    pairs = workload(args.n, args.size)
    vlm.ask_batch(pairs[: min(len(pairs), args.batch)])  # warm-up (kernels, allocator)

    def timed(fn):  # noqa: ANN001, ANN202
        if args.device.startswith("cuda"):
            torch.cuda.synchronize()
        t = time.perf_counter()
        out = fn()
        if args.device.startswith("cuda"):
            torch.cuda.synchronize()
        return out, time.perf_counter() - t

    single, t_single = timed(lambda: [vlm.ask(im, q) for im, q in pairs])
    batched, t_batched = timed(lambda: vlm.ask_batch(pairs))
    result = {
        "arch": args.arch,
        "device": args.device,
        "dtype": args.dtype,
        "n": args.n,
        "batch": args.batch,
        "max_new_tokens": args.max_new_tokens,
        "image_side": args.size,
        "params_millions": round(sum(p.numel() for p in vlm.model.parameters()) / 1e6, 1),
        "build_s": round(build_s, 2),
        "single_qps": round(args.n / t_single, 3),
        "batched_qps": round(args.n / t_batched, 3),
        "speedup": round(t_single / t_batched, 2),
        "answers_equal_fraction": round(
            float(np.mean([a == b for a, b in zip(single, batched)])), 3
        ),
        "torch": torch.__version__,
        "gpu": torch.cuda.get_device_name() if args.device.startswith("cuda") else None,
        "peak_memory_gb": (
            round(torch.cuda.max_memory_allocated() / 2**30, 2)
            if args.device.startswith("cuda")
            else None
        ),
    }
    print(json.dumps(result, indent=2))
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(result, fh, indent=2)


if __name__ == "__main__":
    main()
