"""Hub downloads through huggingface_hub's real client against the local Hub: verified, locked,
resumed, refused when tampered, silent offline, one line when gated."""

from __future__ import annotations

import hashlib
import json

import pytest

from evalkit import hubfetch, lockfile, store
from evalkit.types import WeightsFile
from tests.localhub import TOKEN, blob_id

WEIGHTS = bytes(range(256)) * 64  # 16 KiB, stored in LFS (a .safetensors name)
CONFIG = b'{"hidden_size": 8}\n'  # a small file: the Hub reports its git blob id


def _repo(hub, **kw):
    return hub.add_repo("org/model", {"model.safetensors": WEIGHTS, "config.json": CONFIG}, **kw)


def _cache_files(tmp_path):
    hub_cache = tmp_path / "cache" / "hub"
    skip = ("CACHEDIR.TAG",)  # huggingface_hub tags its cache folder for backup tools
    return sorted(
        p.name
        for p in hub_cache.rglob("*")
        if p.is_file() and ".lock" not in p.name and p.name not in skip and "trees" not in p.parts
    )


def test_first_use_resolves_the_branch_verifies_and_locks(local_hub):
    commit = _repo(local_hub)
    got = store.resolve_verified(WeightsFile("model.safetensors", hub_id="org/model"))
    assert got.sha256 == hashlib.sha256(WEIGHTS).hexdigest()
    assert got.commit == commit
    assert got.verified == f"first use, verified against the Hub at commit {commit} (LFS sha256)"
    small = store.resolve_verified(WeightsFile("config.json", hub_id="org/model"))
    assert small.verified.endswith("(git blob id)")
    lock = json.loads(lockfile.cache_lock_path().read_text())
    assert lock["revisions"]["hub:model:org/model@main"]["commit"] == commit
    entry = lock["files"][f"hub:model:org/model@{commit}/model.safetensors"]
    assert entry["sha256"] == got.sha256 and entry["size"] == len(WEIGHTS)


def test_a_rerun_asks_the_network_nothing(local_hub):
    _repo(local_hub)
    wf = WeightsFile("model.safetensors", hub_id="org/model")
    first = store.resolve_verified(wf)
    hubfetch._trees.clear()  # as a new process would start
    before = len(local_hub.requests)
    again = store.resolve_verified(wf)
    assert len(local_hub.requests) == before  # the lock knows the commit, the cache the bytes
    assert again.path == first.path and again.verified == first.verified


def test_a_card_pinned_commit_is_used_as_is(local_hub):
    commit = _repo(local_hub, commit="1c9a2084c59112fd415b7ed97d4c200e864a95de")
    got = store.resolve_verified(
        WeightsFile("model.safetensors", hub_id="org/model", revision=commit)
    )
    assert got.commit == commit
    assert not any("/revision/" in r.path for r in local_hub.requests)  # nothing to resolve


def test_a_card_pinned_sha256_is_checked(local_hub):
    _repo(local_hub)
    pinned = hashlib.sha256(WEIGHTS).hexdigest()
    got = store.resolve_verified(
        WeightsFile("model.safetensors", hub_id="org/model", sha256=pinned)
    )
    assert got.verified == "pinned by the card"


@pytest.mark.parametrize("name", ["model.safetensors", "config.json"])
def test_tampered_content_is_one_error_naming_both_hashes_and_nothing_is_cached(
    local_hub, tmp_path, name
):
    _repo(local_hub)
    original = WEIGHTS if name == "model.safetensors" else CONFIG
    bad = bytes([original[0] ^ 1]) + original[1:]  # same size, one bit flipped
    local_hub.tamper("org/model", name, bad)
    with pytest.raises(store.ChecksumError) as err:
        store.resolve_verified(WeightsFile(name, hub_id="org/model"))
    msg = str(err.value)
    assert name in msg and "\n" not in msg
    if name == "model.safetensors":
        expected, actual = hashlib.sha256(original).hexdigest(), hashlib.sha256(bad).hexdigest()
    else:
        expected, actual = blob_id(original), blob_id(bad)
    assert expected in msg and actual in msg
    assert _cache_files(tmp_path) == []  # no blob, no snapshot link
    assert not lockfile.read(lockfile.cache_lock_path())["files"]


