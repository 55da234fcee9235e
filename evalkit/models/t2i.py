"""Text-to-image generators through diffusers: one card per model, per-sample seeds.

We do not re-implement any pipeline: diffusers loads the official folders. The adapter owns what
makes a number reproducible:

- Seeds. Each condition carries its final seed (benchmarks derive it from the run seed and the
  sample's keys with :func:`evalkit.seeding.sample_seed`); each image gets its own
  ``torch.Generator`` seeded with it, so an image does not depend on batch size or shard.
  ``condition.extra["seeding"] == "official"`` reproduces GenEval's reference script instead:
  the global RNG seeded with the condition's seed (the run's ``--seed``; the script's default is
  42) before every prompt, advancing over that prompt's images, batch 1.
- Settings. Steps, guidance, size, scheduler and negative prompt come from the card (or a named
  preset such as ``geneval``, or explicit options) and go into every sample's record through
  :meth:`T2IGenerator.generation_info`, with how many prompt tokens the text encoder saw.

Weights: a diffusers pipeline folder. Each card lists every file the pipeline loads (each
component's config and float32 safetensors weights, tokenizer files, scheduler config); the folder
is the offline store's ``<store>/weights/<id>/`` when it holds them all, else the download cache's
snapshot of one Hub commit (resolved and locked at first use), each file verified against the Hub.
A miss names every file, before diffusers is ever called.

``sd21`` is not offered: Stability AI withdrew the stabilityai/stable-diffusion-2-x repositories
from the Hub in November 2025; the copies that remain (e.g. ``sd2-community``) are community
mirrors, not an official pinned source.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from evalkit.types import Condition, ModelCard, WeightsFile

if TYPE_CHECKING:
    import torch


@dataclass(frozen=True)
class _Variant:
    hub_id: str
    pipeline: str  # diffusers pipeline class
    license: str
    size: int  # the pipeline's default height = width
    steps: int
    guidance: float
    scheduler: str  # the pipeline's default scheduler, as shipped in its folder
    description: str
    max_prompt_tokens: dict[str, int] = field(default_factory=dict)  # text encoder -> its limit
    gated: bool = False
    presets: tuple[str, ...] = ()
    call_kwargs: dict[str, Any] = field(default_factory=dict)
    files: tuple[str, ...] = ()  # every file the pipeline loads (see FILES_SOURCE)


def _clip_tokenizer(folder: str) -> tuple[str, ...]:
    names = ("merges.txt", "special_tokens_map.json", "tokenizer_config.json", "vocab.json")
    return tuple(f"{folder}/{n}" for n in names)


def _t5_tokenizer(folder: str) -> tuple[str, ...]:
    names = ("special_tokens_map.json", "spiece.model", "tokenizer.json", "tokenizer_config.json")
    return tuple(f"{folder}/{n}" for n in names)


def _component(
    folder: str, weights: str = "diffusion_pytorch_model.safetensors"
) -> tuple[str, ...]:
    return (f"{folder}/config.json", f"{folder}/{weights}")


def _shards(folder: str, stem: str, n: int) -> tuple[str, ...]:
    index = f"{folder}/{stem}.safetensors.index.json"
    return (
        f"{folder}/config.json",
        index,
        *(f"{folder}/{stem}-{i:05d}-of-{n:05d}.safetensors" for i in range(1, n + 1)),
    )


_T5_SHARDS = ("model", 2)
#: Where each file list comes from. sd15 and sdxl: the repositories' layouts as public listings
#: show them (e.g. stable-diffusion-v1-5's unet/vae/text_encoder/safety_checker folders). The
#: others follow the diffusers layout of their pipeline class with the shard counts we expect;
#: they could not be checked against the Hub from here: a wrong name fails the download with the
#: name of the file the Hub does not have.
FILES_SOURCE = {
    "sd15": "public listings of the repository",
    "sdxl": "public listings of the repository",
    "sd35-medium": "diffusers layout, not verified here",
    "flux1-schnell": "diffusers layout, not verified here",
    "pixart-sigma": "diffusers layout, not verified here",
}
SD15_FILES = (
    "model_index.json",
    "feature_extractor/preprocessor_config.json",
    *_component("safety_checker", "model.safetensors"),
    "scheduler/scheduler_config.json",
    *_component("text_encoder", "model.safetensors"),
    *_clip_tokenizer("tokenizer"),
    *_component("unet"),
    *_component("vae"),
)
SDXL_FILES = (
    "model_index.json",
    "scheduler/scheduler_config.json",
    *_component("text_encoder", "model.safetensors"),
    *_component("text_encoder_2", "model.safetensors"),
    *_clip_tokenizer("tokenizer"),
    *_clip_tokenizer("tokenizer_2"),
    *_component("unet"),
    *_component("vae"),
)
SD35_FILES = (
    "model_index.json",
    "scheduler/scheduler_config.json",
    *_component("text_encoder", "model.safetensors"),
    *_component("text_encoder_2", "model.safetensors"),
    *_shards("text_encoder_3", *_T5_SHARDS),
    *_clip_tokenizer("tokenizer"),
    *_clip_tokenizer("tokenizer_2"),
    *_t5_tokenizer("tokenizer_3"),
    *_component("transformer"),
    *_component("vae"),
)
FLUX_FILES = (
    "model_index.json",
    "scheduler/scheduler_config.json",
    *_component("text_encoder", "model.safetensors"),
    *_shards("text_encoder_2", *_T5_SHARDS),
    *_clip_tokenizer("tokenizer"),
    *_t5_tokenizer("tokenizer_2"),
    *_shards("transformer", "diffusion_pytorch_model", 3),
    *_component("vae"),
)
PIXART_FILES = (
    "model_index.json",
    "scheduler/scheduler_config.json",
    *_shards("text_encoder", *_T5_SHARDS),
    *_t5_tokenizer("tokenizer"),
    *_component("transformer"),
    *_component("vae"),
)

# Defaults are each model's own recommended settings (its model card on the Hub); no revision is
# pinned (none could be established from here): the branch is resolved at first use and locked.
VARIANTS: dict[str, _Variant] = {
    "sd15": _Variant(
        "stable-diffusion-v1-5/stable-diffusion-v1-5",
        "StableDiffusionPipeline",
        "creativeml-openrail-m",
        512,
        50,
        7.5,
        "PNDMScheduler",
        "Stable Diffusion v1.5 (the official repo id since RunwayML's removal)",
        {"clip": 77},
        presets=("geneval",),
        files=SD15_FILES,
    ),
    "sdxl": _Variant(
        "stabilityai/stable-diffusion-xl-base-1.0",
        "StableDiffusionXLPipeline",
        "openrail++",
        1024,
        50,
        5.0,
        "EulerDiscreteScheduler",
        "SD-XL base 1.0",
        {"clip": 77},
        presets=("geneval",),
        files=SDXL_FILES,
    ),
    "sd35-medium": _Variant(
        "stabilityai/stable-diffusion-3.5-medium",
        "StableDiffusion3Pipeline",
        "stabilityai-ai-community (gated on the Hub)",
        1024,
        40,
        4.5,
        "FlowMatchEulerDiscreteScheduler",
        "Stable Diffusion 3.5 Medium (MMDiT-X)",
        {"clip": 77, "t5": 256},
        gated=True,
        files=SD35_FILES,
    ),
    "flux1-schnell": _Variant(
        "black-forest-labs/FLUX.1-schnell",
        "FluxPipeline",
        "apache-2.0",
        1024,
        4,
        0.0,
        "FlowMatchEulerDiscreteScheduler",
        "FLUX.1 [schnell] (timestep-distilled, 4 steps)",
        {"clip": 77, "t5": 256},
        call_kwargs={"max_sequence_length": 256},
        files=FLUX_FILES,
    ),
    "pixart-sigma": _Variant(
        "PixArt-alpha/PixArt-Sigma-XL-2-1024-MS",
        "PixArtSigmaPipeline",
        "openrail++",
        1024,
        20,
        4.5,
        "DPMSolverMultistepScheduler",
        "PixArt-Sigma XL/2 1024 (T5 text encoder)",
        {"t5": 300},
        files=PIXART_FILES,
    ),
}

# GenEval's reference generation (generation/diffusers_generate.py): 50 steps, guidance 9.0,
# the pipeline's default size, no negative prompt. Defined for the SD 1.x/2.x/XL family only.
PRESETS: dict[str, dict[str, Any]] = {"geneval": {"steps": 50, "guidance": 9.0}}


def _variant(model_id: str) -> _Variant:
    try:
        return VARIANTS[model_id]
    except KeyError:
        raise ValueError(
            f"unknown text-to-image id {model_id!r}; known: {sorted(VARIANTS)}"
        ) from None


def weights_files(model_id: str) -> tuple[WeightsFile, ...]:
    """Every file of the pipeline folder, each at ``<store>/weights/<id>/<file>``."""
    from evalkit.judges.hubdir import weights_files as folder_files

    v = _variant(model_id)
    return tuple(folder_files(v.hub_id, None, f"weights/{model_id}", v.files))


def card(model_id: str) -> ModelCard:
    v = _variant(model_id)
    return ModelCard(
        id=model_id,
        family="text-to-image",
        kind="generator",
        description=v.description,
        weights=weights_files(model_id),
        license=v.license,
        resolution=v.size,
        extra={
            "backend": f"diffusers {v.pipeline}",
            "hub_id": v.hub_id,
            "revision_pinned": False,
            "files_source": FILES_SOURCE[model_id],
            "steps": v.steps,
            "guidance": v.guidance,
            "size": v.size,
            "scheduler": v.scheduler,
            "negative_prompt": "",
            "text_encoder_limits": dict(v.max_prompt_tokens),
            # CLIP-only models see at most 77 prompt tokens (DetailMaster splits rows on it);
            # T5-conditioned ones see far more, counted per sample by generation_info.
            **(
                {"max_prompt_tokens": v.max_prompt_tokens["clip"]}
                if set(v.max_prompt_tokens) == {"clip"}
                else {}
            ),
            "presets": list(v.presets),
            "gated_on_hub": v.gated,
            "extra_to_install": "pip install 'evalkit[t2i]' (diffusers, transformers)",
        },
    )


def pipeline_dir(model_id: str) -> Path:
    """The local pipeline folder holding every file the card lists (store, else one verified
    Hub commit in the download cache), or one error naming every missing file."""
    from evalkit.assets import GatedAssetError, MissingAssetError, login_command, run_context
    from evalkit.judges import hubdir

    v = _variant(model_id)
    what = f"{model_id} pipeline (diffusers folder)"
    try:
        with run_context(None, model_id):
            return hubdir.local_dir(what, v.hub_id, None, f"weights/{model_id}", v.files)
    except GatedAssetError:
        raise
    except MissingAssetError as exc:
        if not v.gated:
            raise
        note = f"{v.hub_id} is gated on the Hub: accept its terms there and run `{login_command()}`"
        raise MissingAssetError(f"{exc}\n{note} (or set HF_TOKEN) before fetching") from None


class T2IGenerator:
    """A diffusers text-to-image pipeline behind the :class:`evalkit.types.Generator` protocol."""

    def __init__(
        self,
        model_card: ModelCard,
        pipe: Any,
        *,
        steps: int,
        guidance: float,
        size: int,
        negative_prompt: str = "",
        call_kwargs: dict[str, Any] | None = None,
    ) -> None:
        self.card = model_card
        self.pipe = pipe
        self.steps, self.guidance, self.size = int(steps), float(guidance), int(size)
        self.negative_prompt = negative_prompt
        self.call_kwargs = dict(call_kwargs or {})
        self._official_state: tuple[int, int, int] | None = None  # (seed, prompt, image) last
        if hasattr(pipe, "set_progress_bar_config"):
            pipe.set_progress_bar_config(disable=True)

    def to(self, device: torch.device | str) -> T2IGenerator:
        self.pipe.to(device)
        return self

    @property
    def device(self) -> torch.device:
        return self.pipe.device

    def _call(self, prompts: list[str], generator: Any) -> torch.Tensor:
        kwargs = dict(self.call_kwargs)
        if self.negative_prompt:
            kwargs["negative_prompt"] = [self.negative_prompt] * len(prompts)
        out = self.pipe(
            prompt=prompts,
            num_inference_steps=self.steps,
            guidance_scale=self.guidance,
            height=self.size,
            width=self.size,
            generator=generator,
            output_type="pt",
            **kwargs,
        )
        return out.images.float()

    def generate(self, conditions: Sequence[Condition]) -> torch.Tensor:
        """One image per condition, float NCHW in [0, 1] (CPU)."""
        import torch

        if any(c.prompt is None for c in conditions):
            raise ValueError(f"{self.card.id}: text-to-image conditions need a prompt")
        if any(c.extra.get("seeding") == "official" for c in conditions):
            return torch.cat([self._official(c) for c in conditions]).cpu()
        gen_device = "cpu" if self.device.type == "mps" else self.device
        generators = [torch.Generator(gen_device).manual_seed(int(c.seed)) for c in conditions]
        return self._call([str(c.prompt) for c in conditions], generators).cpu()

    def _official(self, c: Condition) -> torch.Tensor:
        """GenEval's script: ``seed_everything(seed)`` before a prompt, the global RNG advancing
        over its images (generation/diffusers_generate.py L115-L144 at af4902f).

        Resuming at image k of a prompt re-seeds and replays the k earlier latent draws, which
        is exact for schedulers that draw noise only for the initial latents (PNDM, DDIM eta 0).
        """
        import torch

        seed = int(c.seed)
        p, k = int(c.extra.get("prompt_index", 0)), int(c.extra.get("image_index", 0))
        if self._official_state != (seed, p, k - 1):
            torch.manual_seed(seed)
            for _ in range(k):
                torch.randn(self._latent_shape(), device=self.device)
        image = self._call([str(c.prompt)], None)
        self._official_state = (seed, p, k)
        return image

    def _latent_shape(self) -> tuple[int, ...]:
        unet = getattr(self.pipe, "unet", None) or getattr(self.pipe, "transformer", None)
        channels = int(getattr(unet.config, "in_channels", 4))
        factor = int(getattr(self.pipe, "vae_scale_factor", 8))
        return (1, channels, self.size // factor, self.size // factor)

    def prompt_tokens(self, prompt: str) -> tuple[int, int]:
        """(tokens in the prompt, tokens the first text encoder saw) by the pipeline's tokenizer."""
        tok = getattr(self.pipe, "tokenizer", None) or getattr(self.pipe, "tokenizer_2", None)
        if tok is None:
            return (-1, -1)
        n = len(tok(prompt, truncation=False, add_special_tokens=True)["input_ids"])
        return n, min(n, int(tok.model_max_length))

    def generation_info(self, condition: Condition) -> dict[str, Any]:
        """What made this sample, for its record."""
        n, seen = self.prompt_tokens(str(condition.prompt or ""))
        official = condition.extra.get("seeding") == "official"
        return {
            "gen_seed": int(condition.seed),
            "gen_seeding": "official" if official else "per-sample",
            "gen_steps": self.steps,
            "gen_guidance": self.guidance,
            "gen_height": self.size,
            "gen_width": self.size,
            "prompt_tokens": n,
            "prompt_tokens_seen": seen,
        }


