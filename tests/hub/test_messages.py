"""A missing model's message names every file the run needs, where each was looked for, and the
one command that fetches them all: the Qwen2.5-VL judge and a diffusers pipeline (sd15)."""

from __future__ import annotations

import pytest

from evalkit import store
from evalkit.assets import run_context


def test_qwen_judge_names_every_file_where_and_the_fetch_command(empty_store):
    from evalkit.judges import vlm

    with run_context("detailmaster", "sd15"):
        text = vlm.missing()
        with pytest.raises(store.MissingAssetError) as err:
            vlm.QwenVL.from_store()
    for msg in (text, str(err.value)):
        assert f"{len(vlm.FILES)} of {len(vlm.FILES)} files of {vlm.HUB_ID}" in msg
        for name in vlm.FILES:
            assert f"\n  {name}\n" in msg
        assert f"{empty_store / vlm.STORE_PATH}/<file>" in msg  # the store, for each file
        assert "hub (no commit pinned or locked yet)" in msg  # and the download cache
        assert "evalkit fetch detailmaster --model sd15 --store <store>" in msg


def test_sd15_pipeline_names_every_component_file_before_diffusers_runs(empty_store, recwarn):
    from evalkit.models import t2i

    with pytest.raises(store.MissingAssetError) as err:
        t2i.build("sd15")
    msg = str(err.value)
    for component in ("unet", "vae", "text_encoder", "safety_checker"):
        assert f"\n  {component}/config.json\n" in msg
    for weights in ("unet/diffusion_pytorch_model.safetensors", "text_encoder/model.safetensors"):
        assert f"\n  {weights}\n" in msg
    assert f"{empty_store / 'weights' / 'sd15'}/<file>" in msg
    assert "evalkit fetch --model sd15 --store <store>" in msg
    assert not [w for w in recwarn if "diffusers" in str(w.filename)]  # no FutureWarning


def test_a_store_folder_missing_some_files_names_only_those(empty_store):
    from evalkit.models import t2i

    folder = empty_store / "weights" / "sd15"
    folder.mkdir(parents=True)
    (folder / "model_index.json").write_text("{}")
    with pytest.raises(store.MissingAssetError) as err:
        t2i.build("sd15")
    msg = str(err.value)
    assert "14 of 15 files" in msg and "\n  model_index.json\n" not in msg
    assert f"1 of the 15 files are in {folder}" in msg
