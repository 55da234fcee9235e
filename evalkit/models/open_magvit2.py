"""Open-MAGVIT2 (TencentARC/SEED-Voken): card, checkpoint and tokenizer of the ImageNet 256 x 256
lookup-free-quantisation tokenizer (16 x 16 tokens from a 2^18 implicit codebook).

The release is a Lightning checkpoint (``imagenet_256_L.ckpt``) whose ``state_dict`` holds the
training weights (``encoder.*``, ``decoder.*``), the loss's weights and the EMA of every weight
(``model_ema.<name without dots>``). The config sets ``use_ema: True`` and the official
evaluation encodes and decodes inside ``ema_scope()``, i.e. with the EMA weights: so do we. The
network is :mod:`evalkit.models.open_magvit2_arch`.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING, Any

from evalkit.models.index_tokenizer import SIGNED_RANGE, index_card
from evalkit.models.open_magvit2_config import CONFIG, MagvitConfig
from evalkit.types import ModelCard

if TYPE_CHECKING:
    import torch

    from evalkit.models.index_tokenizer import IndexTokenizer

MODEL_ID = "open-magvit2-256"
VARIANTS = {MODEL_ID: CONFIG}
SOURCE_REPO = "https://github.com/TencentARC/SEED-Voken"
SOURCE_COMMIT = "b9a17eac8e2c0779c12a5429b0bfd6c502788484"  # code read at this commit
SOURCE_FILES = (
    "src/Open_MAGVIT2/models/lfqgan.py, src/Open_MAGVIT2/modules/diffusionmodules/"
    "improved_model.py, src/Open_MAGVIT2/modules/vqvae/lookup_free_quantize.py, "
    "src/Open_MAGVIT2/modules/ema.py, configs/Open-MAGVIT2/gpu/imagenet_lfqgan_256_L.yaml, "
    "evaluation_image.py"
)
HUB_ID = "TencentARC/Open-MAGVIT2-Tokenizer-256-resolution"
FILENAME = "imagenet_256_L.ckpt"
PUBLISHED_RFID = 1.17
RFID_SOURCE = (
    "SEED-Voken docs/Open-MAGVIT2.md, 256 x 256 ImageNet tokenizer table: Open-MAGVIT2, "
    "16 x 16 tokens, codebook 262144, rFID 1.17, PSNR 21.90"
)
EMA_PREFIX = "model_ema."
PARITY = (
    "official VQModel (src/Open_MAGVIT2/models/lfqgan.py at SOURCE_COMMIT, use_ema, inside "
    "ema_scope() as evaluation_image.py; lightning 2.2.0, torch 2.14.1, CPU) vs ours loaded by "
    "build(weights_path=...) from a checkpoint in the official layout, seeded random weights, "
    "scikit-image photos (tests/models/test_open_magvit2.py, fixture "
    "tests/fixtures/open_magvit2_official.*): tokens identical (released config 1 x 16 x 16, "
    "narrow config 3 x 8 x 8); unclamped decodes within 2.9e-5 (released) and 1.6e-5 "
    "(narrow) max abs, tolerance 1e-4"
)
RANDOM_INIT_OPTIONS = ("random_init",)  # read by evalkit.runner.loaded_card
WEIGHT_OPTIONS = {"weights_path": 0}


def tiny_config() -> MagvitConfig:
    """A narrow network of the same architecture (five levels, 2 res blocks, 18 bits) for
    128 x 128 images: 8 x 8 tokens."""
    return replace(CONFIG, ch=32, num_res_blocks=2, image_size=128)


def card(model_id: str = MODEL_ID) -> ModelCard:
    if model_id != MODEL_ID:
        raise ValueError(f"unknown Open-MAGVIT2 id {model_id!r}; known: [{MODEL_ID!r}]")
    c = CONFIG
    return index_card(
        (MODEL_ID, "open-magvit2"),
        (FILENAME, HUB_ID),
        ((SOURCE_REPO, SOURCE_COMMIT, SOURCE_FILES), (PUBLISHED_RFID, RFID_SOURCE), PARITY),
        description=(
            f"Open-MAGVIT2 LFQ tokenizer: {c.grid} x {c.grid} tokens, {c.z_channels}-bit "
            f"lookup-free codes (2^{c.z_channels}); ImageNet 256; "
            f"published rFID {PUBLISHED_RFID:.2f}."
        ),
        license="Apache-2.0 (SEED-Voken LICENSE); the Hub repo's own terms were not readable here",
        resolution=c.image_size,
        num_tokens=c.num_tokens,
        codebook_size=c.codebook_size,
        latent_channels=c.z_channels,
        compression=f"{c.factor}x",
        tokbench_name="Open-MAGVIT2",
        extra={
            "preprocessing": (
                f"{SIGNED_RANGE} (official x / 127.5 - 1); 256 x 256 only (official val: "
                "albumentations SmallestMaxSize 256, CenterCrop 256)"
            ),
            "codebook": (
                f"implicit: sign of each of {c.z_channels} channels; id = sum_d [z_d > 0] 2^d"
            ),
            "weights_used": "the EMA weights (model_ema.*), as the official evaluation does",
            "checkpoint_format": (
                "Lightning checkpoint (pickle): read by torch.load(weights_only=True), with "
                "any training-code object in it replaced by an inert stand-in (never imported)"
            ),
        },
    )


def official_state_dict(checkpoint: Any, names: list[str]) -> dict[str, torch.Tensor]:
    """Our ``names`` (encoder.*, decoder.*) from the checkpoint's EMA buffers; a clear error
    when the file has no EMA of one of them (the official evaluation would silently use the
    EMA's initial copy then)."""
    from evalkit.models.index_tokenizer import state_dict_at

    sd = state_dict_at(MODEL_ID, checkpoint, "state_dict")
    ema_names = {n: EMA_PREFIX + n.replace(".", "") for n in names}
    if len(set(ema_names.values())) != len(names):
        raise ValueError(f"{MODEL_ID}: parameter names collide once their dots are removed")
    missing = [n for n, e in ema_names.items() if e not in sd]
    if missing:
        raise ValueError(
            f"{MODEL_ID}: the checkpoint's state_dict has no EMA weights for {missing[:3]} "
            f"({len(missing)} of {len(names)}; expected keys like {ema_names[missing[0]]!r})"
        )
    return {n: sd[e] for n, e in ema_names.items()}


def build(
    model_id: str = MODEL_ID,
    *,
    random_init: bool = False,
    tiny: bool = False,
    seed: int = 0,
    weights_path: str | None = None,
    **options: Any,
) -> IndexTokenizer:
    """Open-MAGVIT2 with its official checkpoint's EMA weights, loaded strictly
    (``weights_path`` for an explicit file; ``random_init`` / ``tiny`` for tests)."""
    from evalkit.models.index_tokenizer import build_index_tokenizer, check_build_args
    from evalkit.models.open_magvit2_arch import OpenMagvit2

    check_build_args(model_id, options, tiny, random_init, weights_path)
    c = card(model_id)
    cfg = tiny_config() if tiny else CONFIG
    if tiny:
        c = replace(c, resolution=cfg.image_size, num_tokens=cfg.num_tokens)

    def unpack(checkpoint: Any) -> dict[str, torch.Tensor]:
        import torch

        with torch.device("meta"):
            names = list(OpenMagvit2(cfg).state_dict())
        return official_state_dict(checkpoint, names)

    return build_index_tokenizer(
        c,
        lambda: OpenMagvit2(cfg),
        unpack,
        random_init=random_init,
        seed=seed,
        weights_path=weights_path,
    )
