"""Loading third-party weights: the one place that decides how a checkpoint file is read.

safetensors when the file is one; otherwise ``torch.load(weights_only=True)``, which refuses
pickled code. Never ``trust_remote_code``.
"""

from __future__ import annotations

from pathlib import Path

import torch


def load_state_dict(path: Path) -> dict[str, torch.Tensor]:
    """A checkpoint's tensors by name, read without executing anything from the file."""
    if path.suffix == ".safetensors":
        from safetensors.torch import load_file

        return load_file(str(path))
    sd = torch.load(path, map_location="cpu", weights_only=True)
    if not isinstance(sd, dict):
        raise TypeError(f"{path} does not hold a state dict")
    return sd
