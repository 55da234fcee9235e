"""MAETok (Hhhhhhao/continuous_tokenizer, arXiv 2502.03444): a 1D tokenizer whose ViT encoder
summarises a 256 x 256 image into 128 learnable latent tokens of 32 continuous values each; a ViT
decoder maps them back to pixels. Card, weights and the tokenizer adapter.

Network: :mod:`evalkit.models.maetok_arch` (official key names). The released checkpoint is the
``PyTorchModelHubMixin`` file ``model.safetensors`` of the Hub repo ``MAETok/maetok-b-128`` (the
file name huggingface_hub's mixin saves and reads); its config.json could not be read here, so the
network follows the repository's published MAETok training config (see
``scripts/official_fixtures/maetok.py``); a checkpoint that differs fails the strict load with the
names that differ. The official loader reads the file with ``strict=False``; we keep only the
inference modules' tensors (``encoder.``, ``decoder.``, ``quant_conv.``, ``post_quant_conv.``; the
training-only REPA projector and frozen DINOv2 are dropped) and load those strictly.

Pre/post-processing as ``inference/reconstruct_vq.py``: centre crop to 256, [-1, 1] input;
latents are ``encode()``'s (no scaling); output mapped to [0, 1] and clamped (the official
``clamp(127.5 y + 128).to(uint8)`` floors; the runner rounds: at most one level apart).
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from evalkit.models.weights import no_grad, signed_input
from evalkit.types import ModelCard, TokenizerBase, WeightsFile

if TYPE_CHECKING:
    import torch

    from evalkit.models.maetok_arch import MAETokConfig, MAETokNet

RANDOM_INIT_OPTIONS = ("random_init",)
WEIGHT_OPTIONS = {"weights_path": 0}
SOURCE_REPO = "https://github.com/Hhhhhhao/continuous_tokenizer"
SOURCE_COMMIT = "7cc3e962cb4185e0f40a007ff140c059a6f6e84f"  # code read (and run) at this commit
HUB_ID = "MAETok/maetok-b-128"
HUB_FILENAME = "model.safetensors"
PUBLISHED_RFID = 0.48  # README "MAETok Tokenizers" table at SOURCE_COMMIT (MAETok-B-128, 256)
WEIGHTS_PIN = (
    "unpinned (Hub unreachable here; no readable source gives a commit or sha256): trusted on "
    "first use, verified against the Hub's LFS sha256 and locked; safetensors"
)
LICENSE = (
    "not stated: no LICENSE file in the repository at the source commit (the only mention is an "
    "unused license='apache-2.0' default argument of AEModel); the Hub repo's card could not be "
    "read here"
)
INFERENCE_PREFIXES = ("encoder.", "decoder.", "quant_conv.", "post_quant_conv.")
VARIANTS = {"maetok-b128": HUB_ID}


def released_config() -> MAETokConfig:
    from evalkit.models.maetok_arch import MAETokConfig

    return MAETokConfig()


def weights_file(model_id: str) -> WeightsFile:
    return WeightsFile(
        filename=HUB_FILENAME,
        sha256=None,
        store_path=f"weights/{model_id}/{HUB_FILENAME}",
        hub_id=VARIANTS[model_id],
        revision=None,
    )


def card(model_id: str) -> ModelCard:
    if model_id not in VARIANTS:
        raise ValueError(f"unknown MAETok id {model_id!r}; known: {sorted(VARIANTS)}")
    return ModelCard(
        id=model_id,
        family="maetok",
        kind="tokenizer",
        description=(
            "MAETok-B-128: 1D tokenizer, 128 continuous latent tokens x 32 dims (ViT-B encoder "
            f"and decoder); ImageNet-trained; published rFID {PUBLISHED_RFID} at 256"
        ),
        weights=(weights_file(model_id),),
        license=LICENSE,
        resolution=256,
        num_tokens=128,
        codebook_size=None,
        latent_channels=32,
        compression="1D-128",
        discrete=False,
        extra={
            "source_repo": SOURCE_REPO,
            "source_commit": SOURCE_COMMIT,
            "official_class": "modelling/tokenizer.py AEModel (demo/maetok.ipynb)",
            "config_source": (
                "the repository's MAETok training config (configs/maetok-b-64.yaml after the "
                "05/2025 training-code release: 128 tokens, 32 dims); the Hub config.json was "
                "not readable here"
            ),
            "published_rfid": PUBLISHED_RFID,
            "preprocessing": "RGB, centre crop 256 (ADM center_crop_arr), [-1, 1] (2x - 1)",
            "latents": "(B, 128, 32) encode() output, unscaled",
            "encoder": "ViT-B/16 (DINOv2 layout, layer scale) + 128 latent tokens, mixed 2D RoPE",
            "decoder": "ViT-B/16 MoVQ blocks modulated by the latents, linear patch head",
            "weights_pin": WEIGHTS_PIN,
        },
    )


class MAETokTokenizer(TokenizerBase):
    """encode: (B, 128, 32) float latents; decode: [0, 1] images."""

    def __init__(self, model_card: ModelCard, net: MAETokNet) -> None:
        self.card = model_card
        self.module = net.eval()

    @no_grad
    def encode(self, images: torch.Tensor) -> torch.Tensor:
        size = self.module.config.image_size
        if tuple(images.shape[-2:]) != (size, size):
            raise ValueError(f"{self.card.id} takes {size} x {size} images, got {images.shape}")
        return self.module.encode(signed_input(images, self.module))

    @no_grad
    def decode(self, codes: torch.Tensor) -> torch.Tensor:
        p = next(self.module.parameters())
        y = self.module.decode(codes.to(device=p.device, dtype=p.dtype))
        return ((y.float() + 1.0) / 2.0).clamp(0.0, 1.0)


def load_net(cfg: MAETokConfig, path: Path, source: str) -> MAETokNet:
    """The network with a checkpoint's inference tensors, loaded strictly (no random init)."""
    from evalkit.models.maetok_arch import MAETokNet, grid_positions
    from evalkit.models.weights import load_state_dict, strict_without_init

    tensors = {k: v for k, v in load_state_dict(path).items() if k.startswith(INFERENCE_PREFIXES)}
    cfg = replace(cfg, enc_token_drop="encoder.mask_token" in tensors)  # training-only token
    t_x, t_y = grid_positions(cfg.grid)
    for side in ("encoder", "decoder"):  # persistent buffers the official code computes
        tensors.setdefault(f"{side}.freqs_t_x", t_x)
        tensors.setdefault(f"{side}.freqs_t_y", t_y)
    return strict_without_init(lambda: MAETokNet(cfg), tensors, source)


