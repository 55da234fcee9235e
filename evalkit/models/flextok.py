"""FlexTok (apple/ml-flextok, arXiv 2502.13967): a 1D tokenizer whose first N of 256 FSQ tokens
decode to a whole image through a rectified-flow decoder. Card, weights and the tokenizer adapter.

Network: :mod:`evalkit.models.flextok_arch` (official key names). ``encode`` is the official
``FlexTok.tokenize``; ``<id>@N`` keeps the first N tokens, as the README's ``t[:, :k_keep]`` (the
official code takes any 1 <= N <= 256: missing tokens become the learned mask token). ``decode``
is ``FlexTok.detokenize``: the MinRFPipeline Euler loop from t = 1 to 0 over ``timesteps`` steps
with classifier-free guidance against the null condition, adaptive projected guidance
(``perform_norm_guidance``: momentum -0.5, eta 0, norm threshold 2.5) and the VAE decoder.

The decoder is stochastic: its initial noise is drawn per sample from that sample's seed (the
run seed and the sample id, :func:`evalkit.seeding.sample_seed`), so a run is reproducible and a
reconstruction depends on the seed. The VAE posterior is sampled (the official wrapper's
``sample_posterior=True`` default) from the same per-sample seeds unless ``posterior="mode"``.

Config provenance (the released config sits in the checkpoint's safetensors metadata and the
Hub's config.json, neither readable here): read in the code at SOURCE_COMMIT: the VAE layout
(VAE_BASE_CFG), every module's defaults (SwiGLU, QK-norm, no biases, non-affine LayerNorms, 8 /
head_dim attention scale, sin-cos positions), ``enc_register_module``/``dec_nested_dropout``
names and ``n_max`` = 256 via the wrapper; the README: 256 px, f8 VAE (latent grid 32),
``vae_image_sizes`` 32, decode defaults; the project page/paper: FSQ levels 8-8-8-5-5-5, 16-channel
VAE, 2 x 2 patches, registers attend causally, decoder adaLN-zero separately for patches and
registers; depth 18 / 28 (the model name). Inferred: widths 64 x depth (1152 / 1792), head_dim 64,
the decoder's step names, a learned null condition after the nested dropout, a t-in-[0, 1] time
embedding (max_timestep 1). The VAE scaling factor is not in the state dict: it is read from the
checkpoint's metadata at load, else (as the official VAE wrapper does) from the config.json of the
VAE repository that metadata names (or given as ``vae_scaling_factor``). A checkpoint that
differs in any name or shape fails the strict load naming it.
"""

from __future__ import annotations

import ast
import json
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from evalkit.modelid import split_budget, with_budget
from evalkit.models.flextok_config import FlexTokConfig
from evalkit.models.weights import no_grad
from evalkit.types import ModelCard, TokenizerBase, WeightsFile

if TYPE_CHECKING:
    import torch

    from evalkit.models.flextok_arch import FlexTokNet

SOURCE_REPO = "https://github.com/apple/ml-flextok"
SOURCE_COMMIT = "87d00cc8babf4a25ffce0f3f0c4d8b529d3d6abf"  # code read (and run) at this commit
HUB_ID = "EPFL-VILAB/flextok_d18_d28_in1k"
VAE_HUB_ID = "EPFL-VILAB/flextok_vae_c16"  # README "VAEs" table: 16 latent channels, f8
HUB_FILENAME = "model.safetensors"  # README model zoo: .../resolve/main/model.safetensors
VARIANTS = {"flextok-d18-d28": HUB_ID}
MAX_TOKENS = 256
RANDOM_INIT_OPTIONS = ("random_init",)
WEIGHT_OPTIONS = {"weights_path": 0}
WEIGHTS_PIN = (
    "unpinned (Hub unreachable here; no readable source gives a commit or sha256): trusted on "
    "first use, verified against the Hub's LFS sha256 and locked; safetensors"
)
LICENSE = (
    "weights: Apple Machine Learning Research Model License (LICENSE_WEIGHTS), research use "
    "only (non-commercial scientific research); code: Apple/EPFL Sample Code License (LICENSE)"
)
# README "Getting started" detokenize call: what a published number's decoder settings are
README_DECODE = {"timesteps": 20, "guidance_scale": 7.5, "perform_norm_guidance": True}
DECODE_OPTIONS = tuple(README_DECODE)


