"""Loading third-party weights: the one place that decides how a checkpoint file is read.

safetensors when the file is one; otherwise ``torch.load(weights_only=True)``, which refuses
pickled code. Never ``trust_remote_code``. torch is imported inside the functions, so that model
modules (whose ``card`` functions the CLI reads) stay importable without torch.
"""

from __future__ import annotations

import functools
import hashlib
import pickle
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    import torch

F = TypeVar("F", bound=Callable[..., Any])
M = TypeVar("M", bound="torch.nn.Module")


def load_state_dict(path: Path) -> dict[str, torch.Tensor]:
    """A checkpoint's tensors by name, read without executing anything from the file."""
    if path.suffix == ".safetensors":
        from safetensors.torch import load_file

        return load_file(str(path))
    import torch

    sd = torch.load(path, map_location="cpu", weights_only=True)
    if not isinstance(sd, dict):
        raise TypeError(f"{path} does not hold a state dict")
    return sd


class StandIn:
    """Replaces, inside a loaded checkpoint, an object of a class that was not allowed: the class
    is never imported or called; only its dotted name is kept (``stand_in_for``)."""

    stand_in_for = ""

    def __new__(cls, *args: Any, **kwargs: Any) -> StandIn:
        return object.__new__(cls)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        pass

    def __setstate__(self, state: Any) -> None:
        pass

    def __repr__(self) -> str:
        return f"<stand-in for {self.stand_in_for}>"


def load_checkpoint(path: Path) -> Any:
    """A training checkpoint's contents, read without executing anything from the file.

    ``torch.load(weights_only=True)`` first. Training checkpoints often also pickle objects of the
    training code (argparse Namespace, Lightning callbacks, OmegaConf configs), which it refuses;
    then the file is read again by the same restricted unpickler with each refused name (listed
    by ``torch.serialization.get_unsafe_globals_in_checkpoint``, which runs nothing) allowed as a
    :class:`StandIn`: tensors and plain containers load, every such object becomes inert.
    """
    import torch

    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as exc:
        refused = exc
    try:
        names = torch.serialization.get_unsafe_globals_in_checkpoint(str(path))
    except ValueError:  # the pre-1.6 (non-zip) format: its names cannot be listed safely
        raise pickle.UnpicklingError(
            f"{path}: a legacy-format (pre-zip) checkpoint with objects other than tensors; "
            "evalkit will not unpickle it. Re-save its state dict with torch.save on a machine "
            f"that trusts the file. torch said: {refused}"
        ) from None
    stand_ins = [(type(n.rsplit(".", 1)[-1], (StandIn,), {"stand_in_for": n}), n) for n in names]
    with torch.serialization.safe_globals(stand_ins):
        return torch.load(path, map_location="cpu", weights_only=True)


def seeded_state_dict(shapes: Mapping[str, Sequence[int]], seed: int) -> dict[str, torch.Tensor]:
    """Random float32 weights for the given names and shapes, reproducible from ``seed`` alone.

    For parity fixtures: the official model and ours load the same weights, and a test
    regenerates them instead of committing them. Each tensor has its own generator (seeded from
    ``seed`` and its name), so order does not matter. Scales keep activations of order one:
    N(0, 1/fan_in) for matrices and kernels, 1 + N(0, 0.1^2) for 1-D ``weight`` (norm gains),
    N(0, 0.1^2) for other vectors and scalars.
    """
    import math

    import torch

    out = {}
    for name, shape in shapes.items():
        digest = hashlib.sha256(f"{seed}:{name}".encode()).digest()
        gen = torch.Generator().manual_seed(int.from_bytes(digest[:7], "little"))
        t = torch.randn(tuple(shape), generator=gen, dtype=torch.float32)
        if len(shape) >= 2:
            t = t / math.sqrt(math.prod(shape[1:]))
        elif name.endswith("weight"):
            t = 1.0 + 0.1 * t
        else:
            t = 0.1 * t
        out[name] = t
    return out


