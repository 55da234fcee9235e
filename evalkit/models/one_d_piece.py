"""One-D-Piece (turingmotors/One-D-Piece): TiTok trained with tail token drop, so the first N of
its 256 tokens decode to a whole image. Cards, weights and the tokenizer adapter.

The network is the TiTok-L32/B64/S128 ("legacy") network of :mod:`evalkit.models.titok_arch` with
256 tokens of a 4096-entry, 12-dim l2-normalised codebook and the MaskGIT-VQGAN pixel decoder
(``configs/one-d-piece_{l,b,s}256.yaml``: ``finetune_decoder: True``). Official inference
(``scripts/inference_tokenizer.py``, ``TiTok.decode_tokens(tokens, length)``) encodes all 256
tokens and decodes the first ``length``; a budget ``<id>@N`` (:mod:`evalkit.modelid`) does the
same. Input float [0, 1] at 256 x 256 (resize the shorter side to 256, centre crop, no mean/std).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from evalkit.modelid import split_budget, with_budget
from evalkit.models.titok import TiTokCodes, TiTokTokenizer, build_net, shrink
from evalkit.models.titok_config import TiTokConfig
from evalkit.models.weights import no_grad
from evalkit.types import ModelCard, WeightsFile

if TYPE_CHECKING:
    import torch

    from evalkit.models.titok_arch import TiTokNet

SOURCE_REPO = "https://github.com/turingmotors/One-D-Piece"
SOURCE_COMMIT = "473665d1ec5d4f96e07f1c379166f668ee17b961"  # code read (and run) at this commit
# demo.ipynb at SOURCE_COMMIT downloads this file name from the Hub repos; their commits and
# sha256s could not be read here (the Hub is unreachable): first use verifies and locks them.
HUB_FILENAME = "pytorch_model.bin"
WEIGHTS_PIN = (
    "unpinned (Hub unreachable here; no readable source gives a commit or sha256): trusted on "
    "first use, verified against the Hub's LFS sha256 and locked; a state dict of tensors read "
    "with torch.load(weights_only=True)"
)
LICENSE = (
    "Apache-2.0 (code, README at the source commit); the Hub repos' weight licence was not "
    "readable here"
)
RANDOM_INIT_OPTIONS = ("random_init",)  # read by evalkit.runner.loaded_card
WEIGHT_OPTIONS = {"weights_path": 0}
MAX_TOKENS = 256


@dataclass(frozen=True)
class _Variant:
    hub_id: str
    config: TiTokConfig
    rfid: float  # ImageNet-val rFID at 256 tokens, README "Model Zoo" table at SOURCE_COMMIT
    official_config: str  # configs/<name>.yaml


def _cfg(size: str) -> TiTokConfig:
    base = TiTokConfig.official(size, size, MAX_TOKENS, 12, "vq", 4096, True, True)
    return replace(base, variable_length=True)


VARIANTS: dict[str, _Variant] = {
    "one-d-piece-l256": _Variant(
        "turing-motors/One-D-Piece-L-256", _cfg("large"), 1.08, "one-d-piece_l256"
    ),
    "one-d-piece-b256": _Variant(
        "turing-motors/One-D-Piece-B-256", _cfg("base"), 1.11, "one-d-piece_b256"
    ),
    "one-d-piece-s256": _Variant(
        "turing-motors/One-D-Piece-S-256", _cfg("small"), 1.48, "one-d-piece_s256"
    ),
}


def _variant(model_id: str) -> _Variant:
    try:
        return VARIANTS[model_id]
    except KeyError:
        raise ValueError(
            f"unknown One-D-Piece id {model_id!r}; known: {sorted(VARIANTS)}"
        ) from None


def weights_file(model_id: str) -> WeightsFile:
    return WeightsFile(
        filename=HUB_FILENAME,
        sha256=None,
        store_path=f"weights/{model_id}/{HUB_FILENAME}",
        hub_id=_variant(model_id).hub_id,
        revision=None,
    )


def card(model_id: str) -> ModelCard:
    """The card of a base id (``one-d-piece-l256``); ``@N`` cards come from the registry."""
    v = _variant(model_id)
    c = v.config
    return ModelCard(
        id=model_id,
        family="one-d-piece",
        kind="tokenizer",
        description=(
            f"One-D-Piece 1D tokenizer (TiTok with tail token drop): up to {MAX_TOKENS} tokens "
            f"from a {c.codebook_size}-entry codebook; ImageNet-trained; published rFID {v.rfid} "
            f"at {MAX_TOKENS} tokens. A budget {model_id}@N decodes the first N tokens."
        ),
        weights=(weights_file(model_id),),
        license=LICENSE,
        resolution=c.image_size,
        num_tokens=c.num_latent_tokens,
        codebook_size=c.codebook_size,
        latent_channels=c.token_size,
        compression=f"1D-{c.num_latent_tokens}",
        discrete=True,
        token_range=(1, MAX_TOKENS),
        extra={
            "source_repo": SOURCE_REPO,
            "source_commit": SOURCE_COMMIT,
            "official_config": f"configs/{v.official_config}.yaml",
            "published_rfid": v.rfid,
            "published_rfid_tokens": MAX_TOKENS,
            "preprocessing": "RGB, resize shorter side to 256, centre crop 256, [0, 1]",
            "encoder": f"ViT w{c.enc_width} d{c.enc_depth} h{c.enc_heads}",
            "decoder": f"ViT w{c.dec_width} d{c.dec_depth} h{c.dec_heads} + MaskGIT-VQGAN",
            "weights_pin": WEIGHTS_PIN,
        },
    )


class OneDPieceTokenizer(TiTokTokenizer):
    """TiTok's adapter, keeping the first ``budget`` tokens (the rest are never decoded)."""

    def __init__(self, model_card: ModelCard, net: TiTokNet, budget: int, seed: int = 0) -> None:
        super().__init__(model_card, net, "mode", seed)
        self.budget = budget

    @no_grad
    def encode(self, images: torch.Tensor, seeds: list[int] | None = None) -> TiTokCodes:
        codes = super().encode(images, seeds)
        return TiTokCodes(codes.tokens[..., : self.budget], discrete=True)


def build(
    model_id: str,
    *,
    random_init: bool = False,
    tiny: bool = False,
    seed: int = 0,
    weights_path: str | None = None,
    **options: Any,
) -> OneDPieceTokenizer:
    """One-D-Piece at ``model_id`` (``one-d-piece-l256`` or ``one-d-piece-l256@N``), its official
    checkpoint loaded strictly. ``random_init`` skips the weights (tests); ``tiny`` (with it)
    shrinks the network to 16 tokens; ``weights_path`` loads an explicit checkpoint file."""
    if options:
        raise ValueError(f"{model_id}: unknown options {sorted(options)}")
    if tiny and not random_init:
        raise ValueError("tiny=True only makes sense with random_init=True")
    base, budget = split_budget(model_id)
    v = _variant(base)
    c = card(base) if budget is None else with_budget(card(base), budget)
    cfg = shrink(v.config) if tiny else v.config
    budget = budget or cfg.num_latent_tokens
    if budget > cfg.num_latent_tokens:
        raise ValueError(f"{model_id}: this network has {cfg.num_latent_tokens} tokens")
    net, c = build_net(base, c, cfg, random_init=random_init, seed=seed, weights_path=weights_path)
    return OneDPieceTokenizer(c, net, budget, seed)