@dataclass(frozen=True)
class FlexTokCodes:
    """``encode``'s output: token ids (B, N <= 256) and the per-sample seeds of the decoder."""

    tokens: torch.Tensor
    seeds: list[int]


def released_config() -> FlexTokConfig:
    return FlexTokConfig()


def weights_file(model_id: str) -> WeightsFile:
    from evalkit.models.index_tokenizer import hub_weights

    return hub_weights(model_id, HUB_FILENAME, VARIANTS[model_id])


def vae_config_file(model_id: str) -> WeightsFile:
    """The VAE's diffusers config.json: the official ``StableDiffusionVAE`` takes its scaling
    factor from there when the checkpoint's config gives none (``scaling_factor or
    vae.config.scaling_factor``, vae_wrapper.py). The repository is inferred (README VAE table:
    16 channels, f8, as d18-d28 uses); a checkpoint naming another ``hf_hub_path`` is refused."""
    return WeightsFile(
        filename="config.json",
        sha256=None,
        store_path=f"weights/{model_id}/vae/config.json",
        hub_id=VAE_HUB_ID,
    )


def card(model_id: str) -> ModelCard:
    """The card of the base id; ``@N`` cards come from the registry (evalkit.modelid)."""
    if model_id not in VARIANTS:
        raise ValueError(f"unknown FlexTok id {model_id!r}; known: {sorted(VARIANTS)}")
    cfg = released_config()
    return ModelCard(
        id=model_id,
        family="flextok",
        kind="tokenizer",
        description=(
            f"FlexTok d18-d28 (ImageNet-1k): 1 to {MAX_TOKENS} nested 1D tokens of a "
            f"{cfg.codebook_size}-entry FSQ codebook, rectified-flow decoder (stochastic: "
            f"reconstructions depend on the seed). A budget {model_id}@N keeps the first N."
        ),
        weights=(weights_file(model_id), vae_config_file(model_id)),
        license=LICENSE,
        resolution=cfg.image_size,
        num_tokens=MAX_TOKENS,
        codebook_size=cfg.codebook_size,
        latent_channels=len(cfg.fsq_levels),
        compression=f"1D-{MAX_TOKENS}",
        discrete=True,
        token_range=(1, MAX_TOKENS),
        extra={
            "source_repo": SOURCE_REPO,
            "source_commit": SOURCE_COMMIT,
            "hub_id": HUB_ID,
            "extra_to_install": "pip install 'evalkit[vae]' (diffusers: the VAE)",
            "fsq_levels": list(cfg.fsq_levels),
            "preprocessing": (
                "RGB, resize shorter side to 256, centre crop 256, [-1, 1] (the official demo: "
                "Resize, CenterCrop, Normalize(0.5, 0.5))"
            ),
            "bits_per_token": "log2(64000) = 15.97 (FSQ 8-8-8-5-5-5)",
            "decode": (
                "README defaults: timesteps 20, guidance_scale 7.5, perform_norm_guidance True "
                "(APG); options timesteps / guidance_scale / perform_norm_guidance change them"
            ),
            "stochastic": "decoder noise (and VAE posterior) drawn per sample from the run seed",
            "published_rfid": (
                "not recorded: the paper's (arXiv 2502.13967) reconstruction table could not be "
                "read here, so neither its values nor its decode settings are known; the README "
                "settings above are the code's documented defaults, not a table's"
            ),
            "config_source": (
                "released config not readable here (safetensors metadata, Hub config.json). Read: "
                "code at the source commit (VAE layout, module defaults, register/nested-dropout "
                "step names, n_max 256), README (256 px, f8 VAE, decode defaults), project page "
                "(FSQ 8-8-8-5-5-5, 16-ch VAE, 2x2 patches, causal registers, adaLN-zero apart for "
                "patches and registers). Inferred: widths 64 x depth, head_dim 64, decoder step "
                "names, learned null condition, time scale; cross-check: this layout has 2.54 B "
                "parameters (0.34 B / 0.95 B for d12-d12 / d18-d18), the Hub collection lists "
                "3B (0.3B / 0.9B). VAE scaling factor: from the checkpoint's metadata at load, "
                f"else from {VAE_HUB_ID}'s config.json when the metadata names that VAE"
            ),
            "encoder": f"ViT w{cfg.enc_dim} d{cfg.enc_depth} + {cfg.num_registers} registers",
            "decoder": f"rectified-flow ViT w{cfg.dec_dim} d{cfg.dec_depth}, adaLN-zero",
            "weights_pin": WEIGHTS_PIN,
        },
    )