def no_grad(fn: F) -> F:
    """``torch.no_grad()`` as a decorator that imports torch only when the method runs."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        import torch

        with torch.no_grad():
            return fn(*args, **kwargs)

    return wrapper  # type: ignore[return-value]


def diffusers_dtype(dtype: Any) -> dict[str, Any]:
    """The keyword diffusers' ``from_pretrained`` takes for the dtype: ``dtype`` from 0.42 (which
    deprecates ``torch_dtype`` with a FutureWarning), ``torch_dtype`` before."""
    import diffusers

    major, minor = (int(x) for x in diffusers.__version__.split(".")[:2])
    return {"dtype": dtype} if (major, minor) >= (0, 42) else {"torch_dtype": dtype}


def load_strict(module: torch.nn.Module, tensors: dict[str, torch.Tensor], source: str) -> None:
    """Load ``tensors`` into ``module``: every parameter and persistent buffer present with its
    shape, nothing else, except copies of the module's non-persistent buffers (TorchScript
    archives keep them: wavelet taps, quantiser levels). Those must equal ours at the file's
    precision, and the file's values are used, as running the archive itself would. One error
    lists everything that differs."""
    import torch

    wanted = module.state_dict()
    constants = {n: b for n, b in module.named_buffers() if n not in wanted}
    missing = sorted(set(wanted) - set(tensors))
    unexpected = sorted(set(tensors) - set(wanted) - set(constants))
    shapes = sorted(
        f"{k}: file {tuple(tensors[k].shape)}, model {tuple(v.shape)}"
        for k, v in wanted.items()
        if k in tensors and tensors[k].shape != v.shape
    )
    differ = sorted(
        k
        for k, v in constants.items()
        if k in tensors
        and (
            tensors[k].shape != v.shape
            or not torch.equal(tensors[k], v.detach().cpu().to(tensors[k].dtype))
        )
    )
    problems = [
        f"{what} ({len(keys)}): {', '.join(keys[:6])}{' ...' if len(keys) > 6 else ''}"
        for what, keys in (
            ("missing", missing),
            ("unexpected", unexpected),
            ("wrong shape", shapes),
            ("constants that differ from ours", differ),
        )
        if keys
    ]
    if problems:
        raise RuntimeError(f"{source} does not match the architecture: " + "; ".join(problems))
    module.load_state_dict({k: tensors[k].to(dtype=v.dtype) for k, v in wanted.items()})
    with torch.no_grad():
        for k, v in constants.items():
            if k in tensors:
                v.copy_(tensors[k].to(v.dtype))


def strict_without_init(make: Callable[[], M], tensors: dict[str, torch.Tensor], source: str) -> M:
    """``make()`` built on the meta device (no random init of what the checkpoint replaces), then
    given ``tensors`` by :func:`load_strict`, in float32. Non-persistent buffers come out of
    ``to_empty`` uninitialised: the caller sets those the file does not carry."""
    import torch

    with torch.device("meta"):
        net = make()
    net.to_empty(device="cpu")
    load_strict(net, tensors, source)
    return net.float()


def pad_to_multiple(images: torch.Tensor, multiple: int) -> torch.Tensor:
    """``images`` padded at the bottom / right (replicate) to sides that are multiples of
    ``multiple``, so a convolutional autoencoder sees a size it can halve; crop the output back
    with ``[..., :h, :w]``."""
    import torch.nn.functional as F

    h, w = images.shape[-2:]
    ph, pw = (-h) % multiple, (-w) % multiple
    return F.pad(images, (0, pw, 0, ph), mode="replicate") if ph or pw else images


def signed_input(images: torch.Tensor, module: torch.nn.Module) -> torch.Tensor:
    """[0, 1] images as the [-1, 1] input most autoencoders take, on ``module``'s device and
    dtype."""
    p = next(module.parameters())
    return images.to(device=p.device, dtype=p.dtype) * 2.0 - 1.0
