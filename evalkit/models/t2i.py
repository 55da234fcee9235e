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

Weights: a diffusers pipeline folder, looked up in the offline store
(``<store>/weights/<id>/model_index.json`` and its sub-folders), else the Hugging Face Hub at the
card's revision. ``sd21`` is not offered: Stability AI withdrew the stabilityai/stable-diffusion-2-x
repositories from the Hub in November 2025; the copies that remain (e.g. ``sd2-community``) are
community mirrors, not an official pinned source.
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


# Defaults are each model's own recommended settings (its model card on the Hub); the revision is
# unpinned because it cannot be established from here (no Hub access): see `revision_pinned`.
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


def index_file(model_id: str) -> WeightsFile:
    """The pipeline's ``model_index.json``: the file whose presence says the folder is there."""
    v = _variant(model_id)
    return WeightsFile(
        filename="model_index.json",
        sha256=None,
        store_path=f"weights/{model_id}/model_index.json",
        hub_id=v.hub_id,
        revision=None,
    )


def card(model_id: str) -> ModelCard:
    v = _variant(model_id)
    return ModelCard(
        id=model_id,
        family="text-to-image",
        kind="generator",
        description=v.description,
        weights=(index_file(model_id),),
        license=v.license,
        resolution=v.size,
        extra={
            "backend": f"diffusers {v.pipeline}",
            "hub_id": v.hub_id,
            "revision_pinned": False,
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


def _gated_note(model_id: str) -> str:
    v = _variant(model_id)
    if not v.gated:
        return ""
    return (
        f"\n{v.hub_id} is gated on the Hub: accept its licence on the model page and log in "
        "(`huggingface-cli login`, or HF_TOKEN) before downloading."
    )


def pipeline_dir(model_id: str) -> Path:
    """The local pipeline folder: the store's copy, else a Hub snapshot in the cache."""
    from evalkit.store import MissingAssetError, resolve

    v = _variant(model_id)
    try:
        index = resolve(index_file(model_id), f"{model_id} pipeline (diffusers folder)")
    except MissingAssetError as exc:
        raise MissingAssetError(
            f"{exc}\nThe whole pipeline folder is needed beside it: on a connected machine, "
            f"`huggingface-cli download {v.hub_id} --local-dir <store>/weights/{model_id}`"
            f"{_gated_note(model_id)}"
        ) from None
    folder = index.parent
    if folder.name != model_id:  # fetched into the download cache: take the whole snapshot
        from huggingface_hub import snapshot_download

        folder = Path(
            snapshot_download(
                v.hub_id,
                revision=None,
                allow_patterns=["*.json", "*.txt", "*.model", "*.safetensors"],
            )
        )
    return folder


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
    folder = pipeline_dir(model_id)
    cls = getattr(diffusers, v.pipeline)
    return cls.from_pretrained(
        str(folder), torch_dtype=getattr(torch, dtype), use_safetensors=True, local_files_only=True
    )
