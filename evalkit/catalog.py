"""The three registries and their built-in entries: one line per model, benchmark or metric.

Entries are lazy ``"module:attr"`` strings, so importing this module (and `evalkit list`) imports
neither torch nor any backend. A factory is called as ``factory(id, **options)``; a model also
registers its card function (``card=``), the registry contract of :mod:`evalkit.registry`.
"""

from __future__ import annotations

from typing import Any

from evalkit.modelid import ModelRegistry
from evalkit.registry import Registry

models: Registry[Any] = ModelRegistry("model")  # ``<id>@N``: a token budget (evalkit.modelid)
benchmarks: Registry[Any] = Registry("benchmark")
metrics: Registry[Any] = Registry("metric")
# Benchmarks whose published table has a layout of its own: renderer(rows_df) -> markdown.
tables: Registry[Any] = Registry("table")


def _family(module: str) -> dict[str, str]:
    """A model family module's factory and card (``build`` and ``card``), as lazy targets."""
    return {"target": f"{module}:build", "card": f"{module}:card"}


CODECS = _family("evalkit.models.codecs")
SAMPLES = _family("evalkit.models.precomputed")
TAESD = _family("evalkit.models.taesd")
TITOK = _family("evalkit.models.titok")
ONE_D_PIECE = _family("evalkit.models.one_d_piece")
VAR_VQVAE = _family("evalkit.models.var_vqvae")
OPEN_MAGVIT2 = _family("evalkit.models.open_magvit2")
UNITOK = _family("evalkit.models.unitok")
VAE = _family("evalkit.models.vae")
COSMOS = _family("evalkit.models.cosmos")
DCAE = _family("evalkit.models.dcae")
VAVAE = _family("evalkit.models.vavae")
MAETOK = _family("evalkit.models.maetok")
FLEXTOK = _family("evalkit.models.flextok")
VQGAN = _family("evalkit.models.vqgan")
T2I = _family("evalkit.models.t2i")
# metric factories: f(id, **options) -> evalkit.metrics.base.Metric
PIXEL = "evalkit.metrics.builtin:pixel"
CODEBOOK = "evalkit.metrics.builtin:codebook"
LPIPS = "evalkit.metrics.lpips:metric"
DISTRIBUTION = "evalkit.fid.metrics:build"
TOKBENCH_METRIC = "evalkit.benchmarks.tokbench.metrics:metric"
JUDGED = "evalkit.metrics.builtin:judged"
RATE = "evalkit.metrics.builtin:rate"

