"""Do two GenEval detector paths give the same per-image verdicts on a folder? (GPU machine.)

Default: the official runtime (mmdet 2.x) against the same checkpoint through transformers
(``m2f-hf``), both with the official CLIP colour judge, on a samples folder in GenEval's layout:

    python scripts/check_geneval_detector.py DIR [--a mmdet] [--b m2f-hf] [--colour clip]
        [--checkpoint FILE] [--prompts FILE.jsonl]

Prints agreement per task and overall, the task scores of both, and every image whose verdict
differs (with both reasons); exits 1 when any verdict differs, 2 on bad input. Needs mmdet 2.x +
mmcv-full for ``mmdet``, the checkpoint (in the store or cache, or ``--checkpoint``: any
checkpoint file in mmdet's format, e.g. a seeded random one, loaded by both runtimes through their
usual paths) and the CLIP weights for ``clip``. ``--prompts``: the folder holds these prompts
(``-O prompts``) instead of the official 553.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

import evalkit


def verdicts(folder: str, detector: str, options: dict, out: str, batch: int):
    res = evalkit.run(
        "geneval",
        f"samples:check-{detector}",
        out_dir=out,
        batch_size=batch,
        options={"samples": folder, "detector": detector, **options},
    )
    return res.samples.set_index("sample_id"), res.rows


def use_checkpoint(path: Path, store: Path) -> None:
    """Put ``path`` where the store holds the official checkpoint, in a store searched first."""
    from evalkit.judges.mask2former import CHECKPOINT
    from evalkit.store import set_store, store_dirs

    target = store / CHECKPOINT.store_path
    target.parent.mkdir(parents=True, exist_ok=True)
    target.symlink_to(path.resolve())
    set_store([store, *store_dirs()])


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("folder")
    ap.add_argument("--a", default="mmdet")
    ap.add_argument("--b", default="m2f-hf")
    ap.add_argument("--colour", default="clip")
    ap.add_argument("--batch-size", type=int, default=8)
    ap.add_argument("--checkpoint", type=Path, help="checkpoint file in mmdet's format")
    ap.add_argument("--prompts", type=Path, help="prompt metadata JSONL of the folder")
    args = ap.parse_args()
    for given in (args.checkpoint, args.prompts):
        if given is not None and not given.is_file():
            print(f"no such file: {given}", file=sys.stderr)
            return 2
    options = {"colour": args.colour}
    if args.prompts is not None:
        options["prompts"] = str(args.prompts)
    with tempfile.TemporaryDirectory() as out:
        if args.checkpoint is not None:
            use_checkpoint(args.checkpoint, Path(out) / "store")
        a, rows_a = verdicts(args.folder, args.a, options, f"{out}/a", args.batch_size)
        b, rows_b = verdicts(args.folder, args.b, options, f"{out}/b", args.batch_size)
    if list(a.index) != list(b.index):
        print("the two runs scored different images", file=sys.stderr)
        return 2
    same = a["correct"] == b["correct"]
    for tag, sel in same.groupby(a["tag"]):
        print(f"{tag:<14} agreement {sel.mean():.4f} ({int(sel.sum())}/{len(sel)})")
    print(f"{'all':<14} agreement {same.mean():.4f} ({int(same.sum())}/{len(same)})")
    for name, rows in ((args.a, rows_a), (args.b, rows_b)):
        scores = rows.set_index("metric")["value"].round(4).to_dict()
        print(f"{name}: {scores}")
    for sid in same.index[~same]:
        print(
            f"{sid}: {args.a}={a.loc[sid, 'correct']} ({a.loc[sid, 'reason']!r}) "
            f"{args.b}={b.loc[sid, 'correct']} ({b.loc[sid, 'reason']!r})"
        )
    return 0 if bool(same.all()) else 1


if __name__ == "__main__":
    sys.exit(main())