class FlexTokTokenizer(TokenizerBase):
    """encode: FlexTokCodes (token ids); decode: [0, 1] images through the flow sampler."""

    per_sample_seeds = True  # the runner passes ``seeds=`` (one per sample) to reconstruct

    def __init__(
        self,
        model_card: ModelCard,
        net: FlexTokNet,
        budget: int,
        *,
        timesteps: int = README_DECODE["timesteps"],
        guidance_scale: float = README_DECODE["guidance_scale"],
        perform_norm_guidance: bool = README_DECODE["perform_norm_guidance"],
        posterior: str = "sample",
        seed: int = 0,
    ) -> None:
        if posterior not in ("sample", "mode"):
            raise ValueError(f"posterior must be 'sample' or 'mode', not {posterior!r}")
        if int(timesteps) < 1:
            raise ValueError(f"timesteps must be at least 1, not {timesteps}")
        self.card = model_card
        self.module = net.eval()
        self.net = net
        self.budget = budget
        self.timesteps = int(timesteps)
        self.guidance_scale = float(guidance_scale)
        self.norm_guidance = bool(perform_norm_guidance)
        self.posterior = posterior
        self.seed = seed

    def _param(self) -> torch.Tensor:
        return next(self.net.parameters())

    @no_grad
    def reconstruct(self, images: torch.Tensor, seeds: list[int] | None = None) -> torch.Tensor:
        return self.decode(self.encode(images, seeds))

    @no_grad
    def encode(
        self,
        images: torch.Tensor,
        seeds: list[int] | None = None,
        posterior_noise: torch.Tensor | None = None,
    ) -> FlexTokCodes:
        """[0, 1] images (B, 3, S, S) -> the first ``budget`` token ids (B, budget).
        ``posterior_noise``: the VAE posterior's standard normal draws, else from the seeds."""
        from evalkit.models.sampling import content_seeds, per_sample_normal

        s = self.net.cfg.image_size
        if images.ndim != 4 or tuple(images.shape[1:]) != (3, s, s):
            raise ValueError(
                f"{self.card.id} takes (B, 3, {s}, {s}) images, got {tuple(images.shape)}"
            )
        seeds = list(seeds) if seeds is not None else content_seeds(images, self.seed)
        p = self._param()
        dist = self.net.vae.vae.encode(images.to(p.device, p.dtype) * 2.0 - 1.0).latent_dist
        latents = dist.mean
        if self.posterior == "sample":
            noise = posterior_noise
            if noise is None:
                noise = per_sample_normal(latents.shape, [_stream(x, "posterior") for x in seeds])
            latents = latents + dist.std * noise.to(latents.device, latents.dtype)
        _, ids = self.net.encode_latents(latents * self._scaling())
        return FlexTokCodes(ids[:, : self.budget], seeds)

    def _scaling(self) -> float:
        sf = self.net.cfg.vae_scaling_factor
        if sf is None:
            raise RuntimeError(f"{self.card.id}: the VAE scaling factor is unknown")
        return sf

    @no_grad
    def decode(
        self, codes: FlexTokCodes | torch.Tensor, noise: torch.Tensor | None = None
    ) -> torch.Tensor:
        """Token ids (B, k), k <= 256 -> [0, 1] images. ``noise``: the sampler's initial latents
        (B, C, h, w), else drawn from each sample's seed."""
        raw = self.decode_raw(codes, noise)
        return ((raw.float() + 1.0) / 2.0).clamp(0.0, 1.0)

    @no_grad
    def decode_raw(
        self, codes: FlexTokCodes | torch.Tensor, noise: torch.Tensor | None = None
    ) -> torch.Tensor:
        """The official ``detokenize`` output: unclamped [-1, 1]-scaled images."""
        import torch

        from evalkit.models.sampling import content_seeds, per_sample_normal

        if isinstance(codes, FlexTokCodes):
            ids, seeds = codes.tokens, codes.seeds
        else:
            ids, seeds = codes, None
        cfg, p = self.net.cfg, self._param()
        b, k = ids.shape
        if not 1 <= k <= cfg.num_registers:
            raise ValueError(f"{self.card.id} decodes 1 to {cfg.num_registers} tokens, got {k}")
        ids = ids.to(p.device).long()
        side = cfg.latent_size
        if noise is None:
            seeds = seeds if seeds is not None else content_seeds(ids.float(), self.seed)
            shape = (b, cfg.latent_channels, side, side)
            noise = per_sample_normal(shape, [_stream(x, "decoder") for x in seeds])
        x = noise.to(p.device, p.dtype)
        registers = self.net.embed_tokens(ids, k)
        null = self.net.null_registers(registers)
        guided = self.guidance_scale != 1.0
        momentum = torch.zeros_like(x)
        dt = 1.0 / self.timesteps
        for i in range(self.timesteps, 0, -1):
            t = torch.full((b,), i / self.timesteps, device=p.device)
            v = self.net.velocity(x, t, registers)
            if guided:
                v_null = self.net.velocity(x, t, null)
                if self.norm_guidance:
                    v, momentum = _apg(v, v_null, self.guidance_scale, momentum)
                else:
                    v = v_null + self.guidance_scale * (v - v_null)
            x = x - dt * v
        return self.net.vae.vae.decode(x / self._scaling()).sample

    def token_ids(self, codes: Any) -> torch.Tensor | None:
        return codes.tokens if isinstance(codes, FlexTokCodes) else None


