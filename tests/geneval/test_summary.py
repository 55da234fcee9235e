"""Aggregation against a re-statement of summary_scores.py on random verdicts."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd

from evalkit.benchmarks.geneval.summary import summarize
from evalkit.cards import card_file

PROMPTS = [json.loads(line) for line in card_file("geneval", "evaluation_metadata.jsonl").open()]


def _official(df: pd.DataFrame) -> dict[str, float]:
    out = {
        "correct_images": df["correct"].mean(),
        "correct_prompts": df.groupby("metadata")["correct"].any().mean(),
    }
    task_scores = []
    for tag, task_df in df.groupby("tag", sort=False):
        task_scores.append(task_df["correct"].mean())
        out[tag] = task_df["correct"].mean()
    out["overall"] = np.mean(task_scores)
    return out


def test_summary_matches_summary_scores() -> None:
    rng = np.random.default_rng(3)
    rows = [
        {
            "prompt_index": p,
            "tag": m["tag"],
            "metadata": json.dumps(m),
            "correct": bool(rng.random() < 0.2 + 0.6 * (m["tag"] == "single_object")),
        }
        for p, m in enumerate(PROMPTS)
        for _ in range(4)
    ]
    df = pd.DataFrame(rows).sample(frac=1.0, random_state=1)  # order must not matter
    got = {s.name: s for s in summarize(df)}
    want = _official(df)
    assert set(got) == set(want)
    for name, value in want.items():
        assert abs(got[name].value - value) < 1e-12, name  # task order may differ
    assert got["overall"].n == 6 and got["correct_prompts"].n == 553
    assert got["position"].n == 400 and got["correct_images"].n == 2212
    # tasks are weighted equally, not by image count
    assert got["overall"].value != df["correct"].mean()
