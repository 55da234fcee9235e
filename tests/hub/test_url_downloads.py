"""Publisher URLs: verified by the sha256 prefix in the file name (then locked in full), refused
without any checksum unless --allow-unpinned, resumed byte-exactly after a cut."""

from __future__ import annotations

import hashlib
import json

import pytest

from evalkit import lockfile, store, urlfetch
from evalkit.types import WeightsFile

CONTENT = hashlib.sha256(b"a checkpoint").digest() * 4096  # 128 KiB
SHA = hashlib.sha256(CONTENT).hexdigest()
REAL = "https://download.example.org/models/"


@pytest.fixture
def routed(local_hub):
    with urlfetch.route_urls({REAL: f"{local_hub.url}/pub/"}):
        yield local_hub


def _wf(name: str, **kw) -> WeightsFile:
    return WeightsFile(name, url=REAL + name, store_path=f"weights/x/{name}", **kw)


def test_sha256_prefix_in_the_name_is_checked_and_the_full_sha256_locked(routed):
    name = f"parseq-{SHA[:8]}.pt"
    routed.add_url(name, CONTENT)
    got = store.resolve_verified(_wf(name))
    assert got.sha256 == SHA
    assert got.verified == f"first use, sha256 prefix {SHA[:8]} in the publisher's file name"
    entry = lockfile.read(lockfile.cache_lock_path())["files"][f"url:{REAL}{name}"]
    assert entry["sha256"] == SHA  # the full sha256, for every later run
    before = len(routed.requests)
    assert store.resolve_verified(_wf(name)).path == got.path
    assert len(routed.requests) == before


def test_a_prefix_that_does_not_match_is_one_error_and_nothing_is_cached(routed):
    name = "parseq-56125471.pt"  # docTR's real name: our bytes are not that file
    routed.add_url(name, CONTENT)
    with pytest.raises(store.ChecksumError) as err:
        store.resolve_verified(_wf(name))
    msg = str(err.value)
    assert name in msg and "56125471" in msg and SHA in msg and "\n" not in msg
    assert not urlfetch.cache_path(_wf(name)).exists()
    assert not list(urlfetch.cache_path(_wf(name)).parent.glob("*"))  # no .part either


def test_no_checksum_of_any_kind_needs_the_flag_and_is_recorded(routed):
    routed.add_url("antelope.zip", CONTENT)
    with pytest.raises(store.UnpinnedDownloadError, match="--allow-unpinned"):
        store.resolve_verified(_wf("antelope.zip"))
    assert routed.downloads() == []  # refused before any transfer
    with store.allowing_unpinned():
        got = store.resolve_verified(_wf("antelope.zip"))
    assert got.verified.startswith("not verified") and "--allow-unpinned" in got.verified
    assert store.resolve_verified(_wf("antelope.zip")).sha256 == SHA  # cached: no flag needed


def test_a_card_pin_is_enough(routed):
    routed.add_url("w.onnx", CONTENT)
    assert store.resolve_verified(_wf("w.onnx", sha256=SHA)).verified == "pinned by the card"


def test_a_cut_download_resumes_from_the_exact_byte(routed):
    name = f"w-{SHA[:8]}.pth"
    routed.add_url(name, CONTENT)
    routed.cut_once(SHA, 0.5)
    got = store.resolve_verified(_wf(name))
    assert got.path.read_bytes() == CONTENT
    assert [r.range for r in routed.downloads()] == [None, f"bytes={len(CONTENT) // 2}-"]


def test_a_part_left_by_a_killed_run_is_resumed(routed):
    name = f"w-{SHA[:8]}.pth"
    routed.add_url(name, CONTENT)
    part = urlfetch.cache_path(_wf(name)).with_name(name + ".part")
    part.parent.mkdir(parents=True)
    part.write_bytes(CONTENT[:1000])
    assert store.resolve_verified(_wf(name)).path.read_bytes() == CONTENT
    assert [r.range for r in routed.downloads()] == ["bytes=1000-"]


def test_a_lock_entry_that_differs_is_refused_naming_both(routed):
    name = f"w-{SHA[:8]}.pth"
    routed.add_url(name, CONTENT)
    other = "f" * 64
    lockfile.update(
        lockfile.cache_lock_path(),
        lambda d: d["files"].update({f"url:{REAL}{name}": {"sha256": other, "verified": "x"}}),
    )
    with pytest.raises(store.ChecksumError) as err:
        store.resolve_verified(_wf(name))
    assert other in str(err.value) and SHA in str(err.value)
    assert not urlfetch.cache_path(_wf(name)).exists()
    assert (
        json.loads(lockfile.cache_lock_path().read_text())["files"][f"url:{REAL}{name}"]["sha256"]
        == other
    )  # the lock is not rewritten by a failed download


def test_a_git_blob_pin_is_checked_with_gits_own_id(routed, tmp_path):
    import subprocess

    f = tmp_path / "x.pth"
    f.write_bytes(CONTENT)
    blob = subprocess.run(
        ["git", "hash-object", str(f)], capture_output=True, text=True, check=True
    ).stdout.strip()
    assert store.git_blob_sha1(f) == blob  # the id git itself computes
    routed.add_url("taesd_encoder.pth", CONTENT)
    got = store.resolve_verified(_wf("taesd_encoder.pth", git_blob=blob))
    assert got.verified == "pinned by the card"
    routed.add_url("taesd_decoder.pth", CONTENT)
    with pytest.raises(store.ChecksumError, match="git blob id"):
        store.resolve_verified(_wf("taesd_decoder.pth", git_blob="0" * 40))
