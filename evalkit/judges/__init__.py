"""Judges: models that score generated images (detectors, colour namers, VLMs)."""
