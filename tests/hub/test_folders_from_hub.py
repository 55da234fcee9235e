"""Folder models from the local Hub: every declared file at one verified commit, loadable."""

from __future__ import annotations

import hashlib

from evalkit import store
from evalkit.assets import recording
from evalkit.judges import hubdir, vlm
from evalkit.types import Condition


def test_qwen_judge_files_come_at_one_verified_commit(local_hub):
    files = {n: hashlib.sha256(n.encode()).digest() * 8 for n in vlm.FILES}
    commit = local_hub.add_repo(vlm.HUB_ID, files)
    assert vlm.missing() == ""  # online: nothing to report, nothing downloaded yet
    assert local_hub.downloads() == []
    with recording() as got:
        folder = hubdir.local_dir("VLM judge", vlm.HUB_ID, None, vlm.STORE_PATH, vlm.FILES)
    assert folder.name == commit
    assert sorted(p.name for p in folder.iterdir()) == sorted(vlm.FILES)
    assert {v.commit for v in got} == {commit}
    shards = [v for v in got if v.name.endswith(".safetensors")]
    assert shards and all(v.verified.endswith("(LFS sha256)") for v in shards)


def test_sd15_pipeline_from_the_hub_loads_and_generates(local_hub, tmp_path, recwarn):
    from evalkit.models import t2i
    from tests.hub.fixtures import tiny_sd15_repo

    local_hub.add_repo(t2i.VARIANTS["sd15"].hub_id, tiny_sd15_repo(tmp_path))
    gen = t2i.build("sd15", steps=1, size=32)
    image = gen.generate([Condition(seed=0, prompt="a red cube")])
    assert image.shape == (1, 3, 32, 32)
    card = t2i.card("sd15")
    got = store.resolve_all(card.weights, "sd15")  # cached now, each verified and locked
    assert len(got) == len(t2i.VARIANTS["sd15"].files)
    assert all(v.verified.startswith("first use, verified against the Hub") for v in got)
    future = [str(w.message) for w in recwarn if issubclass(w.category, FutureWarning)]
    assert not future, future
