"""A seeded random tiny Qwen2.5-VL checkpoint for VQAScore parity with t2v-metrics (no real
weights offline): :func:`evalkit.judges.qwen_random.save_random_checkpoint` with the questions'
words in its small tokenizer, and the LM head scaled so next-token logits spread (standard
deviation about 1 instead of 0.16: P("Yes") then varies clearly between photos and prompts, and
the checkpoint's repetition penalty changes it measurably).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

LOGIT_GAIN = 6.0


def words(prompts: Sequence[str]) -> list[str]:
    """Every word-level token of the questions and the answer (the tokenizer's Whitespace
    pre-tokenizer: runs of word characters, runs of punctuation)."""
    from evalkit.scores.vqascore import ANSWER, QUESTION

    text = " ".join(QUESTION.format(p) for p in prompts) + " " + ANSWER
    return sorted(set(re.findall(r"\w+|[^\w\s]+", text)))


def make_checkpoint(
    folder: Path, prompts: Sequence[str], seed: int, generation: Mapping[str, Any]
) -> Path:
    """The checkpoint folder (transformers 5 layout) whose generation_config.json has
    ``generation`` on top of the stop and pad ids."""
    from safetensors.torch import load_file, save_file

    from evalkit.judges.qwen_random import save_random_checkpoint

    folder = save_random_checkpoint(folder, dict(generation), seed=seed, words=words(prompts))
    path = folder / "model.safetensors"
    tensors = load_file(str(path))
    tensors["lm_head.weight"] = tensors["lm_head.weight"] * LOGIT_GAIN
    save_file(tensors, str(path), metadata={"format": "pt"})
    return folder


def weights_sha256(folder: Path) -> str:
    """sha256 over the checkpoint's tensors (names, shapes, float32 bytes)."""
    import numpy as np
    from safetensors.numpy import load_file

    h = hashlib.sha256()
    tensors = load_file(str(folder / "model.safetensors"))
    for name in sorted(tensors):
        t = np.ascontiguousarray(tensors[name], dtype=np.float32)
        h.update(f"{name}{list(t.shape)}".encode())
        h.update(t.tobytes())
    return h.hexdigest()