def build(
    model_id: str,
    *,
    preset: str | None = None,
    steps: int | None = None,
    guidance: float | None = None,
    size: int | None = None,
    negative_prompt: str = "",
    dtype: str = "float32",
    pipeline: Any = None,
) -> T2IGenerator:
    """Build a generator; ``pipeline`` passes a ready diffusers pipeline (tests: tiny, random)."""
    v = _variant(model_id)
    c = card(model_id)
    settings = {"steps": v.steps, "guidance": v.guidance}
    if preset is not None:
        if preset not in PRESETS:
            raise ValueError(f"unknown preset {preset!r}; known: {sorted(PRESETS)}")
        if preset not in v.presets:
            family = sorted(k for k, x in VARIANTS.items() if preset in x.presets)
            raise ValueError(f"preset {preset!r} is defined for {family} only, not {model_id}")
        settings.update(PRESETS[preset])
    given = {"steps": steps, "guidance": guidance}
    settings.update({k: val for k, val in given.items() if val is not None})
    if pipeline is None:
        pipeline = _load_pipeline(model_id, v, dtype)
    else:
        c = replace(c, weights=(), description=c.description + " [given pipeline]")
    extra = {
        **c.extra,
        **settings,
        "size": size or v.size,
        "negative_prompt": negative_prompt,
        "preset": preset or "",
    }
    c = replace(c, extra=extra, resolution=size or v.size)
    return T2IGenerator(
        c,
        pipeline,
        steps=settings["steps"],
        guidance=settings["guidance"],
        size=size or v.size,
        negative_prompt=negative_prompt,
        call_kwargs=v.call_kwargs,
    )


def _load_pipeline(model_id: str, v: _Variant, dtype: str) -> Any:
    import torch

    try:
        import diffusers
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError(
            "text-to-image models need diffusers and transformers: pip install 'evalkit[t2i]'"
        ) from exc
    from evalkit.models.weights import diffusers_dtype

    folder = pipeline_dir(model_id)
    cls = getattr(diffusers, v.pipeline)
    return cls.from_pretrained(
        str(folder),
        **diffusers_dtype(getattr(torch, dtype)),
        use_safetensors=True,
        local_files_only=True,
        low_cpu_mem_usage=False,  # without accelerate installed, diffusers would say so at length
    )
