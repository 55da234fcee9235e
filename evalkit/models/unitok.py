"""UniTok (FoundationVision/UniTok): card, checkpoint and tokenizer.

256 tokens per 256 x 256 image (a 16 x 16 grid), each eight indices into eight 4096-entry
cosine-similarity codebooks (``VectorQuantizerM``, 8 x 12 bits per token); input 2x - 1 at
256 x 256 only; decode = the official ``idx_to_img``. The network is
:mod:`evalkit.models.unitok_arch`; the checkpoint's CLIP side (text tower, ``fc_norm``,
``projection``, ``logit_scale``) is checked by name and left out.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING, Any

from evalkit.models.index_tokenizer import SIGNED_RANGE, index_card
from evalkit.models.unitok_config import CONFIG, UniTokConfig
from evalkit.types import ModelCard

if TYPE_CHECKING:
    import torch

    from evalkit.models.index_tokenizer import IndexTokenizer

MODEL_ID = "unitok"
VARIANTS = {MODEL_ID: CONFIG}
SOURCE_REPO = "https://github.com/FoundationVision/UniTok"
SOURCE_COMMIT = "bb8012e8e8d7be66928bedd80506c56a55ea6305"  # code read at this commit
SOURCE_FILES = "models/unitok.py, models/vitamin.py, models/vqvae.py, models/quant.py, inference.py"
HUB_ID = "FoundationVision/unitok_tokenizer"
FILENAME = "unitok_tokenizer.pth"
PUBLISHED_RFID = 0.41
RFID_SOURCE = (
    "FoundationVision/UniTok README at bb8012e, Model Weights table: UniTok-Large, 256 px, "
    "256 tokens, code shape 16 x 16 x 8, rFID 0.41 (the released from-scratch checkpoint; 0.38 "
    "is the CLIP-initialised variant, not released)"
)
PARITY = (
    "official UniTok (models/unitok.py img_to_idx / idx_to_img at SOURCE_COMMIT, timm 1.0.8 as "
    "its requirements.txt pins, torch 2.14.1, CPU) vs ours loaded by build(weights_path=...), "
    "seeded random weights in the release's checkpoint layout, scikit-image photos "
    "(tests/models/test_unitok.py, fixture tests/fixtures/unitok_official.*): tokens identical "
    "at the released config (vitamin_large, 256 px, 1 x 8 x 256; slow test) and at a narrow one "
    "(2-block ViTamin-B transformer, 64 px, 3 x 8 x 16); unclamped decodes (both) and "
    "quant_proj features (narrow) max abs difference 0.0 (tolerance 1e-4)"
)
CHECKPOINT_PATH = ("trainer", "unitok")
CLIP_SIDE = ("text_encoder.", "fc_norm.", "projection.", "logit_scale")
ARGS_CHECKED = ("model", "img_size", "vocab_size", "vocab_width", "num_codebooks", "quant_proj")
RANDOM_INIT_OPTIONS = ("random_init",)  # read by evalkit.runner.loaded_card
WEIGHT_OPTIONS = {"weights_path": 0}


def tiny_config() -> UniTokConfig:
    """The official ``vitamin_base`` widths with a 2-block transformer at 64 x 64 and 64-entry
    codebooks (what the recorder runs the official code at)."""
    return replace(
        CONFIG, conv_widths=(128, 256), width=768, depth=2, num_heads=12, img_size=64,
        vocab_size=512,
    )  # fmt: skip


def official_args(c: UniTokConfig) -> dict[str, Any]:
    """The official ``Args`` values a checkpoint of this network has."""
    model = {(160, 320, 1024): "vitamin_large", (128, 256, 768): "vitamin_base"}
    return {
        "model": model.get((*c.conv_widths, c.width)),
        "img_size": c.img_size,
        "vocab_size": c.vocab_size,
        "vocab_width": c.vocab_width,
        "num_codebooks": c.num_codebooks,
        "quant_proj": "attn",
    }


def card(model_id: str = MODEL_ID) -> ModelCard:
    if model_id != MODEL_ID:
        raise ValueError(f"unknown UniTok id {model_id!r}; known: [{MODEL_ID!r}]")
    c = CONFIG
    index_bits = c.num_tokens * c.num_codebooks * (c.codebook_entries.bit_length() - 1)
    return index_card(
        (MODEL_ID, "unitok"),
        (FILENAME, HUB_ID),
        ((SOURCE_REPO, SOURCE_COMMIT, SOURCE_FILES), (PUBLISHED_RFID, RFID_SOURCE), PARITY),
        description=(
            f"UniTok-Large: {c.grid} x {c.grid} tokens, each {c.num_codebooks} codes from "
            f"{c.num_codebooks} codebooks of {c.codebook_entries}; ViTamin-L encoder and decoder; "
            f"published rFID {PUBLISHED_RFID:.2f}."
        ),
        license="MIT (UniTok LICENSE); the Hub repo's own terms were not readable here",
        resolution=c.img_size,
        num_tokens=c.num_tokens,
        codebook_size=c.vocab_size,
        latent_channels=c.vocab_width,
        compression=f"{c.factor}x",
        tokbench_name="UniTok",
        extra={
            "preprocessing": (
                f"{SIGNED_RANGE}; 256 x 256 only (official inference.py: Resize(int(256 * "
                "1.125) = 288), CenterCrop 256, ToTensor, 2x - 1)"
            ),
            "codebook": (
                f"{c.num_codebooks} codebooks of {c.codebook_entries} x "
                f"{c.vocab_width // c.num_codebooks}, L2-normalised, nearest by cosine; the "
                f"{c.vocab_width}-dim feature is split into {c.num_codebooks} chunks"
            ),
            "token_ids": (
                f"codebook usage counts over all {c.vocab_size} entries: codebook k's index i "
                f"is id k * {c.codebook_entries} + i"
            ),
            "index_bits": index_bits,  # evalkit.rate: 256 tokens x 8 codes x 12 bits
            "checkpoint_format": (
                "training checkpoint (pickle): read by torch.load(weights_only=True), with any "
                "training-code object replaced by an inert stand-in; the weights are "
                "ckpt['trainer']['unitok'] (as inference.py loads them), its CLIP side (text "
                "tower, fc_norm, projection, logit_scale) left out by name; ckpt['args'] is "
                "checked against the config when present"
            ),
        },
    )


def official_state_dict(checkpoint: Any, c: UniTokConfig, names: list[str]) -> dict:
    """The tokenizer's weights (our ``names``) from ``ckpt['trainer']['unitok']``; every other
    key must be one of the CLIP side's, and ``ckpt['args']`` (when a dict) must describe ``c``."""
    from evalkit.models.index_tokenizer import state_dict_at

    args = checkpoint.get("args") if isinstance(checkpoint, dict) else None
    if isinstance(args, dict):
        expected = official_args(c)
        wrong = {k: args[k] for k in ARGS_CHECKED if k in args and args[k] != expected[k]}
        if wrong:
            raise ValueError(
                f"{MODEL_ID}: the checkpoint's args {wrong} differ from this network's "
                f"{ {k: expected[k] for k in wrong} }"
            )
    sd = state_dict_at(MODEL_ID, checkpoint, *CHECKPOINT_PATH)
    unknown = sorted(k for k in set(sd) - set(names) if not k.startswith(CLIP_SIDE))
    if unknown:
        raise ValueError(f"{MODEL_ID}: unexpected keys in the checkpoint: {unknown[:5]}")
    return {k: v for k, v in sd.items() if not k.startswith(CLIP_SIDE)}


