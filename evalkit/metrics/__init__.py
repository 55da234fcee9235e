"""Metrics: per-sample functions (PSNR, SSIM, ...) and streaming distribution metrics (FID, ...)."""