# --- models: codecs and doubles ------------------------------------------------------------
models.register("identity", **CODECS, summary="returns its input (double)")
models.register("resize", **CODECS, summary="no tokenizer: TokBench ceiling")
models.register("jpeg-q*", **CODECS, summary="JPEG at quality N (Pillow)")
models.register("webp-q*", **CODECS, summary="WebP at quality N (Pillow)")
models.register("resize-x*", **CODECS, summary="down by N (area), up bicubic")
models.register("samples:*", **SAMPLES, summary="precomputed samples")
# --- models: tiny autoencoders -------------------------------------------------------------
models.register("taesd", **TAESD, summary="TAESD (SD 1.x/2.x latents)")
models.register("taesdxl", **TAESD, summary="TAESDXL (SD-XL latents)")
models.register("taesd3", **TAESD, summary="TAESD3 (SD3 latents)")
models.register("taef1", **TAESD, summary="TAEF1 (FLUX.1 latents)")
models.register("taef2", **TAESD, summary="TAEF2 (FLUX.2 latents; weights ship in the package)")
# --- models: TiTok 1D tokenizers (bytedance/1d-tokenizer) ------------------------------------
models.register("titok-l32", **TITOK, summary="TiTok-L-32 VQ, 32 tokens")
models.register("titok-b64", **TITOK, summary="TiTok-B-64 VQ, 64 tokens")
models.register("titok-s128", **TITOK, summary="TiTok-S-128 VQ, 128 tokens")
models.register("titok-bl64-vq", **TITOK, summary="TiTok-BL-64 VQ 8k")
models.register("titok-bl128-vq", **TITOK, summary="TiTok-BL-128 VQ 8k")
models.register("titok-sl256-vq", **TITOK, summary="TiTok-SL-256 VQ 8k")
models.register("titok-ll32-vae", **TITOK, summary="TiTok-LL-32 VAE, 16 ch")
models.register("titok-bl64-vae", **TITOK, summary="TiTok-BL-64 VAE, 16 ch")
models.register("titok-bl128-vae", **TITOK, summary="TiTok-BL-128 VAE, 16 ch")
# --- models: variable-length 1D tokenizers (a token budget: <id>@N, evalkit.modelid) ---------
models.register("one-d-piece-l256", **ONE_D_PIECE, summary="One-D-Piece-L, 1-256 tokens (@N)")
models.register("one-d-piece-b256", **ONE_D_PIECE, summary="One-D-Piece-B, 1-256 tokens (@N)")
models.register("one-d-piece-s256", **ONE_D_PIECE, summary="One-D-Piece-S, 1-256 tokens (@N)")
models.register("maetok-b128", **MAETOK, summary="MAETok-B-128, 128 x 32 continuous")
models.register("flextok-d18-d28", **FLEXTOK, summary="FlexTok d18-d28 IN1k, 1-256 tokens (@N)")
models.register("var-vqvae", **VAR_VQVAE, summary="VAR multi-scale VQ, 680 tokens")
models.register("open-magvit2-256", **OPEN_MAGVIT2, summary="Open-MAGVIT2 LFQ, 2^18 codes")
models.register("unitok", **UNITOK, summary="UniTok, 256 tokens x 8 codebooks")
# --- models: VQGAN-style 2D VQ tokenizers (one conv network, official key layouts) ----------
models.register("vqgan-f16-16384", **VQGAN, summary="taming VQGAN f16, 16384 codes")
models.register("maskgit-vqgan", **VQGAN, summary="MaskGIT VQGAN f16, 1024 codes")
models.register("llamagen-vq-ds16", **VQGAN, summary="LlamaGen VQ f16, 16384 codes")
models.register("llamagen-vq-ds8", **VQGAN, summary="LlamaGen VQ f8, 16384 codes")
# --- models: latent-diffusion VAEs through diffusers (extra: evalkit[vae]) ---------------------
models.register("sd-ft-mse-vae", **VAE, summary="SD 1.x VAE ft-MSE (KL-f8)")
models.register("sdxl-vae", **VAE, summary="SD-XL VAE (KL-f8, 4 ch)")
models.register("sd35-vae", **VAE, summary="SD-3.5 VAE (KL-f8, 16 ch)")
models.register("flux1-vae", **VAE, summary="FLUX.1-dev VAE (KL-f8, 16 ch)")
# --- models: NVIDIA Cosmos image tokenizers (TorchScript archives read safely) -------------------
models.register("cosmos-ci8x8", **COSMOS, summary="Cosmos CI 8x8, 16-ch latents")
models.register("cosmos-ci16x16", **COSMOS, summary="Cosmos CI 16x16, 16-ch latents")
models.register("cosmos-di8x8", **COSMOS, summary="Cosmos DI 8x8, FSQ 64k codes")
models.register("cosmos-di16x16", **COSMOS, summary="Cosmos DI 16x16, FSQ 64k codes")
models.register("dc-ae-f32c32", **DCAE, summary="DC-AE f32c32 ImageNet (diffusers AutoencoderDC)")
models.register("vavae-f16d32", **VAVAE, summary="VA-VAE f16d32 (LightningDiT, KL, 32 ch)")
models.register("repa-e-sdvae", **VAE, summary="REPA-E E2E-SDVAE (KL-f8, 4 ch)")
models.register("repa-e-flux", **VAE, summary="REPA-E E2E-FLUX-VAE (KL-f8, 16 ch)")

# --- models: text-to-image generators through diffusers (extra: evalkit[t2i]) ---------------
models.register("sd15", **T2I, summary="Stable Diffusion v1.5 (512)")
models.register("sdxl", **T2I, summary="SD-XL base 1.0 (1024)")
models.register("sd35-medium", **T2I, summary="SD 3.5 Medium (gated)")
models.register("flux1-schnell", **T2I, summary="FLUX.1 schnell (4 steps)")
models.register("pixart-sigma", **T2I, summary="PixArt-Sigma XL 1024")

