"""Seeded random weights of a judge's exact architecture, for parity fixtures.

A parity fixture records the OFFICIAL runtime's outputs with random weights; the test loads the
same weights into our runtime. Checkpoints of real judges are too big to commit, so both sides
regenerate them from a recipe: per tensor its name, shape, mean and standard deviation. Each
tensor is drawn from its own NumPy generator seeded by (seed, crc32(name)), so the values do not
depend on tensor order or on the library that builds the model, and ``digest`` lets a test check
that it regenerated exactly what the recorder used. ``write_hub_folder`` lays such weights out
as a Hugging Face model folder (config files as recorded, CLIP's BPE vocabulary rebuilt from
open_clip's copy of OpenAI's list, as the Hub's CLIP tokenizer files hold it).
"""

from __future__ import annotations

import gzip
import hashlib
import json
import zlib
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, TypedDict

import numpy as np


class TensorRecipe(TypedDict):
    shape: list[int]
    mean: float
    std: float


def seeded_tensor(name: str, recipe: TensorRecipe, seed: int, fp16: bool) -> np.ndarray:
    """float32 ``mean + std * N(0, 1)``; with ``fp16`` every value is exactly representable in
    float16 (checkpoints some loaders round through float16, as open_clip's OpenAI loader)."""
    rng = np.random.default_rng([seed, zlib.crc32(name.encode())])
    shape = tuple(recipe["shape"])
    values = np.asarray(rng.standard_normal(shape, dtype=np.float32)) * np.float32(recipe["std"])
    values = np.asarray(values + np.float32(recipe["mean"]), np.float32)
    return values.astype(np.float16).astype(np.float32) if fp16 else values


def seeded_state_dict(
    recipes: Mapping[str, TensorRecipe], seed: int, fp16: bool = False
) -> dict[str, np.ndarray]:
    """Every tensor of ``recipes``, in sorted name order."""
    return {name: seeded_tensor(name, recipes[name], seed, fp16) for name in sorted(recipes)}


def digest(state: Mapping[str, Any], names: Sequence[str] | None = None) -> str:
    """sha256 over names, shapes and float32 bytes, in sorted name order (numpy or torch)."""
    h = hashlib.sha256()
    for name in sorted(names if names is not None else state):
        value = state[name]
        if hasattr(value, "detach"):
            value = value.detach().cpu().float().numpy()
        array = np.ascontiguousarray(value, dtype=np.float32)
        h.update(f"{name}:{list(array.shape)};".encode())
        h.update(array.tobytes())
    return h.hexdigest()


def to_torch(state: Mapping[str, np.ndarray]) -> dict[str, Any]:
    import torch

    return {k: torch.from_numpy(np.ascontiguousarray(v)) for k, v in state.items()}


def write_clip_bpe(folder: Path) -> None:
    """vocab.json and merges.txt of CLIP's tokenizer (49,408 tokens), from open_clip's BPE list.

    The vocabulary is OpenAI's SimpleTokenizer's: 256 byte symbols, the same with ``</w>``, the
    first 48,894 merges, then ``<|startoftext|>`` and ``<|endoftext|>``.
    """
    from importlib.resources import files

    raw = (files("open_clip") / "bpe_simple_vocab_16e6.txt.gz").read_bytes()
    merges = gzip.decompress(raw).decode("utf-8").split("\n")[1 : 49152 - 256 - 2 + 1]
    from open_clip.tokenizer import bytes_to_unicode

    symbols = list(bytes_to_unicode().values())
    vocab = symbols + [s + "</w>" for s in symbols] + ["".join(m.split()) for m in merges]
    vocab += ["<|startoftext|>", "<|endoftext|>"]
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "vocab.json").write_text(json.dumps({t: i for i, t in enumerate(vocab)}))
    (folder / "merges.txt").write_text("#version: 0.2\n" + "\n".join(merges) + "\n")


def write_hub_folder(
    folder: Path, configs: Mapping[str, Mapping[str, Any]], state: Mapping[str, np.ndarray]
) -> Path:
    """A Hugging Face model folder: each config file, CLIP's BPE files, model.safetensors."""
    from safetensors.numpy import save_file

    folder.mkdir(parents=True, exist_ok=True)
    for name, doc in configs.items():
        (folder / name).write_text(json.dumps(doc, indent=2) + "\n")
    write_clip_bpe(folder)
    save_file(dict(state), str(folder / "model.safetensors"), metadata={"format": "pt"})
    return folder