def build(
    model_id: str = MODEL_ID,
    *,
    random_init: bool = False,
    tiny: bool = False,
    seed: int = 0,
    weights_path: str | None = None,
    **options: Any,
) -> IndexTokenizer:
    """UniTok with its official checkpoint, loaded strictly (``weights_path`` for an explicit
    file; ``random_init`` / ``tiny`` for tests)."""
    from evalkit.models.index_tokenizer import build_index_tokenizer, check_build_args
    from evalkit.models.unitok_arch import UniTokNet

    check_build_args(model_id, options, tiny, random_init, weights_path)
    c = card(model_id)
    cfg = tiny_config() if tiny else CONFIG
    if tiny:
        bits = cfg.num_tokens * cfg.num_codebooks * (cfg.codebook_entries.bit_length() - 1)
        extra = {**c.extra, "index_bits": bits}
        c = replace(
            c, resolution=cfg.img_size, num_tokens=cfg.num_tokens, codebook_size=cfg.vocab_size,
            extra=extra,
        )  # fmt: skip

    def unpack(checkpoint: Any) -> dict[str, torch.Tensor]:
        import torch

        with torch.device("meta"):
            names = list(UniTokNet(cfg).state_dict())
        return official_state_dict(checkpoint, cfg, names)

    return build_index_tokenizer(
        c,
        lambda: UniTokNet(cfg),
        unpack,
        random_init=random_init,
        seed=seed,
        weights_path=weights_path,
    )