def build(
    model_id: str,
    *,
    random_init: bool = False,
    tiny: bool = False,
    seed: int = 0,
    weights_path: str | None = None,
    arch: dict[str, Any] | None = None,
    **options: Any,
) -> MAETokTokenizer:
    """MAETok from the store / cache / Hub (strict), an explicit ``weights_path``, or seeded
    random weights (``random_init``, tests; ``tiny`` with it: 32 pixels, one block per side);
    ``arch`` replaces config fields (tests)."""
    if options:
        raise ValueError(f"{model_id}: unknown options {sorted(options)}")
    if tiny and not random_init:
        raise ValueError("tiny=True only makes sense with random_init=True")
    if tiny:
        arch = {"image_size": 32, "depth": 1, **(arch or {})}
    import torch

    from evalkit.models.maetok_arch import MAETokNet

    c = card(model_id)
    cfg = replace(released_config(), **(arch or {}))
    if arch:
        c = replace(c, description=c.description + f" [architecture {arch}]")
    if random_init:
        torch.manual_seed(seed)
        c = replace(
            c,
            weights=(),
            description=c.description + " [random init]",
            resolution=cfg.image_size,
        )
        return MAETokTokenizer(c, MAETokNet(cfg))
    if weights_path:
        path = Path(weights_path)
    else:
        from evalkit.assets import run_context
        from evalkit.store import resolve

        with run_context(None, model_id):
            path = resolve(c.weights[0], f"{model_id} checkpoint")
    return MAETokTokenizer(c, load_net(cfg, path, f"{model_id} {path.name}"))
