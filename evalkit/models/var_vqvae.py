"""VAR's multi-scale VQ-VAE (FoundationVision/VAR): card, checkpoint and tokenizer.

680 tokens per 256 x 256 image, over ten scales (1x1, 2x2, ..., 16x16) of residual quantisation
with one 4096-entry codebook; the image is the decode of the sum of all scales (the official
``idxBl_to_img(..., same_shape=True, last_one=True)``). Input 2x - 1 at 256 x 256 only (the last
scale must be the 16 x 16 feature grid). The network is :mod:`evalkit.models.var_vqvae_arch`.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING, Any

from evalkit.models.index_tokenizer import SIGNED_RANGE, index_card
from evalkit.models.var_vqvae_config import CONFIG, VarVQConfig
from evalkit.types import ModelCard

if TYPE_CHECKING:
    import torch

    from evalkit.models.index_tokenizer import IndexTokenizer

MODEL_ID = "var-vqvae"
VARIANTS = {MODEL_ID: CONFIG}
SOURCE_REPO = "https://github.com/FoundationVision/VAR"
SOURCE_COMMIT = "78b95394fc5896192e3a003e4b295f8ea743c48f"  # code read at this commit
SOURCE_FILES = "models/vqvae.py, models/quant.py, models/basic_vae.py, models/__init__.py"
HUB_ID = "FoundationVision/var"
FILENAME = "vae_ch160v4096z32.pth"
PUBLISHED_RFID = 0.90
RFID_SOURCE = "FoundationVision/UniTok README, Performance table: VAR, 680 tokens, rFID 0.90"
PARITY = (
    "official VQVAE (models/vqvae.py at SOURCE_COMMIT, torch 2.14.1, CPU) vs ours loaded by "
    "build(weights_path=...), seeded random weights, scikit-image photos "
    "(tests/models/test_var_vqvae.py, fixture tests/fixtures/var_vqvae_official.*): tokens "
    "identical (released config 1 x 680, narrow config 3 x 155); unclamped decodes within "
    "2.0e-5 (released) and 3.7e-5 (narrow) max abs, tolerance 1e-4"
)
RANDOM_INIT_OPTIONS = ("random_init",)  # read by evalkit.runner.loaded_card
WEIGHT_OPTIONS = {"weights_path": 0}


def tiny_config() -> VarVQConfig:
    """A narrow network of the same architecture (five levels, attention at the lowest one, four
    shared Phi layers) for 128 x 128 images: seven scales up to 8 x 8, 64 codes of 8 dims."""
    return replace(CONFIG, vocab_size=64, z_channels=8, ch=32, patch_nums=(1, 2, 3, 4, 5, 6, 8))


def card(model_id: str = MODEL_ID) -> ModelCard:
    if model_id != MODEL_ID:
        raise ValueError(f"unknown VAR id {model_id!r}; known: [{MODEL_ID!r}]")
    c = CONFIG
    bits = c.num_tokens * (c.vocab_size.bit_length() - 1)
    scales = ", ".join(str(p) for p in c.patch_nums)
    return index_card(
        (MODEL_ID, "var"),
        (FILENAME, HUB_ID),
        ((SOURCE_REPO, SOURCE_COMMIT, SOURCE_FILES), (PUBLISHED_RFID, RFID_SOURCE), PARITY),
        description=(
            f"VAR multi-scale residual VQ-VAE: {c.num_tokens} tokens over {len(c.patch_nums)} "
            f"scales (1x1 to 16x16) from one {c.vocab_size}-entry codebook; ImageNet-trained; "
            f"published rFID {PUBLISHED_RFID:.2f}."
        ),
        license="MIT (VAR LICENSE and README); the Hub repo's own terms were not readable here",
        resolution=c.image_size,
        num_tokens=c.num_tokens,
        codebook_size=c.vocab_size,
        latent_channels=c.z_channels,
        compression=f"{c.factor}x multi-scale",
        tokbench_name="VAR",
        extra={
            "preprocessing": (
                f"{SIGNED_RANGE}; 256 x 256 only (VAR's val transform: shorter side to 288, "
                "Lanczos, centre crop 256)"
            ),
            "scales": f"patch counts {scales}: sum of squares = {c.num_tokens} tokens",
            "codebook": f"{c.vocab_size} x {c.z_channels}, Euclidean nearest code",
            "index_bits": bits,  # evalkit.rate: 680 x 12 bits per 256 x 256 image
            "checkpoint_format": (
                "plain state dict (torch.save); the official demo and train.py load it with "
                "vae.load_state_dict(torch.load(...), strict=True)"
            ),
        },
    )


def official_state_dict(checkpoint: Any) -> dict[str, torch.Tensor]:
    """The file is the state dict itself, with the official names."""
    from evalkit.models.index_tokenizer import state_dict_at

    return state_dict_at(MODEL_ID, checkpoint)


def build(
    model_id: str = MODEL_ID,
    *,
    random_init: bool = False,
    tiny: bool = False,
    seed: int = 0,
    weights_path: str | None = None,
    **options: Any,
) -> IndexTokenizer:
    """VAR's VQ-VAE with its official checkpoint, loaded strictly (``weights_path`` for an
    explicit file; ``random_init`` / ``tiny`` for tests)."""
    from evalkit.models.index_tokenizer import build_index_tokenizer, check_build_args
    from evalkit.models.var_vqvae_arch import VarVQVAE

    check_build_args(model_id, options, tiny, random_init, weights_path)
    c = card(model_id)
    cfg = tiny_config() if tiny else CONFIG
    if tiny:
        c = replace(c, resolution=cfg.image_size)
    return build_index_tokenizer(
        c,
        lambda: VarVQVAE(cfg),
        official_state_dict,
        random_init=random_init,
        seed=seed,
        weights_path=weights_path,
    )
