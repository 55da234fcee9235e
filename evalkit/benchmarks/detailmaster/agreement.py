"""``-O scores=`` on DetailMaster: each per-image score against the judges' verdict per prompt.

The official code (``cal_eval.py`` / ``cal_eval_mini.py``) computes no per-record or per-prompt
verdict: it pools every counted unit of the run into one micro sum per dimension. The verdict per
prompt here is that same pooling restricted to one prompt, i.e. one image key
(``<dataset_target>_<image_id>``: its records share the polished prompt and its images):
``unit_accuracy`` = successes / units summed over the official keys of :func:`counts` (presence,
attributes per class, locations, the four scene dimensions; the mini ``_detect`` keys are left
out, they recount the attribute units), over every record of the key and every image. The score
side is each score's mean over the key's images. :mod:`evalkit.scores.agreement` ranks them.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from evalkit.benchmarks.detailmaster.protocol import OFFICIAL_KEYS, counts
from evalkit.scores.extra import column

VERDICT = "unit_accuracy"


def per_prompt(records: pd.DataFrame, score_ids: Sequence[str]) -> pd.DataFrame:
    """One row per key with units: ``key``, ``unit_accuracy`` and each score's mean."""
    units = records[records["row"] == "unit"]
    verdicts = []
    for key, frame in units.groupby("key", sort=True):
        c = counts(frame[["dimension", "success", "cls", "detected"]].to_dict("records"))
        ok, n = (sum(c[k][i] for k in OFFICIAL_KEYS) for i in (0, 1))
        verdicts.append({"key": key, VERDICT: ok / n if n else math.nan})
    scores = [column(s) for s in score_ids]
    means = records[records["row"] == "score"].groupby("key")[scores].mean().reset_index()
    return pd.DataFrame(verdicts, columns=["key", VERDICT]).merge(means, on="key")


def write(run_dir: Path, records: pd.DataFrame, score_ids: Sequence[str]) -> Path:
    """``agreement.csv`` and ``agreement.svg`` in ``run_dir`` (one prompt = one key)."""
    from evalkit.scores import agreement

    return agreement.write(run_dir, per_prompt(records, score_ids), VERDICT, score_ids, unit="key")
