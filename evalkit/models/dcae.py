"""DC-AE (Deep Compression Autoencoder, mit-han-lab/efficientvit) through diffusers' AutoencoderDC.

The ``-diffusers`` Hub repos hold the checkpoints converted by diffusers'
``scripts/convert_dcae_to_diffusers.py`` and are loaded with ``AutoencoderDC.from_pretrained``
(the efficientvit README's own "Deep Compression Autoencoder (Diffusers)" usage): for these repos
diffusers is the official runtime. The original ``mit-han-lab/dc-ae-*`` repos run on efficientvit's
``DCAE_HF``; that path is not compared here.

Images in [0, 1] -> ``2x - 1`` (the README's Normalize(0.5, 0.5)); sides padded (replicate) to a
multiple of 32 and cropped back; latents ``encode(x).latent * scaling_factor`` (0.3189 for
f32c32-in-1.0, diffusers' conversion script), decoded output mapped back to [0, 1] and clamped.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from evalkit.models.vae import WEIGHTS_NAME, WEIGHTS_PIN, load_pretrained
from evalkit.models.weights import no_grad, pad_to_multiple, signed_input
from evalkit.types import ModelCard, TokenizerBase, WeightsFile

if TYPE_CHECKING:
    import torch

RANDOM_INIT_OPTIONS = ("random_config",)  # read by evalkit.runner.loaded_card
OFFICIAL_REPO = "mit-han-lab/efficientvit"
OFFICIAL_COMMIT = "de7d7733cc0329f391b33f1f459271562ec27bd5"  # README read at this commit
DIFFUSERS_COMMIT = "58eb52c0803ea9af3abec60841c2a093bdf1f951"  # convert_dcae_to_diffusers.py


@dataclass(frozen=True)
class _Variant:
    hub_id: str
    factor: int
    latent_channels: int
    scaling_factor: float


VARIANTS: dict[str, _Variant] = {
    "dc-ae-f32c32": _Variant("mit-han-lab/dc-ae-f32c32-in-1.0-diffusers", 32, 32, 0.3189),
}


def _variant(model_id: str) -> _Variant:
    try:
        return VARIANTS[model_id]
    except KeyError:
        raise ValueError(f"unknown DC-AE id {model_id!r}; known: {sorted(VARIANTS)}") from None


def card(model_id: str) -> ModelCard:
    v = _variant(model_id)
    return ModelCard(
        id=model_id,
        family="dc-ae",
        kind="tokenizer",
        description=f"DC-AE f{v.factor}c{v.latent_channels} trained on ImageNet ({v.hub_id})",
        weights=tuple(
            WeightsFile(filename=name, store_path=f"weights/{model_id}/{name}", hub_id=v.hub_id)
            for name in ("config.json", WEIGHTS_NAME)
        ),
        license="code Apache-2.0 (efficientvit LICENSE); the weights' Hub licence not read here",
        resolution=None,  # fully convolutional; sides padded to multiples of 32
        num_tokens=None,
        codebook_size=None,
        latent_channels=v.latent_channels,
        compression=f"{v.factor}x",
        discrete=False,
        extra={
            "backend": "diffusers AutoencoderDC",
            "official_runtime": "diffusers AutoencoderDC (the -diffusers repos are its format; "
            "efficientvit's README loads them so)",
            "official_code": f"{OFFICIAL_REPO}@{OFFICIAL_COMMIT} applications/dc_ae",
            "input_range": "[-1, 1] (2x - 1)",
            "padding": f"replicate to multiples of {v.factor}, cropped after decoding",
            "scaling_factor": v.scaling_factor,
            "scaling_source": f"diffusers@{DIFFUSERS_COMMIT} scripts/convert_dcae_to_diffusers.py",
            "published_rfid": "none read: the DC-AE README reports rFID for f64c128 at 512 only "
            "(0.2168, 'Expected results'); no ImageNet-256 rFID of f32c32 in it",
            "revision_pinned": False,
            "weights_pin": WEIGHTS_PIN,
            "extra_to_install": "pip install 'evalkit[vae]' (diffusers >= 0.32: AutoencoderDC)",
        },
    )


class DCAETokenizer(TokenizerBase):
    def __init__(self, model_card: ModelCard, ae: Any, scaling_factor: float, factor: int) -> None:
        self.card = model_card
        self.module = ae.eval()
        self.scale = scaling_factor
        self.factor = factor

    def _param(self) -> torch.Tensor:
        return next(self.module.parameters())

    @no_grad
    def encode(self, images: torch.Tensor) -> torch.Tensor:
        x = signed_input(images, self.module)
        return self.module.encode(x).latent * self.scale

    @no_grad
    def decode(self, codes: torch.Tensor) -> torch.Tensor:
        p = self._param()
        out = self.module.decode(codes.to(device=p.device, dtype=p.dtype) / self.scale).sample
        return ((out.float() + 1.0) / 2.0).clamp(0.0, 1.0)

    @no_grad
    def reconstruct(self, images: torch.Tensor) -> torch.Tensor:
        """Pads to a multiple of the compression (replicate) and crops back."""
        h, w = images.shape[-2:]
        return self.decode(self.encode(pad_to_multiple(images, self.factor)))[..., :h, :w]


def build(
    model_id: str,
    *,
    dtype: str = "float32",
    seed: int = 0,
    random_config: dict[str, Any] | None = None,
    **options: Any,
) -> DCAETokenizer:
    """The tokenizer from the store / cache / Hub; ``random_config`` builds a random one (tests)."""
    if options:
        raise ValueError(f"{model_id}: unknown options {sorted(options)}")
    import torch

    try:
        from diffusers import AutoencoderDC
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError("DC-AE needs diffusers >= 0.32: pip install 'evalkit[vae]'") from exc
    v = _variant(model_id)
    c = card(model_id)
    if random_config is not None:
        torch.manual_seed(seed)
        ae = AutoencoderDC(**random_config).to(getattr(torch, dtype))
        c = replace(c, weights=(), description=c.description + " [random init]")
    else:
        ae = load_pretrained(AutoencoderDC, model_id, c, dtype, None)
        got = getattr(ae.config, "scaling_factor", None)
        if got is not None and abs(float(got) - v.scaling_factor) > 1e-6:
            raise ValueError(
                f"{model_id}: config scaling_factor={got}, card says {v.scaling_factor}"
            )
    return DCAETokenizer(c, ae, v.scaling_factor, v.factor)
