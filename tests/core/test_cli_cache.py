"""The FID statistics cache: a size cap with least-recently-used eviction, `evalkit cache`."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from evalkit.cli import app
from evalkit.fid import cachedir
from evalkit.fid.refcache import RefCache
from evalkit.fid.stats import FeatureStats
from tests.support import REPO

runner = CliRunner()


def _stats(seed: int) -> FeatureStats:
    rng = np.random.default_rng(seed)
    return FeatureStats(dim=64).update(rng.standard_normal((10, 64)))


def test_size_parsing() -> None:
    assert cachedir.parse_size("2GB") == 2_000_000_000
    assert cachedir.parse_size("500 MB") == 500_000_000
    assert cachedir.parse_size("1.5GiB") == int(1.5 * 2**30)
    assert cachedir.parse_size("0") == 0
    assert cachedir.parse_size("none") is None
    with pytest.raises(ValueError, match="bad cache size"):
        cachedir.parse_size("2 parsecs")


def test_default_cap_is_2gb_and_env_overrides(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(cachedir.MAX_ENV, raising=False)
    assert RefCache("unused").max_bytes == 2_000_000_000
    monkeypatch.setenv(cachedir.MAX_ENV, "10MB")
    assert RefCache("unused").max_bytes == 10_000_000
    monkeypatch.setenv(cachedir.MAX_ENV, "lots")
    with pytest.raises(ValueError, match=cachedir.MAX_ENV):
        RefCache("unused")


def test_least_recently_used_entries_are_evicted(tmp_path: Path) -> None:
    unbounded = RefCache(tmp_path, max_bytes=None)
    a = unbounded.put("a", _stats(0))
    size = a.stat().st_size
    cache = RefCache(tmp_path, max_bytes=int(2.5 * size))  # room for two entries
    b = cache.put("b", _stats(1))
    os.utime(a, (1_000, 1_000))  # a written long ago ...
    os.utime(b, (2_000, 2_000))  # ... b a bit later
    assert cache.get("a") is not None  # ... but a was read just now: b is the oldest use
    c = cache.put("c", _stats(2))
    assert a.exists() and c.exists() and not b.exists()
    assert cache.get("b") is None
    np.testing.assert_array_equal(cache.get("a").stats.s, _stats(0).s)  # type: ignore[union-attr]
    # an entry larger than the cap is still kept (it was just computed), the others go
    tiny = RefCache(tmp_path, max_bytes=1)
    d = tiny.put("d", _stats(3))
    assert [p.name for p in tmp_path.glob("*.npz")] == [d.name]


def test_cache_info_and_clear(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EVALKIT_CACHE_DIR", str(tmp_path))
    monkeypatch.setenv(cachedir.MAX_ENV, "1GB")
    root = tmp_path / "fid" / "refstats"
    cache = RefCache(max_bytes=None)
    assert cache.root == root
    total = sum(cache.put(k, _stats(i)).stat().st_size for i, k in enumerate("xyz"))
    result = runner.invoke(app, ["cache", "info", "--list"])
    assert result.exit_code == 0, result.output
    assert str(root) in result.stdout
    assert f"entries: 3, {cachedir.human(total)} of 1.0 GB" in result.stdout
    assert all(f"{k}.npz" in result.stdout for k in "xyz")
    result = runner.invoke(app, ["cache", "clear"])
    assert result.exit_code == 0 and "removed 3 entries" in result.stdout
    assert not list(root.glob("*.npz"))
    assert "entries: 0" in runner.invoke(app, ["cache", "info"]).stdout


def test_cache_commands_do_not_import_torch(tmp_path: Path) -> None:
    code = (
        "import sys; from evalkit.cli import app\n"
        "try:\n    app(['cache', 'info'])\nexcept SystemExit as e:\n    assert not e.code\n"
        "print([m for m in ('torch', 'numpy', 'pandas') if m in sys.modules])"
    )
    env = {**os.environ, "PYTHONPATH": str(REPO), "EVALKIT_CACHE_DIR": str(tmp_path)}
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, cwd=REPO, check=True
    )
    assert out.stdout.strip().splitlines()[-1] == "[]", out.stdout


def test_fid_bad_cache_max_is_one_line() -> None:
    pytest.importorskip("torch_fidelity")
    result = runner.invoke(app, ["fid", "a", "b", "--cache-max", "huge"])
    assert result.exit_code == 2
    lines = [ln for ln in result.stderr.splitlines() if ln.strip()]
    assert lines == ["error: bad cache size 'huge': use e.g. 2GB, 500MB, 10GiB, 0 or none"]
