"""The safe reader of pickled torch files: tensors come back, nothing the file names runs."""

from __future__ import annotations

import pickle
from pathlib import Path

import pytest
import torch

from evalkit.models.safe_checkpoint import Opaque, checkpoint_tensors, read_pickle_archive


class _Shell:
    """Pickles as a call to os.system: what a hostile checkpoint would hold."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):  # noqa: ANN204 - pickle protocol
        import os

        return (os.system, (f"touch {self.marker}",))


def test_checkpoint_tensors_match_torch_load(tmp_path: Path) -> None:
    sd = {"a.weight": torch.randn(3, 4), "a.bias": torch.arange(3), "half": torch.ones(2).half()}
    path = tmp_path / "ckpt.pt"
    torch.save({"state_dict": sd, "epoch": 3}, path)
    got = checkpoint_tensors(path, "state_dict")
    assert sorted(got) == sorted(sd)
    for k, v in sd.items():
        assert got[k].dtype == v.dtype and torch.equal(got[k], v)
    with pytest.raises(ValueError, match="no 'model' entry"):
        checkpoint_tensors(path, "model")


def test_a_hostile_global_is_never_called(tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    path = tmp_path / "evil.pt"
    torch.save({"state_dict": {"w": torch.zeros(2)}, "payload": _Shell(marker)}, path)
    with pytest.raises(pickle.UnpicklingError):  # what torch refuses too
        torch.load(path, weights_only=True)
    obj = read_pickle_archive(path)
    assert isinstance(obj["payload"], Opaque) and "system" in repr(obj["payload"])
    assert not marker.exists()
    assert torch.equal(checkpoint_tensors(path, "state_dict")["w"], torch.zeros(2))
