"""Do two GenEval detector paths give the same per-image verdicts on a folder? (GPU machine.)

Default: the official runtime (mmdet 2.x) against the same checkpoint through transformers
(``m2f-hf``), both with the official CLIP colour judge, on a samples folder in GenEval's layout:

    python scripts/check_geneval_detector.py DIR [--a mmdet] [--b m2f-hf] [--colour clip]

Prints agreement per task and overall, the task scores of both, and every image whose verdict
differs (with both reasons); exits 1 when any verdict differs. Needs mmdet 2.x + mmcv-full for
``mmdet``, the checkpoint in the store or cache, and the CLIP weights for ``clip``.
"""

from __future__ import annotations

import argparse
import sys
import tempfile

import evalkit


def verdicts(folder: str, detector: str, colour: str, out: str, batch: int):
    res = evalkit.run(
        "geneval",
        f"samples:check-{detector}",
        out_dir=out,
        batch_size=batch,
        options={"samples": folder, "detector": detector, "colour": colour},
    )
    return res.samples.set_index("sample_id"), res.rows


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("folder")
    ap.add_argument("--a", default="mmdet")
    ap.add_argument("--b", default="m2f-hf")
    ap.add_argument("--colour", default="clip")
    ap.add_argument("--batch-size", type=int, default=8)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as out:
        a, rows_a = verdicts(args.folder, args.a, args.colour, out, args.batch_size)
        b, rows_b = verdicts(args.folder, args.b, args.colour, out, args.batch_size)
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
