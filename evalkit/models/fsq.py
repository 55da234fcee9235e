"""Finite scalar quantisation (Mentzer et al., 2023), as Cosmos and FlexTok both use it: each
dimension bounded by tanh and rounded to one of ``levels[i]`` values in [-1, 1]; a token id is
the mixed-radix number of the rounded digits (the first dimension least significant)."""

from __future__ import annotations

import torch


def radix_basis(levels: torch.Tensor) -> torch.Tensor:
    """The place value of each dimension's digit: ``[1, l0, l0 l1, ...]``."""
    return torch.cumprod(torch.cat([levels.new_ones(1), levels[:-1]]), 0)


def quantize(z: torch.Tensor, levels: torch.Tensor) -> torch.Tensor:
    """z (..., len(levels)) -> codes on each dimension's grid in [-1, 1] (in z's dtype)."""
    half_l = (levels - 1) * (1 + 1e-3) / 2
    offset = torch.where(levels % 2 == 0, 0.5, 0.0)
    shift = (offset / half_l).atanh()
    bounded = (z + shift).tanh() * half_l - offset
    return bounded.round() / (levels // 2)


def codes_to_ids(codes: torch.Tensor, levels: torch.Tensor, basis: torch.Tensor) -> torch.Tensor:
    """codes (..., d) -> token ids (...,) int32, the digits counted in float32."""
    half = levels // 2
    return ((codes * half + half).float() * basis).sum(dim=-1).to(torch.int32)


def ids_to_codes(ids: torch.Tensor, levels: torch.Tensor, basis: torch.Tensor) -> torch.Tensor:
    """token ids (...,) -> codes (..., d)."""
    half = levels // 2
    return ((ids[..., None] // basis) % levels - half) / half