def test_content_changed_under_a_locked_commit_is_refused(local_hub, tmp_path):
    _repo(local_hub)
    wf = WeightsFile("model.safetensors", hub_id="org/model")
    first = store.resolve_verified(wf)
    for p in (tmp_path / "cache" / "hub").rglob("*"):  # a new machine sharing the lock
        if p.is_file() and not p.name.endswith(".lock"):
            p.unlink()
    changed = bytes(reversed(WEIGHTS))
    local_hub.rewrite("org/model", "model.safetensors", changed)  # the Hub agrees with itself
    hubfetch._trees.clear()
    with pytest.raises(store.ChecksumError) as err:
        store.resolve_verified(wf)
    msg = str(err.value)
    assert first.sha256 in msg and hashlib.sha256(changed).hexdigest() in msg
    assert "locked" in msg
    assert _cache_files(tmp_path) == []


def test_a_download_cut_in_half_resumes(local_hub):
    """huggingface_hub resumes from the last whole chunk it wrote (10 MiB in 1.x), so the file
    is bigger than one chunk; the cut comes at 12 of 24 MiB."""
    big = hashlib.sha256(b"seed").digest() * (24 * 2**20 // 32)
    local_hub.add_repo("org/big", {"model.safetensors": big})
    local_hub.cut_once(hashlib.sha256(big).hexdigest(), 0.5)
    got = store.resolve_verified(WeightsFile("model.safetensors", hub_id="org/big"))
    assert got.path.read_bytes() == big
    transfers = [r.range for r in local_hub.downloads() if "/lfs/" in r.path]
    assert transfers[0] is None and len(transfers) == 2
    resumed_at = int(transfers[1].removeprefix("bytes=").rstrip("-"))
    assert 0 < resumed_at <= len(big) // 2  # resumed, not restarted


def test_offline_never_touches_the_network_and_names_what_is_missing(local_hub, monkeypatch):
    _repo(local_hub)
    monkeypatch.setenv("EVALKIT_OFFLINE", "1")
    names = ("config.json", "model.safetensors")
    files = [WeightsFile(n, hub_id="org/model", store_path=f"weights/m/{n}") for n in names]
    local_hub_store = store.cache_root() / "store"
    store.set_store([local_hub_store])
    with pytest.raises(store.MissingAssetError) as err:
        store.resolve_all(files, "m weights")
    msg = str(err.value)
    assert local_hub.requests == []
    assert "2 of 2 files of org/model" in msg
    for name in ("config.json", "model.safetensors"):
        assert f"\n  {name}\n" in msg
    assert f"\n  {local_hub_store / 'weights' / 'm'}/<file>\n" in msg  # where each was sought
    assert "EVALKIT_OFFLINE" in msg and "evalkit fetch" in msg


def test_gated_repo_is_one_line_naming_the_token_and_how_to_give_it(local_hub, monkeypatch):
    _repo(local_hub, gated=True)
    wf = WeightsFile("model.safetensors", hub_id="org/model")
    with pytest.raises(store.GatedAssetError) as err:
        store.resolve_verified(wf)
    msg = str(err.value)
    assert "\n" not in msg
    assert "org/model is gated" in msg and "token" in msg
    assert "`hf auth login`" in msg and "HF_TOKEN" in msg
    monkeypatch.setenv("HF_TOKEN", TOKEN)
    assert store.resolve_verified(wf).path.read_bytes() == WEIGHTS


def test_a_file_the_hub_does_not_have_is_named(local_hub):
    _repo(local_hub)
    with pytest.raises(store.MissingAssetError, match="no such file"):
        store.resolve_verified(WeightsFile("missing.bin", hub_id="org/model"))