def _stream(seed: int, name: str) -> int:
    """A sample's seed for one random draw (posterior, decoder noise), independent of others."""
    from evalkit.seeding import sample_seed

    return sample_seed(seed, "flextok", name)


def _apg(
    cond: torch.Tensor, uncond: torch.Tensor, scale: float, running: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor]:
    """Adaptive projected guidance (the official normalized_guidance: momentum -0.5, eta 0,
    norm threshold 2.5), per sample over (C, H, W); returns the guided flow and the momentum."""
    import torch

    running = cond - uncond + -0.5 * running
    dims = (1, 2, 3)
    norm = running.norm(p=2, dim=dims, keepdim=True)
    diff = running * torch.minimum(torch.ones_like(norm), 2.5 / norm)
    unit = torch.nn.functional.normalize(cond.double().flatten(1), dim=1).view_as(cond)
    parallel = (diff.double() * unit).sum(dim=dims, keepdim=True) * unit
    orthogonal = (diff.double() - parallel).to(cond.dtype)
    return cond + (scale - 1) * orthogonal, running


def checkpoint_metadata(path: Path) -> dict[str, Any]:
    """The safetensors header's ``__metadata__`` (the official save_safetensors writes the hydra
    config there, each top-level entry as a Python literal), values parsed without evaluation."""
    from safetensors import safe_open

    with safe_open(str(path), framework="pt") as f:
        raw = f.metadata() or {}
    out: dict[str, Any] = {}
    for key, text in raw.items():
        try:
            out[key] = ast.literal_eval(text)
        except (ValueError, SyntaxError):
            out[key] = text
    return out


def _vae_repo_scaling(hub: str | None, model_id: str, source: str) -> float:
    """The scaling factor of the VAE repository's config.json (resolved through the store and
    the Hub), as the official ``StableDiffusionVAE`` falls back to it; only for the repository
    this card lists, and only when the checkpoint's config names one."""
    if not hub:
        raise RuntimeError(
            f"{source}: its metadata gives no VAE scaling factor and names no VAE repository: "
            "pass --model-option vae_scaling_factor=<value>"
        )
    if hub != VAE_HUB_ID:
        raise RuntimeError(
            f"{source}: its VAE comes from {hub!r}, not {VAE_HUB_ID!r} (the one this card reads "
            "the scaling factor from): pass --model-option vae_scaling_factor=<value>"
        )
    from evalkit.store import resolve

    path = resolve(vae_config_file(model_id), f"{model_id} VAE config ({VAE_HUB_ID})")
    factor = json.loads(path.read_text()).get("scaling_factor")
    if factor is None:
        raise RuntimeError(f"{path}: no scaling_factor in the VAE config")
    return float(factor)


