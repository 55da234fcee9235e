"""VQGAN-style 2D VQ tokenizers: taming-transformers' VQGAN, MaskGIT's VQGAN, LlamaGen's VQ.

One network (:mod:`evalkit.models.vqgan_arch`) with each family's official key names; here the
cards, how each official checkpoint file is unpacked, and the tokenizer adapter. Images come in
as float [0, 1] NCHW; taming and LlamaGen take ``2x - 1`` and give [-1, 1] back, MaskGIT takes
and gives [0, 1] (the official demos'). Any size divisible by the downsampling factor works (the
networks are convolutional); the published numbers are at 256 x 256. Tokens are (B, h, w) code
indices, the reconstruction is the decode of those tokens, clamped.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from evalkit.models.vqgan_config import ConvVQConfig
from evalkit.models.weights import no_grad
from evalkit.types import ModelCard, TokenizerBase, WeightsFile

if TYPE_CHECKING:
    import torch

    from evalkit.models.vqgan_arch import ConvVQNet

RANDOM_INIT_OPTIONS = ("random_init",)  # read by evalkit.runner.loaded_card
WEIGHT_OPTIONS = {"weights_path": 0}
WEIGHTS_PIN = (
    "none: no readable source gives the file's sha256 (the Hub and heibox are unreachable "
    "here); download refused unless --allow-unpinned; rows record the sha256 of the file loaded"
)


@dataclass(frozen=True)
class Source:
    """An official code base: where the network and the checkpoint format were read."""

    repo: str
    commit: str
    files: str  # the files the facts come from
    license: str


TAMING = Source(
    "https://github.com/CompVis/taming-transformers",
    "3ba01b241669f5ade541ce990f7650a3b8f65318",
    "taming/models/vqgan.py, taming/modules/diffusionmodules/model.py, "
    "taming/modules/vqvae/quantize.py",
    "MIT (taming-transformers License.txt); the checkpoint carries no separate terms",
)
ONE_D_TOKENIZER = Source(
    "https://github.com/bytedance/1d-tokenizer",
    "942a96fbdd873780179d1b78d5462911528bf8c8",
    "modeling/modules/maskgit_vqgan.py, modeling/titok.py (PretrainedTokenizer)",
    "Apache-2.0 (1d-tokenizer code); weights converted by the TiTok authors from "
    "google-research/maskgit's JAX checkpoint; the Hub repo's terms were not readable here",
)
LLAMAGEN = Source(
    "https://github.com/FoundationVision/LlamaGen",
    "ce98ec41803a74a90ce68c40ababa9eaeffeb4ec",
    "tokenizer/tokenizer_image/vq_model.py, reconstruction_vq_ddp.py, vq_demo.py",
    "MIT (LlamaGen LICENSE); the Hub repo's terms were not readable here",
)


@dataclass(frozen=True)
class _Variant:
    family: str
    source: Source
    config: ConvVQConfig
    weights: WeightsFile
    rfid: float | None  # published ImageNet-val rFID at 256 (benchmarks/imagenet-rfid/reported.csv)
    rfid_source: str
    signed: bool  # True: the network sees and gives [-1, 1]; False: [0, 1]
    checkpoint: str  # how the official file holds the weights (for the card)
    state_dict_keys: tuple[str, ...]  # where the state dict sits in the file, first found wins
    training_only: tuple[str, ...]  # key prefixes of training-time state (not the tokenizer)
    summary: str
    tokbench_name: str | None = None
    note: str = ""  # anything a user should know about getting the weights


def _file(model_id: str, filename: str, **where: str) -> WeightsFile:
    return WeightsFile(
        filename=filename, sha256=None, store_path=f"weights/{model_id}/{filename}", **where
    )


# the taming README's link (heibox share a7530b09fed84f80a887) to ckpts/last.ckpt, as download
_HEIBOX = (
    "https://heibox.uni-heidelberg.de/d/a7530b09fed84f80a887/files/?p=%2Fckpts%2Flast.ckpt&dl=1"
)


def _llamagen(
    ds: int, ch_mult: tuple[int, ...], rfid: float, tokbench: str | None = None
) -> _Variant:
    model_id, grid = f"llamagen-vq-ds{ds}", 256 // ds
    return _Variant(
        "llamagen-vq",
        LLAMAGEN,
        ConvVQConfig("llamagen", 16384, 8, ch_mult=ch_mult, l2_norm=True),
        _file(model_id, f"vq_ds{ds}_c2i.pt", hub_id="FoundationVision/LlamaGen"),
        rfid,
        f"LlamaGen README, VQ-VAE models table (vq_ds{ds}_c2i, {grid}x{grid} tokens, rFID 256x256)",
        True,
        "PyTorch dict; the state dict under 'ema', else 'model' (the official order)",
        ("ema", "model", "state_dict"),
        ("quantize.codebook_used",),
        f"LlamaGen VQ tokenizer ds{ds} (class-conditional), 16384 codes of 8 dims, l2-normalised",
        tokbench,
    )


VARIANTS: dict[str, _Variant] = {
    "vqgan-f16-16384": _Variant(
        "taming-vqgan",
        TAMING,
        ConvVQConfig("taming", 16384, 256),
        _file("vqgan-f16-16384", "last.ckpt", url=_HEIBOX),
        4.98,
        "taming-transformers README (VQGAN ImageNet f=16, 16384: FID vs val 4.98); "
        "UniTok README table (VQ-GAN, 256 tokens: 4.98)",
        True,
        "PyTorch Lightning checkpoint: 'state_dict' (with the training loss under 'loss.')",
        ("state_dict",),
        ("loss.",),
        "taming-transformers VQGAN, ImageNet, f16, 16384 codes of 256 dims",
        note=(
            "The README links the checkpoint on heibox (share a7530b09fed84f80a887, not on the "
            "Hub); a third-party repository committed that share's answer 'Link does not exist' "
            "in place of the config file, so the link may be gone: then put last.ckpt (the "
            "f16-16384 Lightning checkpoint) in the store yourself."
        ),
    ),
    "maskgit-vqgan": _Variant(
        "maskgit-vqgan",
        ONE_D_TOKENIZER,
        ConvVQConfig("maskgit", 1024, 256),
        _file("maskgit-vqgan", "maskgit-vqgan-imagenet-f16-256.bin", hub_id="fun-research/TiTok"),
        2.28,
        "TiTok paper (arXiv 2406.07550) Table 1, MaskGIT-VQGAN row (256 tokens); the paper was "
        "not readable here: value read from two third-party transcriptions of that table",
        False,
        "plain state dict (torch.save), loaded strictly by the official PretrainedTokenizer",
        (),
        (),
        "MaskGIT VQGAN (PyTorch port in 1d-tokenizer), ImageNet, f16, 1024 codes of 256 dims",
    ),
    "llamagen-vq-ds16": _llamagen(16, (1, 1, 2, 2, 4), 2.19),
    # TokBench's 16x "LlamaGen" row does not say c2i or t2i (both are ds16): not matched
    "llamagen-vq-ds8": _llamagen(8, (1, 2, 2, 4), 0.59, "LlamaGen (F8)"),  # the only ds8 one
}


def _variant(model_id: str) -> _Variant:
    if model_id not in VARIANTS:
        raise ValueError(f"unknown VQGAN-style id {model_id!r}; known: {sorted(VARIANTS)}")
    return VARIANTS[model_id]


def tiny_config(model_id: str) -> ConvVQConfig:
    """A narrow network of the same architecture as ``model_id`` (same layout, levels, blocks,
    attention and normalisation; 32 base channels, 128 codes): what the default tests run."""
    c = _variant(model_id).config
    dim = c.codebook_dim if c.codebook_dim < 32 else 16
    return replace(
        c, ch=32, z_channels=32, codebook_size=128, codebook_dim=32 if c.maskgit else dim
    )


def card(model_id: str) -> ModelCard:
    v = _variant(model_id)
    c = v.config
    grid = c.grid(256)
    value_range = "[-1, 1] (2x - 1 in, (y + 1) / 2 out)" if v.signed else "[0, 1]"
    return ModelCard(
        id=model_id,
        family=v.family,
        kind="tokenizer",
        description=f"{v.summary}; {grid}x{grid} tokens at 256 px; published rFID {v.rfid}.",
        weights=(v.weights,),
        license=v.source.license,
        resolution=256,
        num_tokens=grid * grid,
        codebook_size=c.codebook_size,
        latent_channels=c.codebook_dim,
        compression=f"{c.factor}x",
        discrete=True,
        tokbench_name=v.tokbench_name,
        extra={
            "source_repo": v.source.repo,
            "source_commit": v.source.commit,
            "source_files": v.source.files,
            "published_rfid": v.rfid,
            "published_rfid_source": v.rfid_source,
            "preprocessing": (
                f"RGB float {value_range}; 256 x 256 for the published numbers (any size divisible"
                f" by {c.factor} runs); output clamped to the range"
            ),
            "token_grid": f"{grid}x{grid} at 256 px, one token per {c.factor}x{c.factor} patch",
            "codebook": f"{c.codebook_size} x {c.codebook_dim}"
            + (" (l2-normalised)" if c.l2_norm else ""),
            "checkpoint_format": v.checkpoint,
            "checkpoint_seen_here": (
                "no: the Hub and heibox are unreachable here; the loading path is tested with "
                "seeded weights written in the official file format"
            ),
            "weights_pin": WEIGHTS_PIN,
            "weights_note": v.note or None,
        },
    )


@dataclass
class VQCodes:
    """What ``encode`` returns: (B, h, w) code indices."""

    tokens: torch.Tensor


class ConvVQTokenizer(TokenizerBase):
    def __init__(self, model_card: ModelCard, net: ConvVQNet, signed: bool) -> None:
        self.card = model_card
        self.module = net.eval()
        self.net = net
        self.signed = signed

    def _check(self, images: torch.Tensor) -> None:
        f = self.net.cfg.factor
        if images.ndim != 4 or images.shape[1] != 3 or images.shape[2] % f or images.shape[3] % f:
            raise ValueError(
                f"{self.card.id} takes (B, 3, H, W) images with H and W divisible by {f}, "
                f"got {tuple(images.shape)}"
            )

    @no_grad
    def encode(self, images: torch.Tensor) -> VQCodes:
        self._check(images)
        p = next(self.net.parameters())
        x = images.to(device=p.device, dtype=p.dtype)
        z = self.net.encode_features(2 * x - 1 if self.signed else x)
        return VQCodes(self.net.quantize_indices(z))

    @no_grad
    def decode(self, codes: VQCodes | torch.Tensor) -> torch.Tensor:
        tokens = codes.tokens if isinstance(codes, VQCodes) else codes
        p = next(self.net.parameters())
        y = self.net.decode_features(self.net.lookup(tokens.to(p.device).long()).to(p.dtype))
        y = ((y.clamp(-1.0, 1.0) + 1) / 2) if self.signed else y.clamp(0.0, 1.0)
        return y.float()

    @no_grad
    def reconstruct(self, images: torch.Tensor) -> torch.Tensor:
        return self.decode(self.encode(images))

    def token_ids(self, codes: Any) -> torch.Tensor | None:
        """(B, h * w) code indices for codebook usage."""
        tokens = codes.tokens if isinstance(codes, VQCodes) else codes
        return tokens.reshape(tokens.shape[0], -1)


def official_state_dict(model_id: str, checkpoint: Any) -> dict[str, torch.Tensor]:
    """The tokenizer's tensors from an official checkpoint's contents, by their official names:
    the state dict found where the family keeps it (or the file itself when it is a plain state
    dict), minus training-only state."""
    import torch

    v = _variant(model_id)
    found = [
        checkpoint[k] for k in v.state_dict_keys if isinstance(checkpoint, dict) and k in checkpoint
    ]
    sd = found[0] if found else checkpoint
    if not isinstance(sd, dict) or not sd or not all(torch.is_tensor(t) for t in sd.values()):
        top = sorted(map(str, checkpoint))[:8] if isinstance(checkpoint, dict) else type(checkpoint)
        raise ValueError(
            f"{model_id}: no state dict in the checkpoint (looked under {list(v.state_dict_keys)}"
            f" and at the top level; top-level keys: {top})"
        )
    return {k: t for k, t in sd.items() if not k.startswith(v.training_only)}


def build(
    model_id: str,
    *,
    random_init: bool = False,
    tiny: bool = False,
    seed: int = 0,
    weights_path: str | None = None,
    **options: Any,
) -> ConvVQTokenizer:
    """Build a tokenizer with its official checkpoint (strict load, found via the store).

    ``random_init`` skips the weights (tests); ``weights_path`` loads an explicit checkpoint file
    (an official one, or a state dict with the official names) instead of the card's; ``tiny``
    (tests, with either) builds :func:`tiny_config`'s network instead of the real one.
    """
    if options:
        raise ValueError(f"{model_id}: unknown options {sorted(options)}")
    if tiny and not (random_init or weights_path):
        raise ValueError("tiny=True needs random_init=True or a weights_path (tests)")
    v = _variant(model_id)
    cfg = tiny_config(model_id) if tiny else v.config
    c = card(model_id)
    import torch

    from evalkit.models.vqgan_arch import ConvVQNet
    from evalkit.models.weights import load_checkpoint

    if random_init:
        torch.manual_seed(seed)
        c = replace(c, weights=(), description=c.description + " [random init]")
        return ConvVQTokenizer(c, ConvVQNet(cfg), v.signed)
    if weights_path:
        path = Path(weights_path)
    else:
        from evalkit.assets import run_context
        from evalkit.store import resolve

        with run_context(None, model_id):
            path = resolve(c.weights[0], f"{model_id} checkpoint")
    with torch.device("meta"):
        net = ConvVQNet(cfg)
    sd = official_state_dict(model_id, load_checkpoint(path))
    net.load_state_dict(sd, strict=True, assign=True)
    return ConvVQTokenizer(c, net.float(), v.signed)
