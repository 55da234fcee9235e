"""LPIPS (Zhang et al. 2018, v0.1) as tokenizer papers report it: the ``lpips`` package's network.

Our own small implementation of ``lpips.LPIPS(net=..., version="0.1")`` (what VTBench and most
tokenizer papers call; AlexNet by default, VGG-16 as ``lpips_vgg``): inputs in [-1, 1], the
package's ScalingLayer, the torchvision backbone's ReLU outputs (AlexNet: features 0-1, 2-4, 5-7,
8-9, 10-11; VGG-16: 0-3, 4-8, 9-15, 16-22, 23-29), unit-normalised over channels (eps 1e-10),
squared differences weighted by the learned 1x1 linear layers, averaged over space, summed over
layers. Scored on the same uint8 images as PSNR/SSIM.

Weights: the linear layers ship in evalkit (``evalkit/data/weights/lpips``: the package's
``weights/v0.1/{alex,vgg}.pth``, BSD-2-Clause, sha256 pinned); the backbone is torchvision's
ImageNet file, found in the offline store first, else downloaded from torchvision's URL and
verified by the sha256 prefix in its name (then locked). Parity with ``lpips`` 0.1.4 on the same
weights: tests/metrics/test_lpips.py.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from evalkit.types import WeightsFile

if TYPE_CHECKING:
    import numpy as np
    import torch

VERSION = "lpips-0.1"
SHIFT = (-0.030, -0.088, -0.188)  # lpips.ScalingLayer
SCALE = (0.458, 0.448, 0.450)
EPS = 1e-10  # lpips.normalize_tensor


@dataclass(frozen=True)
class Net:
    """One LPIPS trunk: where its torchvision ReLU outputs are taken, and its files."""

    torchvision_name: str
    slices: tuple[int, ...]  # end index (exclusive) of each tapped slice of ``features``
    backbone: WeightsFile
    linear: WeightsFile


def _torchvision(filename: str) -> WeightsFile:
    return WeightsFile(
        filename=filename,
        store_path=f"weights/torchvision/{filename}",
        url=f"https://download.pytorch.org/models/{filename}",
    )


def _linear(name: str, sha256: str) -> WeightsFile:
    return WeightsFile(
        filename=f"{name}.pth",
        sha256=sha256,
        store_path=f"weights/lpips/v0.1/{name}.pth",
        package="lpips",
        packaged=f"weights/lpips/{name}.pth",
    )


NETS: dict[str, Net] = {
    "lpips": Net(
        "alexnet",
        (2, 5, 8, 10, 12),
        _torchvision("alexnet-owt-7be5be79.pth"),
        _linear("alex", "df73285e35b22355a2df87cdb6b70b343713b667eddbda73e1977e0c860835c0"),
    ),
    "lpips_vgg": Net(
        "vgg16",
        (4, 9, 16, 23, 30),
        _torchvision("vgg16-397923af.pth"),
        _linear("vgg", "a78928a0af1e5f0fcb1f3b9e8f8c3a2a5a3de244d830ad5c1feddc79b8432868"),
    ),
}


def _lpips_module(net: Net) -> Any:
    """The torch module (built on first use: only runs that add the metric import torch)."""
    import torch
    import torchvision
    from torch import nn

    class LPIPSNet(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            with torch.device("meta"):  # no random init of the classifier we never use
                full = getattr(torchvision.models, net.torchvision_name)()
            self.features = full.features[: net.slices[-1]].to_empty(device="cpu")
            chans = [
                next(
                    m.out_channels
                    for m in reversed(self.features[:end])
                    if hasattr(m, "out_channels")
                )
                for end in net.slices
            ]
            # the package's key names: lin<k>.model.1.weight (Dropout at .0, inactive in eval)
            for k, c in enumerate(chans):
                lin = nn.Sequential(nn.Dropout(), nn.Conv2d(c, 1, 1, bias=False))
                self.add_module(f"lin{k}", nn.ModuleDict({"model": lin}))
            self.register_buffer("shift", torch.tensor(SHIFT).view(1, 3, 1, 1), persistent=False)
            self.register_buffer("scale", torch.tensor(SCALE).view(1, 3, 1, 1), persistent=False)

        def forward(self, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
            """Per-pair distances of two batches in [-1, 1]."""
            xa, xb = (a - self.shift) / self.scale, (b - self.shift) / self.scale
            total = torch.zeros(a.shape[0], device=a.device, dtype=a.dtype)
            start = 0
            for k, end in enumerate(net.slices):
                block = self.features[start:end]
                xa, xb = block(xa), block(xb)
                start = end
                na = xa / (xa.pow(2).sum(1, keepdim=True).sqrt() + EPS)
                nb = xb / (xb.pow(2).sum(1, keepdim=True).sqrt() + EPS)
                lin = getattr(self, f"lin{k}")["model"]
                total = total + lin((na - nb) ** 2).mean(dim=(1, 2, 3))
            return total

    return LPIPSNet()


def load(metric_id: str, device: str | None = None) -> Any:
    """The LPIPS network of ``metric_id`` with both weight files loaded strictly."""
    import torch

    from evalkit.store import resolve_all

    net = NETS[metric_id]
    module = _lpips_module(net)
    backbone, linear = resolve_all((net.backbone, net.linear), f"{metric_id} metric weights")
    tv = torch.load(backbone.path, map_location="cpu", weights_only=True)
    feats = {k[len("features.") :]: v for k, v in tv.items() if k.startswith("features.")}
    feats = {k: v for k, v in feats.items() if int(k.split(".")[0]) < net.slices[-1]}
    module.features.load_state_dict(feats, strict=True)
    lins = torch.load(linear.path, map_location="cpu", weights_only=True)
    mine = {k: v for k, v in module.state_dict().items() if k.startswith("lin")}
    if set(lins) != set(mine):
        raise RuntimeError(f"{linear.path}: keys {sorted(lins)} are not LPIPS {sorted(mine)}")
    module.load_state_dict({**module.state_dict(), **lins}, strict=True)
    dev = device or ("cuda" if torch.cuda.is_available() else "cpu")
    return module.eval().requires_grad_(False).to(dev)


class LPIPS:
    """``m(reference_u8, reconstruction_u8) -> float`` for HxWx3 uint8 arrays (one pair), or
    :meth:`batch` for stacks; the network loads on first use."""

    higher_is_better = False

    def __init__(self, metric_id: str) -> None:
        if metric_id not in NETS:
            raise ValueError(f"unknown LPIPS metric {metric_id!r}; known: {sorted(NETS)}")
        self.metric_id = metric_id
        self._net: Any = None

    def batch(self, refs: np.ndarray, recs: np.ndarray) -> list[float]:
        import numpy as np
        import torch

        if self._net is None:
            self._net = load(self.metric_id)
        dev = self._net.shift.device

        def to_input(u8: np.ndarray) -> torch.Tensor:
            x = torch.as_tensor(np.ascontiguousarray(u8).copy()).to(dev).permute(0, 3, 1, 2).float()
            return x / 127.5 - 1.0  # lpips.im2tensor: [0, 255] -> [-1, 1]

        with torch.inference_mode():
            d = self._net(to_input(refs), to_input(recs))
        return [float(v) for v in d.double().cpu()]

    def __call__(self, reference: np.ndarray, reconstruction: np.ndarray) -> float:
        return self.batch(reference[None], reconstruction[None])[0]


def added_metrics(value: str | None, benchmark: str) -> tuple[str, ...]:
    """The ids of ``-O metrics=+lpips[,+lpips_vgg]``: additions only (the card's metrics stay)."""
    if not value:
        return ()
    ids = [v.strip() for v in str(value).split(",") if v.strip()]
    bad = [v for v in ids if not v.startswith("+") or v[1:] not in NETS]
    if bad:
        raise ValueError(
            f"{benchmark}: -O metrics takes additions from {['+' + k for k in NETS]} "
            f"(comma-separated); not {bad}"
        )
    return tuple(dict.fromkeys(v[1:] for v in ids))


def metric(metric_id: str, **options: Any) -> Any:
    """The registry factory: a :class:`~evalkit.metrics.base.Metric` around :class:`LPIPS`."""
    from evalkit.metrics.base import Metric

    if options:
        raise ValueError(f"{metric_id}: takes no options, got {sorted(options)}")
    net = NETS.get(metric_id)
    trunk = net.torchvision_name if net else "?"
    return Metric(
        id=metric_id,
        compute=LPIPS(metric_id),
        higher_is_better=False,
        version=VERSION,
        units="1",
        library="evalkit",
        kind="sample",
        description=f"LPIPS v0.1 ({trunk} trunk, lpips package weights) on uint8 pairs",
    )
