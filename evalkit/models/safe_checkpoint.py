"""Tensors out of pickled torch files that ``torch.load(weights_only=True)`` refuses, safely.

Two kinds of official checkpoints need this: TorchScript archives (NVIDIA's Cosmos tokenizers ship
only ``encoder.jit`` / ``decoder.jit``; ``torch.jit.load`` compiles the archive's code and
``weights_only`` refuses TorchScript) and training checkpoints whose pickle holds objects besides
tensors (configs, callbacks). Both are zip archives of a ``data.pkl`` plus raw storages.

The unpickler here never calls anything the file names, except a short list of tensor builders
written in this module: every other global the pickle names (a TorchScript module class, an
OmegaConf config, ...) becomes an inert :class:`Opaque` record of its name and state. Nothing from
the file runs, so reading a hostile file yields wrong tensors at worst, never code execution.
"""

from __future__ import annotations

import pickle
import sys
import zipfile
from collections import OrderedDict
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import torch

_STORAGE_DTYPES = {
    "FloatStorage": "float32",
    "DoubleStorage": "float64",
    "HalfStorage": "float16",
    "BFloat16Storage": "bfloat16",
    "LongStorage": "int64",
    "IntStorage": "int32",
    "ShortStorage": "int16",
    "CharStorage": "int8",
    "ByteStorage": "uint8",
    "BoolStorage": "bool",
}


class Opaque:
    """A pickled object of a class we do not run: its name, constructor arguments and state."""

    qualname = "?"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self.args, self.kwargs = args, kwargs
        self.state: Any = None

    def __setstate__(self, state: Any) -> None:
        self.state = state

    def __repr__(self) -> str:
        return f"<opaque {self.qualname}>"


def _opaque_class(module: str, name: str) -> type[Opaque]:
    return type(name, (Opaque,), {"qualname": f"{module}.{name}"})


class _StorageType:
    def __init__(self, dtype: str) -> None:
        self.dtype = dtype


def _rebuild_tensor(
    storage: torch.Tensor,
    offset: int,
    size: tuple[int, ...],
    stride: tuple[int, ...],
    *_: Any,
) -> torch.Tensor:
    import torch

    if not size:
        return storage[offset].clone()
    return torch.as_strided(storage, tuple(size), tuple(stride), offset).clone()


def _rebuild_parameter(data: torch.Tensor, *_: Any) -> torch.Tensor:
    return data


def _identity(value: Any, *_: Any) -> Any:
    return value


# The only callables a file may reach: (module, name) -> what it gets instead.
_ALLOWED: dict[tuple[str, str], Any] = {
    ("collections", "OrderedDict"): OrderedDict,
    ("torch._utils", "_rebuild_tensor_v2"): _rebuild_tensor,
    ("torch._utils", "_rebuild_parameter"): _rebuild_parameter,
    ("torch._utils", "_rebuild_parameter_with_state"): _rebuild_parameter,
    ("torch.jit._pickle", "restore_type_tag"): _identity,
    ("torch.jit._pickle", "build_intlist"): _identity,
    ("torch.jit._pickle", "build_floatlist"): _identity,
    ("torch.jit._pickle", "build_doublelist"): _identity,
    ("torch.jit._pickle", "build_boollist"): _identity,
    ("torch.jit._pickle", "build_tensorlist"): _identity,
}


class _Unpickler(pickle.Unpickler):
    def __init__(self, data: Any, archive: zipfile.ZipFile, prefix: str) -> None:
        super().__init__(data)
        self.archive, self.prefix = archive, prefix
        self.storages: dict[str, torch.Tensor] = {}

    def find_class(self, module: str, name: str) -> Any:
        if (module, name) in _ALLOWED:
            return _ALLOWED[(module, name)]
        if module == "torch" and name in _STORAGE_DTYPES:
            return _StorageType(_STORAGE_DTYPES[name])
        return _opaque_class(module, name)

    def persistent_load(self, pid: Any) -> torch.Tensor:
        import torch

        kind, storage_type, key, _location, _numel = pid
        if kind != "storage" or not isinstance(storage_type, _StorageType):
            raise pickle.UnpicklingError(f"unsupported persistent id {pid!r}")
        if key not in self.storages:
            raw = bytearray(self.archive.read(f"{self.prefix}data/{key}"))
            dtype = getattr(torch, storage_type.dtype)
            self.storages[key] = (
                torch.frombuffer(raw, dtype=dtype) if raw else torch.empty(0, dtype=dtype)
            )
        return self.storages[key]


def read_pickle_archive(path: str | Path) -> Any:
    """The object in a zip-format torch file (``torch.save`` or ``torch.jit.save``), with
    tensors rebuilt and every other object an :class:`Opaque` record."""
    with zipfile.ZipFile(path) as archive:
        names = archive.namelist()
        data_pkl = next((n for n in names if n.endswith("data.pkl") and n.count("/") == 1), None)
        if data_pkl is None:
            raise ValueError(f"{path}: not a zip-format torch file (no <archive>/data.pkl)")
        prefix = data_pkl[: -len("data.pkl")]
        order = archive.read(prefix + "byteorder").decode() if prefix + "byteorder" in names else ""
        if order and order != sys.byteorder:
            raise ValueError(f"{path}: tensors stored {order}-endian, this machine is not")
        with archive.open(data_pkl) as fh:
            return _Unpickler(fh, archive, prefix).load()


def module_tensors(root: Any, prefix: str = "") -> dict[str, torch.Tensor]:
    """Every tensor attribute of a TorchScript module tree, by dotted name (parameters, buffers,
    and the non-persistent buffers that ``state_dict`` would leave out)."""
    import torch

    out: dict[str, torch.Tensor] = {}
    state = root.state if isinstance(root, Opaque) else root
    if not isinstance(state, dict):
        return out
    for name, value in state.items():
        if isinstance(value, torch.Tensor):
            out[prefix + str(name)] = value
        elif isinstance(value, (Opaque, dict)):
            out.update(module_tensors(value, f"{prefix}{name}."))
    return out


def torchscript_tensors(path: str | Path) -> dict[str, torch.Tensor]:
    """The tensors of a TorchScript archive (``*.jit``) by module path, without torch.jit."""
    root = read_pickle_archive(path)
    if not isinstance(root, Opaque):
        raise ValueError(f"{path}: not a TorchScript module archive")
    return module_tensors(root)


def checkpoint_tensors(path: str | Path, key: str | None = None) -> dict[str, torch.Tensor]:
    """A ``torch.save`` checkpoint's state dict (under ``key`` when given, e.g. "state_dict"),
    keeping only its tensors; configs and other objects in the file are never built."""
    import torch

    obj = read_pickle_archive(path)
    if key is not None:
        if not isinstance(obj, dict) or key not in obj:
            have = sorted(obj) if isinstance(obj, dict) else type(obj).__name__
            raise ValueError(f"{path}: no {key!r} entry (found {have})")
        obj = obj[key]
    if not isinstance(obj, dict):
        raise ValueError(f"{path}: does not hold a state dict")
    return {str(k): v for k, v in obj.items() if isinstance(v, torch.Tensor)}
