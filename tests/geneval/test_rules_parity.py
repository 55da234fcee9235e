"""score_detections against a re-statement of the official code, on all 553 prompts."""

from __future__ import annotations

import json
import zlib

import numpy as np
import pytest

from evalkit.benchmarks.geneval import COLORS, score_detections
from evalkit.benchmarks.geneval.rules import colour_requests, evaluate
from evalkit.cards import card_file
from tests.geneval import official_restatement as official

PROMPTS = [json.loads(line) for line in card_file("geneval", "evaluation_metadata.jsonl").open()]
NAMES = [line.strip() for line in card_file("geneval", "object_names.txt").open()]


def _colour_of(name: str, box: np.ndarray, mask: np.ndarray | None, favoured: str) -> str:
    """A deterministic stand-in judge that depends on the class, the box and the mask."""
    key = f"{name}|{np.round(box, 6).tolist()}|{None if mask is None else mask.tobytes().hex()}"
    h = zlib.crc32(key.encode())
    return favoured if h % 3 else COLORS[h % len(COLORS)]


def _random_case(rng: np.random.Generator, meta: dict) -> tuple[dict, dict | None, dict, str]:
    classes = {c["class"] for c in meta["include"]} | {c["class"] for c in meta.get("exclude", [])}
    classes |= set(rng.choice(NAMES, size=int(rng.integers(0, 3))).tolist())
    with_masks = bool(rng.integers(0, 2))
    dets, masks = {}, {}
    for name in sorted(classes):
        n = int(rng.choice([0, 1, 1, 2, 2, 3, 4, 6, 20]))
        x1 = rng.uniform(0, 500, n)
        y1 = rng.uniform(0, 500, n)
        w = rng.uniform(1, 300, n)
        if n and rng.random() < 0.1:  # degenerate boxes: zero or negative width
            w[0] = rng.choice([0.0, -3.0])
        h = rng.uniform(1, 300, n)
        kind = rng.integers(0, 3)
        if kind == 0:
            scores = rng.uniform(0, 1, n)
        elif kind == 1:  # ties and exact thresholds
            scores = rng.choice([0.29, 0.3, 0.31, 0.5, 0.5, 0.9, 0.9, 0.95], n)
        else:
            scores = rng.uniform(0.85, 1.0, n)
        boxes = np.stack([x1, y1, x1 + w, y1 + h, scores], 1) if n else np.zeros((0, 5))
        if n > 1 and rng.random() < 0.2:  # duplicates / near-duplicates: overlap filter, ties
            boxes[1, :4] = boxes[0, :4] + rng.uniform(-2, 2, 4)
        if n > 1 and rng.random() < 0.1:  # identical centres: the empty-relation branch
            boxes[1, :4] = boxes[0, :4]
        dets[name] = boxes
        masks[name] = rng.random((n, 6, 6)) < 0.5
    thresholds = {}
    if rng.random() < 0.35:
        thresholds = {
            "threshold": float(rng.choice([0.1, 0.3, 0.5])),
            "counting_threshold": float(rng.choice([0.5, 0.9])),
            "max_objects": int(rng.choice([16, 1, 2, 3])),
            "max_overlap": float(rng.choice([1.0, 0.5, 0.2])),
            "position_threshold": float(rng.choice([0.0, 0.1, 0.3])),
        }
    favoured = next((c["color"] for c in meta["include"] if "color" in c), "red")
    if rng.random() < 0.3:
        favoured = str(rng.choice(COLORS))
    return dets, (masks if with_masks else None), thresholds, favoured


def _official(meta, dets, masks, thresholds, favoured):
    bbox = [dets.get(n, np.zeros((0, 5))) for n in NAMES]
    segm = None if masks is None else [masks.get(n, np.zeros((0, 6, 6), bool)) for n in NAMES]

    def colour_fn(name, objs):
        return [_colour_of(name, box, mask, favoured) for box, mask in objs]

    return official.evaluate_image(bbox, segm, NAMES, meta, colour_fn, **thresholds)


def _ours(meta, dets, masks, thresholds, favoured):
    def colours(name, boxes, obj_masks):
        return [
            _colour_of(name, b, None if obj_masks is None else m, favoured)
            for b, m in zip(boxes, obj_masks if obj_masks is not None else [None] * len(boxes))
        ]

    return score_detections(meta, dets, masks, colours, **thresholds)


@pytest.mark.parametrize("rounds", [6])
def test_parity_random_detections_all_prompts(rounds: int) -> None:
    rng = np.random.default_rng(20231017)
    verdicts = {True: 0, False: 0}
    per_tag_correct: dict[str, int] = {}
    for _ in range(rounds):
        for p, meta in enumerate(PROMPTS):
            dets, masks, thresholds, favoured = _random_case(rng, meta)
            want = _official(meta, dets, masks, thresholds, favoured)
            got = _ours(meta, dets, masks, thresholds, favoured)
            assert got == want, (p, meta, thresholds, dets)
            verdicts[want[0]] += 1
            per_tag_correct[meta["tag"]] = per_tag_correct.get(meta["tag"], 0) + int(want[0])
    assert sum(verdicts.values()) == rounds * 553
    # the random cases reach both verdicts in every task (otherwise the test proves little)
    assert verdicts[True] > 200 and verdicts[False] > 200
    assert set(per_tag_correct) == {m["tag"] for m in PROMPTS}
    assert all(v > 0 for v in per_tag_correct.values()), per_tag_correct


def test_colour_requests_are_what_the_verdict_asks() -> None:
    rng = np.random.default_rng(7)
    for meta in [m for m in PROMPTS if m["tag"] in ("colors", "color_attr")]:
        dets, _, thresholds, favoured = _random_case(rng, meta)
        asked = []

        def colours(name, boxes, _m, asked=asked, favoured=favoured):
            asked.append((name, [tuple(b) for b in boxes]))
            return [_colour_of(name, b, None, favoured) for b in boxes]

        evaluate(meta, dets, None, colours, **thresholds)
        planned = [
            (n, [tuple(dets[n][i]) for i in idx])
            for n, idx in colour_requests(meta, dets, **thresholds)
        ]
        assert planned == asked
