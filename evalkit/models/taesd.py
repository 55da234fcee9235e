"""The tiny autoencoders of madebyollin/taesd (TAESD, TAESDXL, TAESD3, TAEF1, TAEF2).

Our own implementation of the published architecture. Module names follow the official
``nn.Sequential`` layout so that the official ``*_encoder.pth`` / ``*_decoder.pth`` files load
strictly. Facts taken from the official ``taesd.py`` (commit 5cccb12):

- the encoder takes RGB in [0, 1] directly (no mean/std, no [-1, 1] shift) and returns latents in
  the scaled latent space of the big VAE it imitates, at 1/8 of the input size;
- the decoder starts with a soft clamp ``3 * tanh(x / 3)`` and returns RGB meant to be clamped to
  [0, 1];
- TAEF2 (FLUX.2 latents, 32 channels) adds a global group-norm branch ("midblock GN") to the three
  lowest-resolution blocks of both encoder and decoder.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from evalkit.models.weights import load_state_dict, no_grad
from evalkit.types import ModelCard, TokenizerBase, WeightsFile

if TYPE_CHECKING:
    import torch

    from evalkit.models.taesd_net import TinyAutoencoder

# The network lives in taesd_net (torch); these names are re-exported lazily from there.
_NET_NAMES = ("TinyAutoencoder", "make_encoder", "make_decoder", "ResBlock", "SoftClamp")


def __getattr__(name: str) -> Any:
    if name in _NET_NAMES:
        from evalkit.models import taesd_net

        return getattr(taesd_net, name)
    raise AttributeError(name)


# Full hash of commit 5cccb12 ("Add support for FLUX.2 VAE"); every file below is at its latest
# version there, so one pinned commit serves every URL.
TAESD_COMMIT = "5cccb12dc72074a4be35680c3b108548a7c69978"
TAESD_REPO = "madebyollin/taesd"
DOWNSCALE = 8
# Variants whose weights ship inside the package (evalkit/data/weights/<id>/, MIT, with LICENSE):
# `evalkit run tokbench-mini --model taef2` needs no store. Pinned sha256s are checked on load.
PACKAGED = ("taef2",)
# What the runner reads to name the files really loaded (evalkit.runner.loaded_card).
RANDOM_INIT_OPTIONS = ("random_init",)
WEIGHT_OPTIONS = {"encoder_path": 0, "decoder_path": 1}
# Pins, and where each comes from:
# - git_blob: the blob ids (SHA-1 of the file) that ``git ls-tree`` lists for each .pth at
#   TAESD_COMMIT in github.com/madebyollin/taesd (read from that repository's tree); every
#   download is checked against them.
# - sha256 (taef2 only): computed from the files at ../shared/offline/weights/taef2, whose git blob
#   ids equal the ones listed at TAESD_COMMIT. The other variants' sha256 are not pinned: their
#   file contents were not available here to hash (the row records the sha256 actually loaded).


@dataclass(frozen=True)
class _Variant:
    latent_channels: int
    midblock_gn: bool
    imitates: str
    tokbench_name: str | None
    # sha256 of (encoder, decoder) where we have seen the files; None = not pinned yet
    sha256: tuple[str | None, str | None] = (None, None)
    # git blob ids of (encoder, decoder) at TAESD_COMMIT: a second, independent identity
    git_blob: tuple[str, str] = ("", "")


VARIANTS: dict[str, _Variant] = {
    "taesd": _Variant(
        latent_channels=4,
        midblock_gn=False,
        imitates="SD 1.x / 2.x VAE",
        tokbench_name=None,
        git_blob=(
            "65f85afc58480128926e52086fbf0fdc61c2c9b5",
            "5915a429fc08eba4adf62bf74f96705b8b0d5c1f",
        ),
    ),
    "taesdxl": _Variant(
        latent_channels=4,
        midblock_gn=False,
        imitates="SD-XL VAE",
        tokbench_name=None,
        git_blob=(
            "56dfb7ed13ac774bc28dcd981f072f26eb7c5e99",
            "477bc7e9604f418029508e72ac8719bb9d048291",
        ),
    ),
    "taesd3": _Variant(
        latent_channels=16,
        midblock_gn=False,
        imitates="SD3 VAE",
        tokbench_name=None,
        git_blob=(
            "9678667c0e3e4b648a36daaa8094b1732ae4fb67",
            "7943be72a9151d0b330c5d8a4fbb885d889b60a1",
        ),
    ),
    "taef1": _Variant(
        latent_channels=16,
        midblock_gn=False,
        imitates="FLUX.1 VAE",
        tokbench_name=None,
        git_blob=(
            "d8ee13fa3a1ff9a92643669d718e4b0827daafa5",
            "b772c9c4e6d3b79d06b277be59296389591783d3",
        ),
    ),
    "taef2": _Variant(
        latent_channels=32,
        midblock_gn=True,
        imitates="FLUX.2 VAE",
        tokbench_name=None,
        sha256=(
            "10a4e1021e89d7551eaf161352da8dbd0b1aa83872ae28b150c1df1ce2f147b6",
            "0a44a31e1ae59eb9dbf9359d24942fd3ef5928162c1800d97a28c61d51be0ab5",
        ),
        git_blob=(
            "8d738aba02f7ba9d156712489322dc5c43d5db1c",
            "f4da1ec48cb805b5ee8deb22cfad03f48fe52f64",
        ),
    ),
}


# --- cards ---------------------------------------------------------------------------------------


def _variant(model_id: str) -> _Variant:
    try:
        return VARIANTS[model_id]
    except KeyError:
        raise ValueError(
            f"unknown TAESD-family id {model_id!r}; known: {sorted(VARIANTS)}"
        ) from None


def weights_files(model_id: str) -> tuple[WeightsFile, WeightsFile]:
    v = _variant(model_id)
    files = []
    for part, sha, blob in zip(("encoder", "decoder"), v.sha256, v.git_blob, strict=True):
        name = f"{model_id}_{part}.pth"
        files.append(
            WeightsFile(
                filename=name,
                sha256=sha,
                store_path=f"weights/{model_id}/{name}",
                url=f"https://raw.githubusercontent.com/{TAESD_REPO}/{TAESD_COMMIT}/{name}",
                packaged=f"weights/{model_id}/{name}" if model_id in PACKAGED else None,
                git_blob=blob or None,
            )
        )
    return files[0], files[1]


def card(model_id: str) -> ModelCard:
    v = _variant(model_id)
    return ModelCard(
        id=model_id,
        family="taesd",
        kind="tokenizer",
        description=(
            f"Tiny autoencoder distilled from the {v.imitates} (madebyollin/taesd); continuous "
            f"{v.latent_channels}-channel latents at 1/8 resolution."
        ),
        weights=weights_files(model_id),
        license="MIT",
        resolution=None,  # fully convolutional; sides should be multiples of 8 (we pad otherwise)
        num_tokens=None,  # (H/8) * (W/8) latent positions: depends on the input size
        codebook_size=None,
        latent_channels=v.latent_channels,
        compression="8x",
        discrete=False,
        tokbench_name=v.tokbench_name,
        extra={
            "source_repo": f"https://github.com/{TAESD_REPO}",
            "source_commit": TAESD_COMMIT,
            "git_blob_sha1": {"encoder": v.git_blob[0], "decoder": v.git_blob[1]},
            "weights_pin": (
                "sha256 (computed from the offline files) + git blob id at source_commit"
                if v.sha256[0]
                else "git blob id at source_commit (from the repository tree); sha256 not "
                "established here: the row records the sha256 of the file loaded"
            ),
            "input": "RGB float [0, 1], NCHW, no normalisation",
            "output": "decoder output clamped to [0, 1]",
            "midblock_gn": v.midblock_gn,
            "tokens_per_image": "(H/8)*(W/8) positions x latent_channels floats",
        },
    )


# --- tokenizer adapter -----------------------------------------------------------------------


class TAESDTokenizer(TokenizerBase):
    """Encode: [0, 1] images -> latents (float). Decode: latents -> [0, 1] images.

    ``reconstruct`` pads each side up to a multiple of 8 (replicate) and crops the result back, so
    any image size round-trips with its own shape.
    """

    def __init__(self, model_card: ModelCard, module: TinyAutoencoder) -> None:
        self.card = model_card
        self.module = module.eval()

    def _device_dtype(self) -> tuple[torch.device, torch.dtype]:
        p = next(self.module.parameters())
        return p.device, p.dtype

    @no_grad
    def encode(self, images: torch.Tensor) -> torch.Tensor:
        device, dtype = self._device_dtype()
        return self.module.encoder(images.to(device=device, dtype=dtype))

    @no_grad
    def decode(self, codes: torch.Tensor) -> torch.Tensor:
        device, dtype = self._device_dtype()
        out = self.module.decoder(codes.to(device=device, dtype=dtype))
        return out.clamp(0.0, 1.0).float()

    @no_grad
    def reconstruct(self, images: torch.Tensor) -> torch.Tensor:
        import torch.nn.functional as F

        h, w = images.shape[-2:]
        ph, pw = (-h) % DOWNSCALE, (-w) % DOWNSCALE
        x = F.pad(images, (0, pw, 0, ph), mode="replicate") if (ph or pw) else images
        return self.decode(self.encode(x))[..., :h, :w]


def build(
    model_id: str,
    *,
    random_init: bool = False,
    width: int = 64,
    seed: int = 0,
    encoder_path: str | None = None,
    decoder_path: str | None = None,
    **options: Any,
) -> TAESDTokenizer:
    """Build a TAESD-family tokenizer with its official weights (found through the store).

    ``random_init=True`` skips the weights (tests); ``width`` then picks a smaller model.
    ``encoder_path``/``decoder_path`` load explicit files instead of resolving the card's.
    """
    if options:
        raise ValueError(f"{model_id}: unknown options {sorted(options)}")
    v = _variant(model_id)
    c = card(model_id)
    if not random_init and width != 64:
        raise ValueError("width != 64 only makes sense with random_init=True")
    import torch

    from evalkit.models.taesd_net import TinyAutoencoder

    torch.manual_seed(seed)
    module = TinyAutoencoder(v.latent_channels, width, v.midblock_gn)
    if not random_init:
        from evalkit.store import resolve

        enc_wf, dec_wf = c.weights
        enc = Path(encoder_path) if encoder_path else resolve(enc_wf, f"{model_id} encoder")
        dec = Path(decoder_path) if decoder_path else resolve(dec_wf, f"{model_id} decoder")
        module.load_official(load_state_dict(enc), load_state_dict(dec))
    else:
        c = replace(c, weights=(), description=c.description + " [random init]")
    return TAESDTokenizer(c, module)