def config_from_metadata(
    cfg: FlexTokConfig, meta: dict[str, Any], model_id: str, source: str
) -> FlexTokConfig:
    """``cfg`` with the VAE scaling factor: the checkpoint config's, else the one given as an
    option, else the VAE repository's (:func:`_vae_repo_scaling`); refuses a config whose FSQ
    levels or latent channels differ from ours, or a factor other than the one given."""
    checks = {
        ("regularizer", "levels"): list(cfg.fsq_levels),
        ("vae", "latent_channels"): cfg.latent_channels,
    }
    for (part, key), want in checks.items():
        section = meta.get(part)
        got = section.get(key) if isinstance(section, dict) else None
        if got is not None and (list(got) if isinstance(want, list) else got) != want:
            raise RuntimeError(f"{source}: config {part}.{key} is {got!r}, ours {want!r}")
    vae = meta.get("vae") if isinstance(meta.get("vae"), dict) else {}
    sf = vae.get("scaling_factor")
    if sf is None:
        if cfg.vae_scaling_factor is not None:
            return cfg
        sf = _vae_repo_scaling(vae.get("hf_hub_path"), model_id, source)
    if cfg.vae_scaling_factor is not None and float(sf) != cfg.vae_scaling_factor:
        raise RuntimeError(
            f"{source}: VAE scaling factor {sf} in the checkpoint, {cfg.vae_scaling_factor} given"
        )
    return replace(cfg, vae_scaling_factor=float(sf))


def load_net(cfg: FlexTokConfig, path: Path, model_id: str, source: str) -> FlexTokNet:
    """The network with a checkpoint's tensors, loaded strictly (no random init)."""
    import torch

    from evalkit.models.flextok_arch import FlexTokNet
    from evalkit.models.weights import load_state_dict, strict_without_init

    cfg = config_from_metadata(cfg, checkpoint_metadata(path), model_id, source)
    net = strict_without_init(lambda: FlexTokNet(cfg), load_state_dict(path), source)
    net.levels = torch.tensor(cfg.fsq_levels)  # the non-persistent buffer meta left empty
    return net


def build(
    model_id: str,
    *,
    random_init: bool = False,
    tiny: bool = False,
    seed: int = 0,
    weights_path: str | None = None,
    arch: dict[str, Any] | None = None,
    timesteps: int = README_DECODE["timesteps"],
    guidance_scale: float = README_DECODE["guidance_scale"],
    perform_norm_guidance: bool = README_DECODE["perform_norm_guidance"],
    posterior: str = "sample",
    vae_scaling_factor: float | None = None,
    **options: Any,
) -> FlexTokTokenizer:
    """FlexTok at ``model_id`` (``flextok-d18-d28`` or ``flextok-d18-d28@N``) from the store /
    cache / Hub (strict), an explicit ``weights_path``, or seeded random weights
    (``random_init``, tests; ``tiny`` with it: 32 px, 16 tokens, one block per side); ``arch``
    replaces config fields (tests). Decode settings default to the README's."""
    if options:
        raise ValueError(f"{model_id}: unknown options {sorted(options)}")
    if tiny and not random_init:
        raise ValueError("tiny=True only makes sense with random_init=True")
    import torch

    from evalkit.models.flextok_arch import FlexTokNet

    base, budget = split_budget(model_id)
    c = card(base) if budget is None else with_budget(card(base), budget)
    if tiny:
        arch = {**TINY, **(arch or {})}
    cfg = replace(released_config(), **(arch or {}))
    if vae_scaling_factor is not None:
        cfg = replace(cfg, vae_scaling_factor=float(vae_scaling_factor))
    budget = budget or cfg.num_registers
    if budget > cfg.num_registers:
        raise ValueError(f"{model_id}: this network has {cfg.num_registers} tokens")
    if arch:
        c = replace(c, description=c.description + f" [architecture {arch}]")
    if random_init:
        torch.manual_seed(seed)
        cfg = replace(cfg, vae_scaling_factor=cfg.vae_scaling_factor or 1.0)
        c = replace(
            c, weights=(), description=c.description + " [random init]", resolution=cfg.image_size
        )
        net = FlexTokNet(cfg)
    else:
        from evalkit.assets import run_context
        from evalkit.store import resolve

        with run_context(None, base):  # a missing file's message gives the fetch command
            path = (
                Path(weights_path) if weights_path else resolve(c.weights[0], f"{base} checkpoint")
            )
            net = load_net(cfg, path, base, f"{base} {path.name}")
    return FlexTokTokenizer(
        c,
        net,
        budget,
        timesteps=timesteps,
        guidance_scale=guidance_scale,
        perform_norm_guidance=perform_norm_guidance,
        posterior=posterior,
        seed=seed,
    )


TINY = {
    "image_size": 32,
    "vae_channels": (32, 32),
    "vae_layers_per_block": 1,
    "posemb_size": 8,
    "enc_dim": 32,
    "enc_depth": 1,
    "dec_dim": 32,
    "dec_depth": 1,
    "head_dim": 16,
    "num_registers": 16,
}
