"""The DetailMaster cards document every option and carry the pins the code reads."""

from __future__ import annotations

import pytest

from evalkit.benchmarks.detailmaster.benchmark import _OPTIONS, build
from evalkit.benchmarks.detailmaster.protocol import MINI_KEYS, OFFICIAL_KEYS
from evalkit.cards import load_card, metric_specs


@pytest.mark.parametrize("name", ["detailmaster", "detailmaster-mini"])
def test_cards_document_options_and_metrics(name: str) -> None:
    card = load_card(name)
    documented = set(card["options"]) | {"resolution"}
    if name == "detailmaster-mini":
        documented |= {"allow_unpinned"}  # accepted, never needed: the mini file is pinned
    assert not _OPTIONS - documented
    keys = MINI_KEYS if name.endswith("-mini") else OFFICIAL_KEYS
    assert list(metric_specs(name)) == [
        k.replace("scene_attrbutes_", "scene_attributes_") for k in keys
    ]
    assert build(name).spec.metrics == tuple(metric_specs(name))


def test_mini_pin() -> None:
    ds = load_card("detailmaster-mini")["dataset"]
    assert ds["sha256"] == "7a96ef6060a4e04f39ca12c4f371c1f27e262f9674036ebf8edf88d0b6c8ad0c"
    assert "aa4064d4a8ce92ebf60370447c2d60f53a5262ea" in ds["source"]
    assert load_card("detailmaster")["dataset"]["sha256"] == ""  # unpinned: allow_unpinned


def test_unknown_option_is_named() -> None:
    with pytest.raises(ValueError, match="bogus"):
        build("detailmaster", bogus=1)
