"""Cosmos image tokenizers (NVIDIA/Cosmos-Tokenizer): CI8x8, CI16x16 (continuous, 16 channels),
DI8x8, DI16x16 (discrete, FSQ with 64,000 codes).

NVIDIA publishes these only as TorchScript archives (``encoder.jit``, ``decoder.jit`` on the Hub
repos ``nvidia/Cosmos-0.1-Tokenizer-*``). ``torch.load(weights_only=True)`` refuses TorchScript
and ``torch.jit.load`` would compile the archive's code, so the tensors are read with
:mod:`evalkit.models.safe_checkpoint` (nothing from the file runs) into our implementation
(:mod:`evalkit.models.cosmos_arch`, the official module names), strictly.

Pre/post-processing as the official ``cosmos_tokenizer.image_lib.ImageTokenizer.forward``: images
in [-1, 1]; sides padded with black (-1) to multiples of 16, split evenly (the extra pixel at the
bottom / right), and cropped back after decoding; output mapped ``(y + 1) / 2`` and clamped.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from evalkit.models.vae import WEIGHTS_PIN
from evalkit.models.weights import no_grad
from evalkit.types import ModelCard, TokenizerBase, WeightsFile

if TYPE_CHECKING:
    import torch

RANDOM_INIT_OPTIONS = ("random_init",)  # read by evalkit.runner.loaded_card
ALIGN = 16  # image_lib pads every image to a multiple of 16 (utils._SPATIAL_ALIGN)
CODEBOOK = 64000  # FSQ levels (8, 8, 8, 5, 5, 5)
OFFICIAL_REPO = "NVIDIA/Cosmos-Tokenizer"
NO_PUBLISHED_RFID = (
    "none: the Cosmos-Tokenizer README (and NVIDIA/Cosmos' tokenizer README) has no image table; "
    "its only image evaluation is a PSNR bar chart on DAVIS video frames (assets/Davis-results.jpg"
    "), not ImageNet-256 rFID"
)


@dataclass(frozen=True)
class _Variant:
    name: str  # the official model name: Cosmos-0.1-Tokenizer-<name>
    discrete: bool
    compression: int

    @property
    def hub_id(self) -> str:
        return f"nvidia/Cosmos-0.1-Tokenizer-{self.name}"


VARIANTS: dict[str, _Variant] = {
    "cosmos-ci8x8": _Variant("CI8x8", False, 8),
    "cosmos-ci16x16": _Variant("CI16x16", False, 16),
    "cosmos-di8x8": _Variant("DI8x8", True, 8),
    "cosmos-di16x16": _Variant("DI16x16", True, 16),
}


def _variant(model_id: str) -> _Variant:
    try:
        return VARIANTS[model_id]
    except KeyError:
        raise ValueError(f"unknown Cosmos id {model_id!r}; known: {sorted(VARIANTS)}") from None


def weights_files(model_id: str) -> tuple[WeightsFile, ...]:
    v = _variant(model_id)
    return tuple(
        WeightsFile(filename=name, store_path=f"weights/{model_id}/{name}", hub_id=v.hub_id)
        for name in ("encoder.jit", "decoder.jit")
    )


def card(model_id: str) -> ModelCard:
    v = _variant(model_id)
    kind = "discrete FSQ tokens" if v.discrete else "continuous 16-channel latents"
    return ModelCard(
        id=model_id,
        family="cosmos",
        kind="tokenizer",
        description=f"Cosmos-0.1-Tokenizer-{v.name}: {kind}, /{v.compression} (NVIDIA)",
        weights=weights_files(model_id),
        license="NVIDIA Open Model License (weights: commercial use allowed); code Apache-2.0",
        resolution=None,  # fully convolutional; padded to multiples of 16
        num_tokens=None,  # (H / f) * (W / f) positions
        codebook_size=CODEBOOK if v.discrete else None,
        latent_channels=6 if v.discrete else 16,
        compression=f"{v.compression}x",
        discrete=v.discrete,
        extra={
            "backend": "evalkit.models.cosmos_arch (official module names)",
            "official_code": f"{OFFICIAL_REPO} (cosmos_tokenizer/networks, image_lib.py)",
            "input_range": "[-1, 1] (2x - 1)",
            "padding": "black to multiples of 16, centred, cropped after decoding (image_lib)",
            "tokens": "FSQ levels (8, 8, 8, 5, 5, 5), one id per position"
            if v.discrete
            else "16 x H/f x W/f latent (AE formulation: no sampling)",
            "official_precision": "bfloat16 on CUDA (image_lib default); we run the runner's",
            "weights_format": "TorchScript archives, read without torch.jit (safe_checkpoint)",
            "revision_pinned": False,
            "weights_pin": WEIGHTS_PIN,
            "published_rfid": NO_PUBLISHED_RFID,
        },
    )


@dataclass
class CosmosCodes:
    """What ``encode`` returns: the latent (CI) or FSQ codes and ids (DI), and the crop that
    undoes the padding."""

    latent: torch.Tensor
    indices: torch.Tensor | None
    crop: tuple[int, int, int, int]  # top, left, height, width of the image in the padded frame


class CosmosTokenizer(TokenizerBase):
    def __init__(self, model_card: ModelCard, encoder: Any, decoder: Any) -> None:
        import torch

        self.card = model_card
        self.module = torch.nn.ModuleDict({"encoder": encoder, "decoder": decoder}).eval()

    def _param(self) -> torch.Tensor:
        return next(self.module.parameters())

    @no_grad
    def encode(self, images: torch.Tensor) -> CosmosCodes:
        import torch.nn.functional as F

        p = self._param()
        h, w = images.shape[-2:]
        ph, pw = (-h) % ALIGN, (-w) % ALIGN
        x = images.to(device=p.device, dtype=p.dtype) * 2.0 - 1.0
        x = F.pad(x, (pw >> 1, pw - (pw >> 1), ph >> 1, ph - (ph >> 1)), value=-1.0)
        latent, indices = self.module["encoder"](x)
        return CosmosCodes(latent, indices, (ph >> 1, pw >> 1, h, w))

    @no_grad
    def decode(self, codes: CosmosCodes) -> torch.Tensor:
        dec = self.module["decoder"]
        p = self._param()
        z = dec.codes(codes.indices, p.dtype) if codes.indices is not None else codes.latent
        out = dec(z.to(device=p.device, dtype=p.dtype))
        top, left, h, w = codes.crop
        out = out[..., top : top + h, left : left + w]
        return ((out.float() + 1.0) / 2.0).clamp(0.0, 1.0)

    def token_ids(self, codes: CosmosCodes) -> torch.Tensor | None:
        if codes.indices is None:
            return None
        return codes.indices.flatten(1).long()


def build(
    model_id: str,
    *,
    dtype: str = "float32",
    random_init: bool = False,
    arch: dict[str, Any] | None = None,
    seed: int = 0,
    **options: Any,
) -> CosmosTokenizer:
    """The tokenizer from its two archives (store, cache or the Hub). ``random_init`` builds
    random weights instead; ``arch`` replaces architecture values of the official config (tests
    load tiny official archives through the real loading path with it)."""
    if options:
        raise ValueError(f"{model_id}: unknown options {sorted(options)}")
    import torch

    from evalkit.models.cosmos_arch import CosmosConfig, CosmosDecoder, CosmosEncoder

    v = _variant(model_id)
    c = card(model_id)
    cfg = CosmosConfig(v.discrete, v.compression, z_channels=256 if v.discrete else 16)
    if arch:
        cfg = replace(cfg, **{k: tuple(x) if isinstance(x, list) else x for k, x in arch.items()})
        c = replace(c, description=c.description + f" [architecture {arch}]")
    paths = []
    if random_init:
        c = replace(c, weights=(), description=c.description + " [random init]")
    else:
        from evalkit.assets import run_context
        from evalkit.store import resolve_all

        with run_context(None, model_id):  # one message naming both files if either is missing
            paths = [got.path for got in resolve_all(c.weights, f"{model_id} files")]
    torch.manual_seed(seed)
    encoder, decoder = CosmosEncoder(cfg), CosmosDecoder(cfg)
    if paths:
        from evalkit.models.safe_checkpoint import torchscript_tensors
        from evalkit.models.weights import load_strict

        for module, path in zip((encoder, decoder), paths, strict=True):
            load_strict(module, torchscript_tensors(path), f"{model_id} {path.name}")
    encoder, decoder = (m.to(getattr(torch, dtype)) for m in (encoder, decoder))
    return CosmosTokenizer(c, encoder, decoder)
