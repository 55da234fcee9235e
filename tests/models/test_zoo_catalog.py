"""The catalog's tokenizer-zoo ids and the family modules agree, id for id."""

from __future__ import annotations

import importlib

import pytest

from evalkit import catalog

FAMILIES = (
    "evalkit.models.taesd",
    "evalkit.models.titok",
    "evalkit.models.vae",
    "evalkit.models.one_d_piece",
    "evalkit.models.cosmos",
    "evalkit.models.dcae",
    "evalkit.models.vavae",
    "evalkit.models.vqgan",
    "evalkit.models.var_vqvae",
    "evalkit.models.open_magvit2",
    "evalkit.models.maetok",
    "evalkit.models.unitok",
    "evalkit.models.flextok",
)


def _zoo_ids() -> dict[str, str]:
    out = {}
    for name in catalog.models.names():
        target = catalog.models.target(name)  # the lazy "module:attr" string
        if isinstance(target, str) and target.split(":")[0] in FAMILIES:
            out[name] = target.split(":")[0]
    return out


def test_every_family_variant_is_registered_and_vice_versa() -> None:
    ids = _zoo_ids()
    for module_name in FAMILIES:
        mod = importlib.import_module(module_name)
        registered = {i for i, m in ids.items() if m == module_name}
        assert registered == set(mod.VARIANTS), module_name


@pytest.mark.parametrize("model_id", sorted(_zoo_ids()))
def test_card_is_complete(model_id: str) -> None:
    mod = importlib.import_module(_zoo_ids()[model_id])
    c = mod.card(model_id)
    assert c.id == model_id and c.kind == "tokenizer"
    assert c.license and c.license != "unknown"
    assert c.discrete in (True, False) and c.compression and c.latent_channels
    assert c.weights and all(w.store_path and (w.hub_id or w.url) for w in c.weights)
    if c.discrete:  # a fixed token count, or a token map of one id per f x f pixels
        assert c.codebook_size and (c.num_tokens or c.compression.endswith("x"))


def test_models_list_names_the_research_only_weights() -> None:
    from typer.testing import CliRunner

    from evalkit.cli import app
    from evalkit.modelinfo import restricted_ids

    restricted = set(restricted_ids())
    assert {"titok-l32", "titok-bl64-vae", "flux1-vae"} <= restricted  # research / non-commercial
    assert not restricted & {"vqgan-f16-16384", "maskgit-vqgan", "llamagen-vq-ds8", "taef2"}
    res = CliRunner().invoke(app, ["models", "list"], env={"COLUMNS": "80"})
    assert res.exit_code == 0
    note = res.stdout.split("Research or non-commercial use only")[1]
    assert set(note.replace(",", " ").split()) >= restricted
