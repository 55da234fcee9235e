"""Parity: our rule functions vs re-statements of the official code, thousands of random box sets.

Coordinates are drawn on a coarse grid (plus some off-grid, negative and out-of-image values) so
that equal centroids, touching boxes and zero-area boxes, where strict inequalities decide, occur
often. VISOR and GenEval must agree exactly; T2I-CompBench's soft score to 1e-12.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from evalkit.benchmarks.spatial import rules, visor_image, visor_summary
from evalkit.benchmarks.spatial.geneval_bridge import (
    position_metadata,
    score_detections,
)
from tests.spatial import reference as ref

RELS = list(rules.VISOR_RELATIONS)
N_CASES = 3000


def _coords(rng: np.random.Generator, n: int, size: float = 128.0) -> np.ndarray:
    kind = rng.integers(0, 3)
    if kind == 0:  # coarse grid: many ties
        xy = rng.integers(-2, 7, size=(n, 4)) * (size / 4)
    elif kind == 1:
        xy = rng.uniform(-0.2 * size, 1.2 * size, size=(n, 4))
    else:
        xy = rng.integers(0, 5, size=(n, 4)).astype(np.float64)
    x1, x2 = np.minimum(xy[:, 0], xy[:, 2]), np.maximum(xy[:, 0], xy[:, 2])
    y1, y2 = np.minimum(xy[:, 1], xy[:, 3]), np.maximum(xy[:, 1], xy[:, 3])
    return np.stack([x1, y1, x2, y2], 1)


def _scores(rng: np.random.Generator, n: int, around: float) -> np.ndarray:
    pick = rng.integers(0, 3, size=n)
    exact = np.array([around, 0.05, 0.95, 0.0, 1.0])[rng.integers(0, 5, size=n)]
    return np.where(pick == 0, exact, rng.uniform(0, 1, size=n))


def test_visor_image_matches_process_detection() -> None:
    rng = np.random.default_rng(1)
    seen = {0: 0, 1: 0}
    for case in range(N_CASES):
        n = int(rng.integers(0, 9))
        boxes, scores = _coords(rng, n), _scores(rng, n, 0.1)
        labels = rng.integers(0, 2, size=n).tolist()
        rel = RELS[case % 4]
        obj1, obj2 = "cat", ("dog" if case % 50 else "cat")
        want = ref.visor_process_detection(
            boxes.tolist(), scores.tolist(), labels if obj1 != obj2 else [0] * n, obj1, obj2, rel
        )
        dets: dict[str, np.ndarray] = {}
        for name, lab in ((obj1, 0), (obj2, 1)):
            sel = [i for i in range(n) if labels[i] == lab or obj1 == obj2]
            if sel:
                dets[name] = np.concatenate([boxes[sel], scores[sel, None]], 1)
        got = visor_image(obj1, obj2, rel, dets)
        assert got == (want["recall"], want["sra"]), (case, dets, rel)
        seen[got[1]] += 1
    assert min(seen.values()) > 300  # both verdicts well represented


def _random_results(rng: np.random.Generator, n_prompts: int):
    from evalkit.benchmarks.spatial.prompts import sr2d

    prompts = sr2d()
    uids = rng.choice(len(prompts), size=n_prompts, replace=False)
    text = {
        int(u): {
            "obj1": prompts[u].obj1,
            "obj2": prompts[u].obj2,
            "rel": prompts[u].relation,
            "N": prompts[u].num_objects,
        }
        for u in uids
    }
    results, rows = {}, []
    p_both = rng.uniform(0.05, 0.95)
    for u in uids:
        for k in range(4):
            recall = int(rng.choice([0, 1, 2], p=[(1 - p_both) / 2, (1 - p_both) / 2, p_both]))
            sra = int(recall == 2 and rng.uniform() < 0.6)
            ann = text[int(u)]
            classes = {0: [], 1: [ann["obj1"]], 2: [ann["obj1"], ann["obj2"]]}[recall]
            results[f"{u}_{k}"] = {"classes": classes, "sra": sra}
            rows.append({"unique_id": int(u), "recall": recall, "sra": sra, "relation": ann["rel"]})
    return results, text, pd.DataFrame(rows)


def test_visor_summary_matches_visor_py_and_notebook() -> None:
    rng = np.random.default_rng(2)
    for _ in range(300):
        results, text, df = _random_results(rng, int(rng.integers(1, 40)))
        if not any(t["rel"] in RELS for t in text.values()):
            continue
        try:
            want = ref.visor_script_summary(results, text)
        except ZeroDivisionError:
            got = visor_summary(df)
            assert np.isnan(got["VISOR_cond"]) and np.isnan(got["VISOR_uncond"])
            continue
        assert visor_summary(df) == want  # exact, float for float
        nb = visor_summary(df, visor_n="notebook")
        assert [nb[f"VISOR_{k}"] for k in (1, 2, 3, 4)] == ref.visor_notebook_n(results, text)


def test_t2i_score_matches_2d_spatial_eval() -> None:
    rng = np.random.default_rng(3)
    prompts = [f"a cat {loc} a dog" for loc in rules.T2I_LOCALITIES] + ["a cat with a dog"]
    classes = ["cat", "dog", "person", "bird"]
    nonzero = errors = 0
    for case in range(N_CASES):
        n = int(rng.integers(0, 7))
        boxes = _coords(rng, n, 479.0)
        scores = rng.uniform(0.3, 1.0, size=n)  # distinct: the official first-match is defined
        names = [classes[i] for i in rng.integers(0, 4, size=n)]
        prompt = prompts[case % len(prompts)]
        obj1, obj2 = ("cat", "dog") if case % 40 else ("girl", "person")
        keep = [i for i in np.argsort(-scores, kind="stable") if scores[i] > 0.5]
        dets: dict[str, list] = {}
        for i in range(n):
            dets.setdefault(names[i], []).append([*boxes[i], scores[i]])
        dets_np = {k: np.array(v) for k, v in dets.items()}
        try:
            want = ref.t2i_score(
                prompt,
                obj1,
                obj2,
                [names[i] for i in keep],
                [boxes[i].tolist() for i in keep],
                [float(scores[i]) for i in keep],
            )
        except ZeroDivisionError:
            with pytest.raises(ValueError, match="zero area"):
                rules.t2i_compbench_image(prompt, dets_np, (479, 479), objects=(obj1, obj2))
            errors += 1
            continue
        got = rules.t2i_compbench_image(prompt, dets_np, (479, 479), objects=(obj1, obj2))
        assert got == pytest.approx(want, abs=1e-12, rel=0), (case, prompt, dets)
        nonzero += got > 0
    assert nonzero > 200 and errors > 0


def test_t2i_position_matches_determine_position() -> None:
    rng = np.random.default_rng(4)
    for case in range(N_CASES):
        b = _coords(rng, 2, 479.0)
        loc = rules.T2I_LOCALITIES[case % len(rules.T2I_LOCALITIES)]
        d1 = dict(zip(("x_min", "y_min", "x_max", "y_max"), b[0].tolist()))
        d2 = dict(zip(("x_min", "y_min", "x_max", "y_max"), b[1].tolist()))
        try:
            want = ref.t2i_determine_position(loc, d1, d2)
        except ZeroDivisionError:
            with pytest.raises(ValueError):
                rules.t2i_position(loc, b[0], b[1])
            assert rules.t2i_position(loc, b[0], b[1], "fixed") in (0, 1) or loc in (
                "near",
                "next to",
                "on side of",
            )
            continue
        assert rules.t2i_position(loc, b[0], b[1]) == pytest.approx(want, abs=1e-12, rel=0)


def test_geneval_position_matches_evaluate() -> None:
    rng = np.random.default_rng(5)
    fn = score_detections
    classes = ["cat", "dog", "bird"]
    seen = {True: 0, False: 0}
    for case in range(N_CASES):
        n = int(rng.integers(0, 8))
        boxes, scores = _coords(rng, n), _scores(rng, n, 0.3)
        names = [classes[i] for i in rng.integers(0, 3, size=n)]
        dets: dict[str, list] = {}
        for i in range(n):
            dets.setdefault(names[i], []).append([*boxes[i], scores[i]])
        dets_np = {k: np.array(v, dtype=np.float64) for k, v in dets.items()}
        meta = position_metadata(
            "cat",
            ["left of", "right of", "above", "below"][case % 4],
            "dog" if case % 30 else "cat",
        )
        want = ref.geneval_evaluate(ref.geneval_filter(dets_np), meta)
        got, _reason = fn(meta, dets_np)
        assert bool(got) == want, (case, dets, meta)
        seen[want] += 1
    assert min(seen.values()) > 150  # both verdicts represented
