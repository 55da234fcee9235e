"""The rules of evalkit.flags on every card: declarations, parity evidence, and each rule alone.

The end-to-end runs of every benchmark are in test_flags.py; here the cards are checked (unit,
full count, a kind for every option, proven records that name their test) and the rules are
exercised one at a time on facts, with a positive control: a default build of each benchmark
that needs no absent data derives ``complete``.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from evalkit import cards, catalog
from evalkit.flags import OPTION_KINDS, derive
from evalkit.types import RunFacts

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("bid", cards.card_ids())
def test_every_card_declares_its_unit_count_and_option_kinds(bid: str) -> None:
    card = cards.load_card(bid)
    dataset = card["dataset"]
    assert dataset.get("unit") in ("image", "prompt", "sample"), bid
    assert isinstance(dataset.get("n"), int) or bid == "tokbench", bid  # tokbench: counted on read
    roles = cards.judge_roles(bid)
    for name, option in card.get("options", {}).items():
        assert option.get("changes") in OPTION_KINDS, (bid, name)
        assert "changes_comparability" not in option, (bid, name)  # replaced by `changes`
        if option["changes"] == "judge":
            assert option.get("role") in roles, (bid, name, option.get("role"))
    if card.get("flags", {}).get("diagnostic"):
        assert dataset["n"] == 0


def _records() -> list[tuple[str, dict]]:
    out = []
    for bid in cards.card_ids():
        card = cards.load_card(bid)
        for role, spec in card.get("judges", {}).items():
            out += [(f"{bid} judges.{role}", r) for r in spec.get("parity", [])]
        out += [(f"{bid} protocol", r) for r in card.get("protocol", {}).get("parity", [])]
    return out


def test_proven_records_name_the_test_that_shows_them() -> None:
    records = _records()
    proven = [(where, r) for where, r in records if r["status"] == "proven"]
    assert {w.split()[0] for w, _ in proven} >= {"imagenet-rfid", "imagenet-gfid", "tokbench"}
    for where, record in proven:
        assert record.get("figures") and record.get("official_runtime"), where
        for ref in record["fixture"].split(", "):
            path = ref.split(" ")[0].split("::")[0]
            assert (REPO / path).is_file(), (where, path)
            for test in ref.split("::")[1:]:
                assert f"def {test.split(' ')[0]}(" in (REPO / path).read_text(), (where, test)
    tokbench = dict(_records())["tokbench protocol"]  # the aggregation, not the judges
    assert "NOT the judges" in tokbench["reason"]
    for role, runtime in (("ocr", "parseq"), ("face", "antelopev2")):  # the judges' own records
        record = cards.judge_parity("tokbench", role, runtime)
        assert record["status"] == "proven", (role, record)
        assert "tests/tokbench/test_judge_parity.py" in record["fixture"], record


def _facts(**kw) -> RunFacts:  # type: ignore[no-untyped-def]
    base = dict(unit="prompt", expected=None, scored=25_280, options={"detector": "owlvit"})
    return RunFacts(**{**base, **kw})


def test_each_rule_alone_on_visors_card() -> None:
    full = derive("visor", _facts(judges={"detector": "owlvit"}))
    assert full.complete and not full.comparable  # OWL-ViT runs, but no parity record yet
    assert "detector judge owlvit is unproven" in full.reasons
    for facts, needle in (
        (_facts(limit=5, scored=5), "--limit 5"),
        (_facts(scored=100), "100 of 25,280 prompts scored"),
        (_facts(missing=3), "3 prompts missing (allow_missing)"),
        (_facts(subset="prompts=100"), "subset prompts=100"),
        (_facts(data_mismatch="other files"), "data: other files"),
        (_facts(options={"visor_n": "notebook"}), "visor_n=notebook"),
        (_facts(options={"detector": "yolox-nano"}), "yolox-nano (a stand-in judge)"),
        (_facts(options={"prompts": 100}), "prompts=100"),  # a subset option, unnamed by facts
        (_facts(options={"mystery": 1}), "option mystery is not declared in the card"),
        (_facts(resolution=256), "resolution 256 is not one of the card's [512]"),
    ):
        flags = derive("visor", facts)
        assert not flags.complete and not flags.comparable, needle
        assert needle in flags.reasons, (needle, flags.reasons)
    outputs = derive("visor", _facts(options={"overlays": True, "samples": "/x"}))
    assert outputs.complete  # options that only add outputs, and settings, keep it complete


def test_official_runtimes_and_proven_features_are_comparable() -> None:
    geneval = _facts(scored=553, options={"detector": "m2f-hf"})  # an official path, chosen
    assert derive("geneval", geneval).complete
    rfid = RunFacts("image", None, 50_000, judges={"features": "fid-helper"})
    assert derive("imagenet-rfid", rfid).comparable  # proven: tests/fid
    assert derive("imagenet-rfid", replace(rfid, judges={"features": "torch-fidelity"})).comparable
    mini = RunFacts("image", None, 52, options={"ocr_judge": "rapidocr"})
    assert derive("tokbench-mini", mini).complete and not derive("tokbench-mini", mini).comparable
    compare = RunFacts("image", None, 8)
    assert "diagnostic" in derive("spatial-compare", compare).reasons
    with pytest.raises(cards.CardError, match="counts 'image's"):
        derive("visor", replace(compare, unit="image"))


@pytest.mark.parametrize("bid", ["geneval", "visor", "t2i-compbench-spatial", "geneval-position"])
def test_a_default_generator_run_is_complete(bid: str) -> None:
    """Positive control: the facts of a default generator-mode build derive `complete`.
    geneval-position's only judge (Mask2Former through transformers) is proven against mmdet,
    so it is comparable; the others still run an unproven judge. Checking judge weights is not
    needed for facts."""
    bench = catalog.benchmarks.build(bid)
    flags = derive(bid, bench.facts(bench.sample_ids()))
    assert flags.complete, flags.reasons
    if bid == "geneval-position":
        assert flags.comparable, flags.reasons
    else:
        assert not flags.comparable and "no parity record" in flags.reasons


def test_run_help_says_what_limit_counts_and_that_seed_is_one_path() -> None:
    from typer.testing import CliRunner

    from evalkit.cli import app

    out = CliRunner().invoke(app, ["run", "--help"], terminal_width=200).output
    text = " ".join(out.replace("│", " ").split())  # the help's lines, joined without the boxes
    assert "a sample is one prompt with all its images" in text
    assert "there is no -O seed" in text and "appended to no folder without --publish" in text