# --- metrics: catalog.metrics.build(id) -> Metric (id, direction, units, version, library) ---
metrics.register("psnr", PIXEL, summary="PSNR in dB on uint8 (skimage)")
metrics.register("ssim", PIXEL, summary="SSIM (Wang et al.: Gaussian 1.5), skimage")
metrics.register("ssim_uniform7", PIXEL, summary="SSIM, skimage's 7x7 uniform window")
metrics.register("lpips", LPIPS, summary="LPIPS v0.1, AlexNet (lpips weights); -O metrics=+lpips")
metrics.register("lpips_vgg", LPIPS, summary="LPIPS v0.1, VGG-16; -O metrics=+lpips_vgg")
metrics.register("codebook_usage", CODEBOOK, summary="fraction of codebook entries used")
metrics.register("code_entropy", CODEBOOK, summary="entropy of token ids (bits)")
metrics.register("t_acc", TOKBENCH_METRIC, summary="TokBench word accuracy")
metrics.register("t_ned", TOKBENCH_METRIC, summary="TokBench 1 - NED")
metrics.register("f_sim", TOKBENCH_METRIC, summary="TokBench face identity cosine")
metrics.register("fid", DISTRIBUTION, summary="FID, inception-v3-compat, float64")
metrics.register("kid", DISTRIBUTION, summary="KID (poly-3 MMD^2, subsets)")
metrics.register("precision", DISTRIBUTION, summary="PR k=3 (ADM)")
metrics.register("recall", DISTRIBUTION, summary="PR k=3 (ADM)")
metrics.register("is", DISTRIBUTION, summary="Inception Score (online)")
metrics.register("fd_dinov2", DISTRIBUTION, summary="FD-DINOv2, ViT-L/14, dgm-eval")
metrics.register("sfid", DISTRIBUTION, summary="sFID, ADM mixed_6/conv")
metrics.register("cmmd", DISTRIBUTION, summary="CMMD, CLIP ViT-L/14@336")
metrics.register("density", DISTRIBUTION, summary="density k=5 (prdc)")
metrics.register("coverage", DISTRIBUTION, summary="coverage k=5 (prdc)")
metrics.register("accuracy", JUDGED, summary="mean of a judge's 0/1 verdicts (fraction)")
metrics.register("accuracy_percent", JUDGED, summary="mean of a judge's verdicts (percent)")
metrics.register("judge_score", JUDGED, summary="mean of a rule's [0, 1] soft scores")
# per-image text-image scores (CLIPScore, PickScore, HPSv2.1, ...): one entry each in evalkit.scores
metrics.add_source("evalkit.scores:metric_entries")
metrics.register("bpp", RATE, summary="bits per pixel (codecs, discrete tokens)")
metrics.register("latent_values_per_pixel", RATE, summary="continuous latent values per pixel")

# --- benchmarks ----------------------------------------------------------------------------
benchmarks.register("recon", "evalkit.benchmarks.recon:build", summary="PSNR/SSIM on a photo set")
benchmarks.register("imagenet-rfid", "evalkit.benchmarks.imagenet_fid:build", summary="rFID val")
benchmarks.register("imagenet-gfid", "evalkit.benchmarks.imagenet_fid:build", summary="gFID ADM")
benchmarks.register("tokbench", "evalkit.benchmarks.tokbench.benchmark:build", summary="official")
benchmarks.register("tokbench-mini", "evalkit.benchmarks.tokbench.benchmark:build", summary="mini")
benchmarks.register("detailmaster", "evalkit.benchmarks.detailmaster.benchmark:build")
benchmarks.register("detailmaster-mini", "evalkit.benchmarks.detailmaster.benchmark:build")
benchmarks.register("geneval", "evalkit.benchmarks.geneval.benchmark:build", summary="GenEval")
benchmarks.register("t2i-scores", "evalkit.benchmarks.t2i_scores:build", summary="CLIPScore etc.")
benchmarks.register("visor", "evalkit.benchmarks.spatial.benchmark:build", summary="VISOR SR2D")
benchmarks.register(
    "t2i-compbench-spatial",
    "evalkit.benchmarks.spatial.benchmark:build",
    summary="T2I-CompBench 2D-spatial (val)",
)
benchmarks.register(
    "geneval-position",
    "evalkit.benchmarks.spatial.benchmark:build",
    summary="GenEval position (100 prompts)",
)
benchmarks.register(
    "spatial-compare",
    "evalkit.benchmarks.spatial.benchmark:build",
    summary="3 spatial rules, 1 folder",
)

# --- published table layouts ---------------------------------------------------------------
tables.register("tokbench", "evalkit.tables.tokbench:render_table")
tables.register("tokbench-mini", "evalkit.tables.tokbench:render_table")
