"""Weights resolution: store first, checksum enforced, one actionable message when missing."""

from __future__ import annotations

import hashlib

import pytest

from evalkit import store
from evalkit.types import WeightsFile


def test_found_in_store_and_checksum_verified(empty_store):
    path = empty_store / "weights" / "x" / "w.bin"
    path.parent.mkdir(parents=True)
    path.write_bytes(b"weights")
    digest = hashlib.sha256(b"weights").hexdigest()
    wf = WeightsFile("w.bin", sha256=digest, store_path="weights/x/w.bin", hub_id="org/repo")
    assert store.resolve(wf) == path
    bad = WeightsFile("w.bin", sha256="0" * 64, store_path="weights/x/w.bin")
    with pytest.raises(store.ChecksumError, match="pins sha256 0000"):
        store.resolve(bad)


def test_missing_file_message_says_what_where_and_how(empty_store):
    wf = WeightsFile(
        "tokenizer.safetensors",
        sha256="ab" * 32,
        store_path="weights/titok/t.st",
        hub_id="yucornetto/tokenizer_titok_l32_imagenet",
        revision="abc123",
    )
    with pytest.raises(store.MissingAssetError) as err:
        store.resolve(wf)
    msg = str(err.value)
    assert "yucornetto/tokenizer_titok_l32_imagenet@abc123/tokenizer.safetensors" in msg
    assert str(empty_store / "weights/titok/t.st") in msg  # where it looked
    assert "evalkit fetch" in msg  # how: the one command, or by hand with the Hub's own tool
    assert "hf download yucornetto/tokenizer_titok_l32_imagenet" in msg
    assert "--revision abc123" in msg and "EVALKIT_STORE" in msg


def test_store_from_environment(tmp_path, monkeypatch):
    (tmp_path / "s" / "a").mkdir(parents=True)
    (tmp_path / "s" / "a" / "f").write_bytes(b"1")
    monkeypatch.setenv("EVALKIT_STORE", str(tmp_path / "nowhere") + ":" + str(tmp_path / "s"))
    store.set_store(None)
    assert store.resolve(WeightsFile("f", store_path="a/f")) == tmp_path / "s" / "a" / "f"


def test_set_store_overrides_environment(empty_store, tmp_path):
    other = tmp_path / "other"
    (other / "a").mkdir(parents=True)
    (other / "a" / "f").write_bytes(b"1")
    store.set_store(str(other))
    try:
        assert store.resolve(WeightsFile("f", store_path="a/f")) == other / "a" / "f"
    finally:
        store.set_store(None)
