"""Where CLIP-FlanT5's three parts come from: the offline store first, else the Hub at the
commit locked on first use (through :mod:`evalkit.judges.hubdir`, each file verified).

The repositories are the ones t2v-metrics 3.0 names: the model ``zhiqiulin/clip-flant5-xxl``,
the tokenizer ``google/flan-t5-xxl``, the vision tower ``openai/clip-vit-large-patch14-336``
(the model config's ``mm_vision_tower``). Their file lists could not be read here (no Hub
access), so on first use the list is read from the Hub's tree at the locked commit and only the
needed files are fetched: the model's safetensors (else ``pytorch_model*.bin``, read with
``weights_only=True``) with their index, the tokenizer's json files, the tower's config and
processor (and its weights only when the model checkpoint lacks ``vision_tower.*`` keys).
Store layout: ``<store>/weights/clip-flant5-xxl/{model,tokenizer,vision}/``.
"""

from __future__ import annotations

import json
from pathlib import Path

MODEL_ID = "zhiqiulin/clip-flant5-xxl"
TOKENIZER_ID = "google/flan-t5-xxl"
VISION_ID = "openai/clip-vit-large-patch14-336"
STORE_PATH = "weights/clip-flant5-xxl"
TOKENIZER_FILES = ("tokenizer.json", "tokenizer_config.json", "special_tokens_map.json")
VISION_FILES = ("config.json", "preprocessor_config.json")


def weight_files(names: list[str]) -> list[str]:
    """The checkpoint's weights among a repository's files: safetensors (and their index) if
    any, else the PyTorch pickles (and their index)."""
    safetensors = sorted(n for n in names if n.endswith(".safetensors") and "/" not in n)
    if safetensors:
        return [*safetensors, *(n for n in names if n == "model.safetensors.index.json")]
    return sorted(n for n in names if n.startswith("pytorch_model") and "/" not in n)


def store_part(part: str, marker: str) -> Path | None:
    """The store folder of one part when it holds ``marker`` (the store's copy is whole)."""
    from evalkit.assets import store_dirs

    for root in store_dirs():
        if (root / STORE_PATH / part / marker).is_file():
            return root / STORE_PATH / part
    return None


def hub_part(hub_id: str, part: str, pick: tuple[str, ...], weights: bool) -> Path:
    """One repository's ``pick`` files (and its weight files when ``weights``) at its locked
    commit (first use: the branch resolved now and locked)."""
    from evalkit import hubfetch
    from evalkit.judges import hubdir
    from evalkit.types import WeightsFile

    probe = WeightsFile(
        filename="config.json", store_path=f"{STORE_PATH}/{part}/config.json", hub_id=hub_id
    )
    commit = hubfetch.resolve_commit(probe)
    names = list(hubfetch.hub_tree(hub_id, "model", commit))
    files = tuple(f for f in pick if f in names) + tuple(weight_files(names) if weights else ())
    return hubdir.local_dir(f"CLIP-FlanT5 {part}", hub_id, commit, f"{STORE_PATH}/{part}", files)


def has_vision_weights(model: Path) -> bool:
    """Whether the model checkpoint carries the tower (``vision_tower.*`` keys)."""
    index = sorted(model.glob("*.index.json"))
    if index:
        keys = json.loads(index[0].read_text(encoding="utf-8"))["weight_map"]
    else:
        from safetensors import safe_open

        keys = []
        for path in model.glob("*.safetensors"):
            with safe_open(str(path), "pt") as f:
                keys += list(f.keys())
        if not keys:
            return True  # a single pickle: loaded whole, checked when the tower is built
    return any(k.startswith("vision_tower.") for k in keys)


def folders() -> tuple[Path, Path, Path]:
    """(model, vision, tokenizer) folders, each from the store or the Hub."""
    model = store_part("model", "config.json") or hub_part(
        MODEL_ID, "model", ("config.json",), weights=True
    )
    tokenizer = store_part("tokenizer", "tokenizer_config.json") or hub_part(
        TOKENIZER_ID, "tokenizer", TOKENIZER_FILES, weights=False
    )
    vision = store_part("vision", "preprocessor_config.json") or hub_part(
        VISION_ID, "vision", VISION_FILES, weights=not has_vision_weights(model)
    )
    return model, vision, tokenizer
