"""VA-VAE (hustvl/LightningDiT ``tokenizer/``): the LDM KL autoencoder, f16, 32 latent channels.

Our implementation is :mod:`evalkit.models.ldm_arch` with the official module names (``encoder.*``,
``decoder.*``, ``quant_conv``, ``post_quant_conv``). The released checkpoint is a training pickle
(``vavae-imagenet256-f16d32-dinov2.pt``, a ``state_dict`` with the loss / foundation-model
tensors beside the VAE's); it is read with :mod:`evalkit.models.safe_checkpoint` (nothing in the
file runs), the VAE's tensors loaded strictly, the others ignored as the official
``init_from_ckpt`` does (``strict=False``).

Pre/post-processing as ``tokenizer/vavae.py``: images in [-1, 1]; latents are the posterior
mean (the official ``encode_images`` samples; LightningDiT then normalises with
``latents_stats.pt``, not applied here); decoded output mapped to [0, 1] and clamped. The
official ``decode_to_images`` quantises with ``clamp(127.5 y + 128).to(uint8)`` (floor of
y*127.5+128); the runner rounds (y+1)/2*255: at most one level apart.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING, Any

from evalkit.models.vae import WEIGHTS_PIN
from evalkit.models.weights import no_grad, pad_to_multiple, signed_input
from evalkit.types import ModelCard, TokenizerBase, WeightsFile

if TYPE_CHECKING:
    import torch

RANDOM_INIT_OPTIONS = ("random_init",)
OFFICIAL_REPO = "hustvl/LightningDiT"
OFFICIAL_COMMIT = "2725fed42a14898744433809949834e26957bcdd"
HUB_ID = "hustvl/vavae-imagenet256-f16d32-dinov2"
CKPT = "vavae-imagenet256-f16d32-dinov2.pt"
# tokenizer/configs/vavae_f16d32.yaml ddconfig and tokenizer/autoencoder.py AutoencoderKL
RELEASED = {
    "ch": 128,
    "ch_mult": (1, 1, 2, 2, 4),
    "num_res_blocks": 2,
    "attn_resolutions": (16,),
    "resolution": 256,
    "embed_dim": 32,
}
VAE_PREFIXES = ("encoder.", "decoder.", "quant_conv.", "post_quant_conv.")
VARIANTS = {"vavae-f16d32": HUB_ID}  # one released VA-VAE (catalog ids of this family)


def card(model_id: str) -> ModelCard:
    if model_id not in VARIANTS:
        raise ValueError(f"unknown VA-VAE id {model_id!r}; known: {sorted(VARIANTS)}")
    return ModelCard(
        id=model_id,
        family="vavae",
        kind="tokenizer",
        description="VA-VAE f16d32 aligned with DINOv2 (LightningDiT), LDM KL autoencoder",
        weights=(
            WeightsFile(filename=CKPT, store_path=f"weights/{model_id}/{CKPT}", hub_id=HUB_ID),
        ),
        license="MIT (LightningDiT LICENSE badge in its README)",
        resolution=None,  # fully convolutional; sides padded to multiples of 16
        num_tokens=None,
        codebook_size=None,
        latent_channels=32,
        compression="16x",
        discrete=False,
        extra={
            "backend": "evalkit.models.ldm_arch (official module names)",
            "official_code": f"{OFFICIAL_REPO}@{OFFICIAL_COMMIT} tokenizer/autoencoder.py",
            "input_range": "[-1, 1] (2x - 1)",
            "latents": "posterior mean, unnormalised (latents_stats.pt not applied)",
            "padding": "replicate to multiples of 16, cropped after decoding",
            "weights_format": "training pickle read without unpickling objects (safe_checkpoint)",
            "published_rfid": "0.28 (LightningDiT README: 'Latent diffusion system with 0.28 "
            "rFID'); tokenizer/vavae.py's docstring says 0.27",
            "revision_pinned": False,
            "weights_pin": WEIGHTS_PIN,
        },
    )


class VAVAETokenizer(TokenizerBase):
    def __init__(self, model_card: ModelCard, module: Any) -> None:
        self.card = model_card
        self.module = module.eval()

    def _param(self) -> torch.Tensor:
        return next(self.module.parameters())

    @no_grad
    def encode(self, images: torch.Tensor) -> torch.Tensor:
        from evalkit.models.ldm_arch import gaussian_moments

        x = signed_input(images, self.module)
        moments = self.module["quant_conv"](self.module["encoder"](x))
        return gaussian_moments(moments)[0]

    @no_grad
    def decode(self, codes: torch.Tensor) -> torch.Tensor:
        p = self._param()
        z = self.module["post_quant_conv"](codes.to(device=p.device, dtype=p.dtype))
        return ((self.module["decoder"](z).float() + 1.0) / 2.0).clamp(0.0, 1.0)

    @no_grad
    def reconstruct(self, images: torch.Tensor) -> torch.Tensor:
        """Pads to a multiple of the compression (replicate) and crops back."""
        h, w = images.shape[-2:]
        return self.decode(self.encode(pad_to_multiple(images, 16)))[..., :h, :w]


def make_module(cfg: dict[str, Any]) -> Any:
    """The official AutoencoderKL's modules for ``cfg`` (keys of :data:`RELEASED`)."""
    import torch

    from evalkit.models.ldm_arch import Decoder, Encoder

    n, z = len(cfg["ch_mult"]), cfg["embed_dim"]
    common = {k: cfg[k] for k in ("ch", "ch_mult", "num_res_blocks", "attn_resolutions")}
    enc = Encoder(
        **common,
        resolution=cfg["resolution"],
        in_channels=3,
        out_channels=2 * z,
        num_downsamples=n - 1,
    )
    dec = Decoder(
        **common, resolution=cfg["resolution"], z_channels=z, out_channels=3, num_upsamples=n - 1
    )
    return torch.nn.ModuleDict(
        {
            "encoder": enc,
            "decoder": dec,
            "quant_conv": torch.nn.Conv2d(2 * z, 2 * z, 1),
            "post_quant_conv": torch.nn.Conv2d(z, z, 1),
        }
    )


def build(
    model_id: str,
    *,
    dtype: str = "float32",
    random_init: bool = False,
    arch: dict[str, Any] | None = None,
    seed: int = 0,
    **options: Any,
) -> VAVAETokenizer:
    """From the store / cache / Hub; ``arch`` replaces values of :data:`RELEASED` (tests)."""
    if options:
        raise ValueError(f"{model_id}: unknown options {sorted(options)}")
    import torch

    c = card(model_id)
    cfg = dict(
        RELEASED, **{k: tuple(v) if isinstance(v, list) else v for k, v in (arch or {}).items()}
    )
    torch.manual_seed(seed)
    module = make_module(cfg)
    if random_init:
        c = replace(c, weights=(), description=c.description + " [random init]")
    else:
        from evalkit.assets import run_context
        from evalkit.models.safe_checkpoint import checkpoint_tensors
        from evalkit.models.weights import load_strict
        from evalkit.store import resolve_all

        with run_context(None, model_id):
            (got,) = resolve_all(c.weights, f"{model_id} files")
        try:  # the official init_from_ckpt takes sd["state_dict"] when present, else sd
            tensors = checkpoint_tensors(got.path, "state_dict")
        except ValueError:
            tensors = checkpoint_tensors(got.path)
        vae = {k: v for k, v in tensors.items() if k.startswith(VAE_PREFIXES)}
        load_strict(module, vae, f"{model_id} {got.path.name}")
    if arch:
        c = replace(c, description=c.description + f" [architecture {arch}]")
    return VAVAETokenizer(c, module.to(getattr(torch, dtype)))
