"""GenEval's aggregation, as ``evaluation/summary_scores.py``: per task, overall, images, prompts.

Task score = mean of ``correct`` over that task's images; overall = unweighted mean of the task
scores present; % correct images = mean over all images; % correct prompts = share of prompts
with at least one correct image (the official groups by the prompt's metadata, which is unique
per prompt in the official file, so grouping by prompt index is the same).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from evalkit.benchmarks.geneval.rules import TAGS


@dataclass(frozen=True)
class Score:
    name: str  # a task tag, "overall", "correct_images" or "correct_prompts"
    value: float
    n: int  # images (prompts for correct_prompts; tasks for overall)


def summarize(records: pd.DataFrame) -> list[Score]:
    """``records``: one row per image with ``tag``, ``prompt_index`` and ``correct``."""
    if len(records) == 0:
        raise ValueError("geneval: no images were scored")
    correct = records["correct"].astype(bool)
    out = []
    task_scores = []
    for tag in [t for t in TAGS if t in set(records["tag"])]:
        sel = correct[records["tag"] == tag]
        task_scores.append(float(sel.mean()))
        out.append(Score(tag, task_scores[-1], int(len(sel))))
    out.append(Score("overall", float(np.mean(task_scores)), len(task_scores)))
    out.append(Score("correct_images", float(correct.mean()), int(len(records))))
    per_prompt = correct.groupby(records["prompt_index"]).any()
    out.append(Score("correct_prompts", float(per_prompt.mean()), int(len(per_prompt))))
    return out
