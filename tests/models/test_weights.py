"""Reading third-party checkpoints without running their code; seeded random weights."""

from __future__ import annotations

import argparse
import os
import pickle
import sys
import types
from pathlib import Path

import pytest
import torch

from evalkit.models.weights import StandIn, load_checkpoint, seeded_state_dict


class _Callback:
    """A training-code object, pickled by reference to a module the loader cannot import."""

    def __init__(self) -> None:
        self.best = torch.zeros(1)


def _save_with_foreign_class(path: Path) -> None:
    module = types.ModuleType("evalkit_test_training_code")
    _Callback.__module__ = module.__name__
    module._Callback = _Callback  # type: ignore[attr-defined]
    sys.modules[module.__name__] = module
    try:
        torch.save(
            {
                "state_dict": {"w": torch.arange(3.0)},
                "args": argparse.Namespace(lr=0.1),
                "callbacks": {"ckpt": _Callback()},
                "epoch": 7,
            },
            path,
        )
    finally:
        del sys.modules[module.__name__]


def test_plain_state_dict_loads_with_weights_only(tmp_path: Path) -> None:
    torch.save({"w": torch.ones(2)}, tmp_path / "a.pt")
    assert torch.equal(load_checkpoint(tmp_path / "a.pt")["w"], torch.ones(2))


def test_training_objects_become_inert_stand_ins(tmp_path: Path) -> None:
    path = tmp_path / "lightning.ckpt"
    _save_with_foreign_class(path)
    with pytest.raises(pickle.UnpicklingError):  # what torch alone does with such a file
        torch.load(path, weights_only=True)
    ck = load_checkpoint(path)
    assert torch.equal(ck["state_dict"]["w"], torch.arange(3.0)) and ck["epoch"] == 7
    assert isinstance(ck["args"], StandIn) and ck["args"].stand_in_for == "argparse.Namespace"
    cb = ck["callbacks"]["ckpt"]
    assert isinstance(cb, StandIn) and not isinstance(cb, _Callback)
    assert "evalkit_test_training_code" not in sys.modules  # the class was never imported


class _Exploit:
    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):  # noqa: ANN204 - what a malicious checkpoint would contain
        return (os.system, (f"touch {self.marker}",))


def test_code_in_a_checkpoint_is_refused_not_run(tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    torch.save({"w": torch.ones(1), "x": _Exploit(marker)}, tmp_path / "bad.pt")
    with pytest.raises(pickle.UnpicklingError):
        load_checkpoint(tmp_path / "bad.pt")
    assert not marker.exists()


def test_seeded_state_dict_is_reproducible_per_name_and_scaled() -> None:
    shapes = {"conv.weight": [64, 32, 3, 3], "norm.weight": [64], "conv.bias": [64]}
    a = seeded_state_dict(shapes, 0)
    b = seeded_state_dict(dict(reversed(list(shapes.items()))), 0)  # order does not matter
    assert all(torch.equal(a[k], b[k]) for k in shapes)
    assert not torch.equal(a["conv.weight"], seeded_state_dict(shapes, 1)["conv.weight"])
    assert float(a["conv.weight"].std()) == pytest.approx((32 * 9) ** -0.5, rel=0.05)
    assert float(a["norm.weight"].mean()) == pytest.approx(1.0, abs=0.05)
    assert float(a["conv.bias"].abs().max()) < 1.0 and a["conv.bias"].dtype == torch.float32


def test_a_legacy_format_file_with_objects_is_refused_clearly(tmp_path: Path) -> None:
    path = tmp_path / "legacy.pt"
    obj = {"state_dict": {"w": torch.ones(1)}, "args": argparse.Namespace(x=1)}
    torch.save(obj, path, _use_new_zipfile_serialization=False)
    with pytest.raises(pickle.UnpicklingError, match="legacy-format"):
        load_checkpoint(path)
