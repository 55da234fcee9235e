"""The local Hub fixture: a fresh server, cache and empty store per test, the network 'on'."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.localhub import LocalHub


@pytest.fixture
def local_hub(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[LocalHub]:
    import huggingface_hub.constants

    from evalkit import hubfetch, store

    hub = LocalHub().start()
    monkeypatch.setenv("HF_ENDPOINT", hub.url)
    monkeypatch.delenv("EVALKIT_OFFLINE", raising=False)
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.delenv("HF_TOKEN", raising=False)
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", False)
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_DISABLE_PROGRESS_BARS", True)
    monkeypatch.setenv("EVALKIT_CACHE_DIR", str(tmp_path / "cache"))
    store.set_store([])
    hubfetch._trees.clear()
    try:
        yield hub
    finally:
        hub.stop()
        store.set_store(None)
        hubfetch._trees.clear()


@pytest.fixture(scope="session")
def hub_assets(tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    """The fixture repositories' content, built once per session (about 100 MB in memory)."""
    from tests.hub import fixtures

    work = tmp_path_factory.mktemp("hub-assets")
    return {
        "vae": fixtures.tiny_vae_repo(),
        "parseq": fixtures.parseq_bytes(),
        "antelope": fixtures.antelope_zip(),
        "tokbench": fixtures.tokbench_dataset(work),
    }


@pytest.fixture
def tokbench_hub(
    local_hub: LocalHub,
    hub_assets: dict[str, object],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[LocalHub]:
    """The local Hub serving what `evalkit run tokbench --model sd-ft-mse-vae` needs: the VAE,
    the dataset, docTR's PARSeq file and insightface's antelopev2 zip (publisher URLs routed to
    it). Our random files cannot have the real files' checksums, so the two publisher pins are
    replaced by the fixtures' own: docTR's name prefix and the zip's sha256."""
    import hashlib
    from dataclasses import replace

    from evalkit import urlfetch
    from evalkit.benchmarks.tokbench.judges import face, ocr
    from evalkit.types import WeightsFile
    from tests.hub.fixtures import DOCTR, GITHUB

    local_hub.add_repo("stabilityai/sd-vae-ft-mse", hub_assets["vae"])  # type: ignore[arg-type]
    local_hub.add_repo("Junfeng5/TokBench", hub_assets["tokbench"], repo_type="dataset")  # type: ignore[arg-type]
    parseq = hub_assets["parseq"]
    assert isinstance(parseq, bytes)
    prefix = hashlib.sha256(parseq).hexdigest()[:8]
    name = f"parseq-{prefix}.pt"
    local_hub.add_url(f"doctr/models?id=v0.7.0/{name}&src=0", parseq)
    monkeypatch.setattr(
        ocr,
        "PARSEQ_WEIGHTS",
        WeightsFile(
            name, store_path=f"weights/doctr/{name}", url=f"{DOCTR}models?id=v0.7.0/{name}&src=0"
        ),
    )
    monkeypatch.setattr(ocr, "PARSEQ_SHA256_PREFIX", prefix)
    pack = hub_assets["antelope"]
    assert isinstance(pack, bytes)
    local_hub.add_url("github/deepinsight/insightface/releases/download/v0.7/antelopev2.zip", pack)
    monkeypatch.setattr(
        face, "ANTELOPE_ZIP", replace(face.ANTELOPE_ZIP, sha256=hashlib.sha256(pack).hexdigest())
    )
    monkeypatch.setenv("DOCTR_CACHE_DIR", str(tmp_path / "doctr-cache"))  # no copies of their own
    monkeypatch.setenv("INSIGHTFACE_HOME", str(tmp_path / "insightface"))
    with urlfetch.route_urls(
        {DOCTR: f"{local_hub.url}/pub/doctr/", GITHUB: f"{local_hub.url}/pub/github/"}
    ):
        yield local_hub
