"""TokBench scoring-stage speed and memory: each offline judge, batched vs one image at a time.

Why: the official face loop scores one image (and one face) at a time; evalkit sends the crops of
many images through a judge together. This measures both in the same run, on the same
reconstructions (the `resize` ceiling, i.e. the letterboxed input given back unchanged), and
reports images/s of ``Benchmark.score`` and the peak RSS of each measurement's own process.

Run:  python scripts/perf_tokbench.py [--resolution 256] [--batch 32] [--limit N] [--json out.json]
Uses the embedded mini set (tokbench-mini); ``--data DIR`` measures an official-layout copy.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import queue
import resource
import sys
import time
from typing import Any

JUDGES = (("ocr", "rapidocr"), ("ocr", "easyocr"), ("face", "dlib"))


def _measure(kind: str, judge: str, mode: str, args: dict[str, Any], q: mp.Queue) -> None:
    import torch

    from evalkit.benchmarks.tokbench.benchmark import build

    opts: dict[str, Any] = {"resolution": args["resolution"]}
    opts.update(texts=kind == "ocr", faces=kind == "face")
    opts["ocr_judge" if kind == "ocr" else "face_judge"] = judge
    if args["data"]:
        bench = build("tokbench", data=args["data"], sets=args["sets"], **opts)
    else:
        bench = build("tokbench-mini", **opts)
    bench.setup("cpu")
    n = len(bench.sample_ids())
    n = n if args["limit"] is None else min(n, int(args["limit"]))  # the first N, as --limit
    items = [bench.load(i) for i in range(n)]
    outputs = [it["input"] for it in items]  # the resize ceiling: the input given back
    # warm up the judge outside the timed region (first-call allocations, lazy init)
    bench.score(items[:1], torch.stack(outputs[:1]))
    step = args["batch"] if mode == "batched" else 1
    n_inst = 0
    t0 = time.perf_counter()
    for i in range(0, len(items), step):
        n_inst += len(bench.score(items[i : i + step], torch.stack(outputs[i : i + step])).records)
    dt = time.perf_counter() - t0
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    q.put(
        {
            "kind": kind,
            "judge": judge,
            "mode": mode,
            "images": len(items),
            "instances": n_inst,
            "seconds": dt,
            "images_per_s": len(items) / dt,
            "peak_rss_mb": rss_mb,
        }
    )


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--resolution", type=int, default=256)
    p.add_argument("--batch", type=int, default=8, help="images per score() call (runner default)")
    p.add_argument("--limit", type=int, default=None)
    p.add_argument("--data", default=None, help="official-layout data dir (default: mini set)")
    p.add_argument("--sets", default=None, help="text sets of --data (default: the official 8)")
    p.add_argument("--judges", default=",".join(j for _, j in JUDGES))
    p.add_argument("--json", default=None)
    args = vars(p.parse_args())
    wanted = set(args["judges"].split(","))
    ctx = mp.get_context("spawn")  # a fresh process per measurement: its own peak RSS
    rows = []
    for kind, judge in JUDGES:
        if judge not in wanted:
            continue
        for mode in ("one-at-a-time", "batched"):
            q: mp.Queue = ctx.Queue()
            proc = ctx.Process(target=_measure, args=(kind, judge, mode, args, q))
            proc.start()
            while True:
                try:
                    rows.append(q.get(timeout=5))
                    break
                except queue.Empty:
                    if not proc.is_alive():
                        sys.exit(f"measuring {judge} ({mode}) failed: see the error above")
            proc.join()
            print(json.dumps(rows[-1]), file=sys.stderr)
    print("| judge | mode | images | instances | images/s | speed-up | peak RSS (MB) |")
    print("|---|---|---|---|---|---|---|")
    for r in rows:
        base = next(x for x in rows if x["judge"] == r["judge"] and x["mode"] == "one-at-a-time")
        print(
            f"| {r['judge']} | {r['mode']} | {r['images']} | {r['instances']} | "
            f"{r['images_per_s']:.2f} | {r['images_per_s'] / base['images_per_s']:.2f}x | "
            f"{r['peak_rss_mb']:.0f} |"
        )
    if args["json"]:
        with open(args["json"], "w") as f:
            json.dump(rows, f, indent=2)


if __name__ == "__main__":
    main()
