"""The three registries and their built-in entries: one line per model, benchmark or metric.

Entries are lazy ``"module:attr"`` strings, so importing this module (and `evalkit list`) imports
neither torch nor any backend. A factory is called as ``factory(id, **options)``.
"""

from __future__ import annotations

from typing import Any

from evalkit.registry import Registry

models: Registry[Any] = Registry("model")
benchmarks: Registry[Any] = Registry("benchmark")
metrics: Registry[Any] = Registry("metric")
# Benchmarks whose published table has a layout of its own: renderer(rows_df) -> markdown.
tables: Registry[Any] = Registry("table")

# --- models: codecs and doubles ------------------------------------------------------------
models.register("identity", "evalkit.models.codecs:build", summary="returns its input (double)")
models.register("resize", "evalkit.models.codecs:build", summary="no tokenizer: TokBench ceiling")
models.register("jpeg-q*", "evalkit.models.codecs:build", summary="JPEG at quality N (Pillow)")
models.register("webp-q*", "evalkit.models.codecs:build", summary="WebP at quality N (Pillow)")
models.register("resize-x*", "evalkit.models.codecs:build", summary="down by N (area), up bicubic")
models.register("samples:*", "evalkit.models.precomputed:build", summary="precomputed samples")
# --- models: tiny autoencoders -------------------------------------------------------------
models.register("taesd", "evalkit.models.taesd:build", summary="TAESD (SD 1.x/2.x latents)")
models.register("taesdxl", "evalkit.models.taesd:build", summary="TAESDXL (SD-XL latents)")
models.register("taesd3", "evalkit.models.taesd:build", summary="TAESD3 (SD3 latents)")
models.register("taef1", "evalkit.models.taesd:build", summary="TAEF1 (FLUX.1 latents)")
models.register("taef2", "evalkit.models.taesd:build", summary="TAEF2 (FLUX.2 latents)")
# --- models: TiTok 1D tokenizers (bytedance/1d-tokenizer) ------------------------------------
models.register("titok-l32", "evalkit.models.titok:build", summary="TiTok-L-32 VQ, 32 tokens")
models.register("titok-b64", "evalkit.models.titok:build", summary="TiTok-B-64 VQ, 64 tokens")
models.register("titok-s128", "evalkit.models.titok:build", summary="TiTok-S-128 VQ, 128 tokens")
models.register("titok-bl64-vq", "evalkit.models.titok:build", summary="TiTok-BL-64 VQ 8k")
models.register("titok-bl128-vq", "evalkit.models.titok:build", summary="TiTok-BL-128 VQ 8k")
models.register("titok-sl256-vq", "evalkit.models.titok:build", summary="TiTok-SL-256 VQ 8k")
models.register("titok-ll32-vae", "evalkit.models.titok:build", summary="TiTok-LL-32 VAE, 16 ch")
models.register("titok-bl64-vae", "evalkit.models.titok:build", summary="TiTok-BL-64 VAE, 16 ch")
models.register("titok-bl128-vae", "evalkit.models.titok:build", summary="TiTok-BL-128 VAE, 16 ch")
# --- models: latent-diffusion VAEs through diffusers (extra: evalkit[vae]) ---------------------
models.register("sd-ft-mse-vae", "evalkit.models.vae:build", summary="SD 1.x VAE ft-MSE (KL-f8)")
models.register("sdxl-vae", "evalkit.models.vae:build", summary="SD-XL VAE (KL-f8, 4 ch)")
models.register("sd35-vae", "evalkit.models.vae:build", summary="SD-3.5 VAE (KL-f8, 16 ch)")
models.register("flux1-vae", "evalkit.models.vae:build", summary="FLUX.1-dev VAE (KL-f8, 16 ch)")

# --- metrics -------------------------------------------------------------------------------
metrics.register("psnr", "evalkit.metrics.pixel:psnr", summary="PSNR in dB on uint8 (skimage)")
metrics.register("ssim", "evalkit.metrics.pixel:ssim", summary="SSIM (Wang: Gaussian 1.5)")
metrics.register("ssim_uniform7", "evalkit.metrics.pixel:ssim_uniform7", summary="SSIM 7x7 uniform")
metrics.register("t_acc", "evalkit.benchmarks.tokbench:t_acc", summary="TokBench word accuracy")
metrics.register("t_ned", "evalkit.benchmarks.tokbench:t_ned", summary="TokBench 1 - NED")
metrics.register("fid", "evalkit.fid.api:fid", summary="FID, inception-v3-compat, float64")
metrics.register("kid", "evalkit.fid.kid:kid", summary="KID (poly-3 MMD^2, subsets)")
metrics.register("precision", "evalkit.fid.prdc:precision_recall", summary="PR k=3 (ADM)")
metrics.register("recall", "evalkit.fid.prdc:precision_recall", summary="PR k=3 (ADM)")
metrics.register("is", "evalkit.fid.isc:inception_score", summary="Inception Score (online)")
metrics.register("f_sim", "evalkit.benchmarks.tokbench.judges:cosine", summary="face cosine")

# --- benchmarks ----------------------------------------------------------------------------
benchmarks.register("recon", "evalkit.benchmarks.recon:build", summary="PSNR/SSIM on a photo set")
benchmarks.register("imagenet-rfid", "evalkit.benchmarks.imagenet_fid:build", summary="rFID val")
benchmarks.register("imagenet-gfid", "evalkit.benchmarks.imagenet_fid:build", summary="gFID ADM")
benchmarks.register("tokbench", "evalkit.benchmarks.tokbench.benchmark:build", summary="official")
benchmarks.register("tokbench-mini", "evalkit.benchmarks.tokbench.benchmark:build", summary="mini")

# --- published table layouts ---------------------------------------------------------------
tables.register("tokbench", "evalkit.benchmarks.tokbench.table:render_table")
tables.register("tokbench-mini", "evalkit.benchmarks.tokbench.table:render_table")
