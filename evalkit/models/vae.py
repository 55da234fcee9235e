"""Latent-diffusion VAEs through diffusers (SD 1.x ft-MSE, SD-XL, SD-3.5, FLUX.1-dev, REPA-E).

We do not re-implement these: diffusers' ``AutoencoderKL`` loads the official files. The adapter
only maps value ranges and latent scaling: images in [0, 1] -> ``2x - 1`` into the VAE; latents
are returned in the diffusion model's space, ``(z - shift) * scale``; decoding undoes both and maps
``[-1, 1]`` back to ``[0, 1]`` (clamped). The posterior's mode (mean) is used by default, so a
reconstruction is deterministic; ``posterior="sample"`` draws each sample's noise from its own
seed (the runner's run seed + sample id; see :mod:`evalkit.models.sampling`).
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from evalkit.models.weights import diffusers_dtype, no_grad
from evalkit.types import ModelCard, TokenizerBase, WeightsFile

if TYPE_CHECKING:
    import torch

WEIGHTS_NAME = "diffusion_pytorch_model.safetensors"
RANDOM_INIT_OPTIONS = ("random_config",)  # read by evalkit.runner.loaded_card
# No revision or sha256 of these Hub repos could be read from a source available here (the Hub is
# unreachable), so none is pinned: they are trusted on first use (evalkit.hubfetch).
WEIGHTS_PIN = (
    "no revision or sha256 pinned (none readable here): main is resolved to a commit on first "
    "use and locked; each file is verified against the Hub's checksum for that commit"
)


REPA_E_REPO = "End2End-Diffusion/REPA-E"
_REPA_E_NOTES = (
    (
        "official_runtime",
        "diffusers AutoencoderKL: the authors release these as AutoencoderKL checkpoints loaded "
        "with diffusers' API, no wrapper (REPA-E Hub cards / project page). The first REPA-E "
        "release (End2End-Diffusion/REPA-E@3ad8046) ran its own LDM autoencoder "
        "(models/autoencoder.py) on .pt files; tests/models/test_repa_e.py shows that network "
        "(tiny, seeded) equals diffusers' AutoencoderKL after diffusers' LDM key conversion",
    ),
    ("latents", "raw posterior mode (REPA-E's per-channel BatchNorm normalisation not applied)"),
    ("input_range", "[-1, 1] (x / 127.5 - 1, the project page's example)"),
    (
        "published_rfid",
        "none read: the REPA-E README (initial commit) reports gFID only; no ImageNet-256 rFID "
        "of the E2E-VAEs was readable here",
    ),
)
_SDVAE_ID_SOURCE = (
    "not read from REPA-E itself: third-party code loads it as AutoencoderKL.from_pretrained("
    "'REPA-E/e2e-sdvae-hf') (several public repositories; its siblings e2e-invae-hf and "
    "e2e-vavae-hf were read on the Hub); the original release is REPA-E/e2e-sdvae (.pt for the "
    "REPA-E repo's class)"
)


@dataclass(frozen=True)
class _Variant:
    hub_id: str
    subfolder: str  # "" or "vae"
    latent_channels: int
    scaling_factor: float
    shift_factor: float
    license: str
    tokbench_name: str | None
    description: str
    gated: bool = False
    config_scaling: bool = True  # False: latents unscaled, the config's factors not checked
    notes: tuple[tuple[str, str], ...] = ()  # extra card fields (sources, caveats)


VARIANTS: dict[str, _Variant] = {
    "sd-ft-mse-vae": _Variant(
        "stabilityai/sd-vae-ft-mse",
        "",
        4,
        0.18215,
        0.0,
        "MIT",
        None,
        "SD 1.x KL-f8 VAE with the decoder fine-tuned on MSE (stabilityai/sd-vae-ft-mse)",
    ),
    "sdxl-vae": _Variant(
        "stabilityai/sdxl-vae",
        "",
        4,
        0.13025,
        0.0,
        "MIT",
        "SD-XL VAE",
        "SD-XL KL-f8 VAE (stabilityai/sdxl-vae); run in float32 (it overflows in float16)",
    ),
    "sd35-vae": _Variant(
        "stabilityai/stable-diffusion-3.5-large",
        "vae",
        16,
        1.5305,
        0.0609,
        "stabilityai-ai-community (gated on the Hub)",
        "SD-3.5 VAE",
        "SD-3.5 16-channel KL-f8 VAE (vae/ of stabilityai/stable-diffusion-3.5-large)",
        True,
    ),
    "flux1-vae": _Variant(
        "black-forest-labs/FLUX.1-dev",
        "vae",
        16,
        0.3611,
        0.1159,
        "flux-1-dev-non-commercial-license (gated on the Hub)",
        "FLUX.1-dev VAE",
        "FLUX.1 16-channel KL-f8 VAE (vae/ of black-forest-labs/FLUX.1-dev)",
        True,
    ),
    # REPA-E end-to-end tuned VAEs, released as diffusers AutoencoderKL checkpoints. REPA-E
    # normalises latents with per-channel BatchNorm statistics kept beside the VAE (generate.py),
    # not a config scalar: latents here are the raw posterior mode (reconstruction is unaffected).
    "repa-e-sdvae": _Variant(
        "REPA-E/e2e-sdvae-hf",
        "",
        4,
        1.0,
        0.0,
        "MIT (REPA-E repository LICENSE; the -hf Hub cards of e2e-invae/e2e-vavae say mit)",
        None,
        "REPA-E E2E-SDVAE: SD-VAE (f8d4) tuned end to end with SiT-XL (REPA-E), AutoencoderKL",
        config_scaling=False,
        notes=_REPA_E_NOTES + (("hub_id_source", _SDVAE_ID_SOURCE),),
    ),
    "repa-e-flux": _Variant(
        "REPA-E/e2e-flux-vae",
        "",
        16,
        1.0,
        0.0,
        "not read here (the Hub card is unreachable); the REPA-E code is MIT",
        None,
        "REPA-E E2E-FLUX-VAE: the FLUX.1 VAE tuned end to end (REPA-E for T2I), AutoencoderKL",
        config_scaling=False,
        notes=_REPA_E_NOTES + (("hub_id_source", "end2end-diffusion.github.io quickstart"),),
    ),
}


def _variant(model_id: str) -> _Variant:
    try:
        return VARIANTS[model_id]
    except KeyError:
        raise ValueError(f"unknown VAE id {model_id!r}; known: {sorted(VARIANTS)}") from None


def weights_files(model_id: str) -> tuple[WeightsFile, WeightsFile]:
    """config.json and the safetensors weights (sha256 and revision unpinned: not seen offline)."""
    v = _variant(model_id)
    prefix = f"{v.subfolder}/" if v.subfolder else ""
    return tuple(  # type: ignore[return-value]
        WeightsFile(
            filename=f"{prefix}{name}",
            sha256=None,
            store_path=f"weights/{model_id}/{name}",
            hub_id=v.hub_id,
            revision=None,
        )
        for name in ("config.json", WEIGHTS_NAME)
    )


def card(model_id: str) -> ModelCard:
    v = _variant(model_id)
    return ModelCard(
        id=model_id,
        family="sd-vae",
        kind="tokenizer",
        description=v.description,
        weights=weights_files(model_id),
        license=v.license,
        resolution=None,  # fully convolutional; sides should be multiples of 8
        num_tokens=None,  # (H/8) * (W/8) latent positions
        codebook_size=None,
        latent_channels=v.latent_channels,
        compression="8x",
        discrete=False,
        tokbench_name=v.tokbench_name,
        extra={
            "backend": "diffusers AutoencoderKL",
            "vae_input_range": "[-1, 1] (2x - 1)",
            "scaling_factor": v.scaling_factor,
            "shift_factor": v.shift_factor,
            "latents": "(mode - shift) * scale",
            "posterior_default": "mode",
            "gated_on_hub": v.gated,
            **dict(v.notes),
            "revision_pinned": False,
            "weights_pin": WEIGHTS_PIN,
            "extra_to_install": "pip install 'evalkit[vae]' (diffusers)",
        },
    )


class DiffusersVAETokenizer(TokenizerBase):
    def __init__(
        self,
        model_card: ModelCard,
        vae: Any,
        scaling_factor: float,
        shift_factor: float,
        posterior: str = "mode",
        seed: int = 0,
    ) -> None:
        if posterior not in ("mode", "sample"):
            raise ValueError(f"posterior must be 'mode' or 'sample', not {posterior!r}")
        self.card = model_card
        self.module = vae.eval()
        self.scale = scaling_factor
        self.shift = shift_factor
        self.posterior = posterior
        self.seed = seed

    def _param(self) -> torch.Tensor:
        return next(self.module.parameters())

    per_sample_seeds = True  # the runner passes ``seeds=`` (one per sample) to reconstruct

    @no_grad
    def encode(self, images: torch.Tensor, seeds: list[int] | None = None) -> torch.Tensor:
        """Latents; ``posterior="sample"`` draws each sample's noise from its own seed
        (``seeds``, else derived from ``seed`` and the image), so batching changes nothing."""
        p = self._param()
        x = images.to(device=p.device, dtype=p.dtype) * 2.0 - 1.0
        dist = self.module.encode(x).latent_dist
        if self.posterior == "mode":
            z = dist.mode()
        else:
            from evalkit.models.sampling import content_seeds, per_sample_normal

            seeds = seeds if seeds is not None else content_seeds(images, self.seed)
            noise = per_sample_normal(dist.mean.shape, seeds)
            z = dist.mean + dist.std * noise.to(device=p.device, dtype=dist.mean.dtype)
        return (z - self.shift) * self.scale

    @no_grad
    def decode(self, codes: torch.Tensor) -> torch.Tensor:
        p = self._param()
        z = codes.to(device=p.device, dtype=p.dtype) / self.scale + self.shift
        out = self.module.decode(z).sample
        return ((out.float() + 1.0) / 2.0).clamp(0.0, 1.0)

    @no_grad
    def reconstruct(self, images: torch.Tensor, seeds: list[int] | None = None) -> torch.Tensor:
        """Pads to a multiple of 8 (replicate) and crops back, so any size keeps its shape."""
        import torch

        h, w = images.shape[-2:]
        ph, pw = (-h) % 8, (-w) % 8
        x = (
            torch.nn.functional.pad(images, (0, pw, 0, ph), mode="replicate")
            if ph or pw
            else images
        )
        if seeds is None and self.posterior == "sample":
            from evalkit.models.sampling import content_seeds

            seeds = content_seeds(images, self.seed)  # of the unpadded image
        return self.decode(self.encode(x, seeds))[..., :h, :w]


def _import_autoencoder() -> Any:
    try:
        from diffusers import AutoencoderKL
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError("the SD/FLUX VAEs need diffusers: pip install 'evalkit[vae]'") from exc
    return AutoencoderKL


def build(
    model_id: str,
    *,
    posterior: str = "mode",
    seed: int = 0,
    dtype: str = "float32",
    random_config: dict[str, Any] | None = None,
    **options: Any,
) -> DiffusersVAETokenizer:
    """Build a diffusers VAE tokenizer; ``random_config`` builds a random one (tests) instead."""
    if options:
        raise ValueError(f"{model_id}: unknown options {sorted(options)}")
    import torch

    v = _variant(model_id)
    c = card(model_id)
    autoencoder_kl = _import_autoencoder()
    if random_config is not None:
        torch.manual_seed(seed)
        vae = autoencoder_kl(**random_config)
        c = replace(c, weights=(), description=c.description + " [random init]")
    else:
        gated = f"{v.hub_id} is gated on the Hub" if v.gated else None
        vae = load_pretrained(autoencoder_kl, model_id, c, dtype, gated)
    cfg = vae.config
    for name, expected in (("scaling_factor", v.scaling_factor), ("shift_factor", v.shift_factor)):
        got = getattr(cfg, name, None)
        checked = random_config is None and v.config_scaling
        if checked and got is not None and abs(float(got) - expected) > 1e-6:
            raise ValueError(f"{model_id}: config {name}={got}, card says {expected}")
    if random_config is not None and dtype != "float32":
        vae = vae.to(getattr(torch, dtype))
    return DiffusersVAETokenizer(c, vae, v.scaling_factor, v.shift_factor, posterior, seed)


def load_pretrained(cls: Any, model_id: str, c: ModelCard, dtype: str, gated: str | None) -> Any:
    """``cls.from_pretrained`` on the card's config.json + safetensors (store, cache or Hub),
    strictly: a missing, unexpected or mis-shaped tensor is an error. ``gated``: the note a
    missing-file message gets for a gated Hub repo."""
    import torch

    from evalkit.assets import GatedAssetError, MissingAssetError, login_command, run_context
    from evalkit.store import resolve_all

    try:
        with run_context(None, model_id):  # one message naming both files if either is missing
            cfg_path, w_path = (got.path for got in resolve_all(c.weights, f"{model_id} files"))
    except GatedAssetError:
        raise
    except MissingAssetError as exc:
        if gated is None:
            raise
        note = f"{gated}: accept its terms there, then `{login_command()}`"
        raise MissingAssetError(f"{exc}\n{note} (or set HF_TOKEN)") from None
    with tempfile.TemporaryDirectory(prefix="evalkit-vae-") as tmp:
        # diffusers wants both files side by side; link them (no copy of the weights)
        os.symlink(cfg_path.resolve(), Path(tmp) / "config.json")
        os.symlink(w_path.resolve(), Path(tmp) / WEIGHTS_NAME)
        model, info = cls.from_pretrained(
            tmp,
            use_safetensors=True,
            low_cpu_mem_usage=False,
            output_loading_info=True,
            **diffusers_dtype(getattr(torch, dtype)),
        )
    bad = {k: v for k, v in info.items() if k != "error_msgs" and v}
    if bad or info.get("error_msgs"):
        raise RuntimeError(f"{model_id}: weights do not match the config strictly: {info}")
    return model
