"""Protocol cards: every benchmark has one, the code reads its constants from it, no second copy."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from evalkit import cards, catalog

REPO = Path(__file__).resolve().parents[2]


def _flatten(value, key=""):
    if isinstance(value, dict):
        for k, v in value.items():
            yield from _flatten(v, k)
    elif isinstance(value, list) and not all(isinstance(v, (int, float)) for v in value):
        for v in value:
            yield from _flatten(v, key)
    else:
        yield key, value


def test_every_registered_benchmark_has_a_card_and_vice_versa():
    registered = {
        name
        for name in catalog.benchmarks.names()  # test doubles register too
        if not str(catalog.benchmarks.target(name)).startswith("tests.")
    }
    assert registered <= set(cards.card_ids()), registered - set(cards.card_ids())
    assert set(cards.card_ids()) <= registered, set(cards.card_ids()) - registered


@pytest.mark.parametrize("bid", cards.card_ids())
def test_card_is_complete_and_agrees_with_the_metric_registry(bid: str):
    card = cards.load_card(bid)
    assert card["id"] == bid and card["task"] in ("reconstruction", "generation")
    assert card["resolutions"] and card["metrics"], bid
    proto = cards.protocol_card(bid)
    assert cards.protocol_text(bid) and proto["resize"] and card["description"]
    for spec in card["metrics"]:
        metric = catalog.metrics.build(cards.registry_metric(spec))
        assert spec["higher_is_better"] is metric.higher_is_better, (bid, spec["id"])
    rows = cards.reported_values(bid)
    assert (cards.card_dir(bid) / "reported.csv").is_file() and (
        cards.card_dir(bid) / "README.md"
    ).is_file()
    for row in rows:
        assert {"paper", "table", "model", "setting", "metric", "value"} <= set(row), bid
        float(row["value"])


def _spec(bid: str):
    return catalog.benchmarks.build(bid).spec


@pytest.mark.parametrize("bid", ["recon", "tokbench-mini", "imagenet-rfid", "imagenet-gfid"])
def test_the_built_spec_is_the_card(bid: str):
    card, spec = cards.load_card(bid), _spec(bid)
    assert spec.name == bid and spec.version == card["version"] and spec.task == card["task"]
    assert spec.metrics == tuple(m["id"] for m in card["metrics"])
    assert spec.resolution == card["resolutions"][0]
    assert spec.protocol == cards.protocol_text(bid)
    assert spec.resize.startswith(cards.protocol_card(bid)["resize"])
    assert spec.description == card["description"]


def test_tokbench_protocol_numbers_come_from_the_card():
    from evalkit.benchmarks.tokbench import judges, metrics
    from evalkit.benchmarks.tokbench.benchmark import reported
    from evalkit.benchmarks.tokbench.data import OFFICIAL_TEXT_SETS

    card = cards.load_card("tokbench")
    for kind in ("text", "face"):
        assert metrics.BINS[kind] == {int(k): tuple(v) for k, v in card["bins"][kind].items()}
    assert tuple(card["bins"]["names"]) == metrics.BIN_NAMES
    assert {k: v["official"] for k, v in card["judges"].items()} == judges.OFFICIAL
    assert tuple(card["dataset"]["text_sets"]) == OFFICIAL_TEXT_SETS
    assert reported("Resize", 256, "t_acc", "small") == pytest.approx(0.8605)  # 86.05 percent
    assert reported("Resize", 256, "f_sim", "mean") == pytest.approx(0.93)
    assert reported("NoSuchModel", 256, "t_acc", "small") is None


def _python_literals() -> tuple[set[str], set[tuple[float, ...]]]:
    strings: set[str] = set()
    numbers: set[tuple[float, ...]] = set()
    for path in [*(REPO / "evalkit").rglob("*.py"), *(REPO / "scripts").glob("*.py")]:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                strings.add(node.value)
            elif (
                isinstance(node, (ast.Tuple, ast.List))
                and len(node.elts) >= 3
                and all(
                    isinstance(e, ast.Constant) and isinstance(e.value, (int, float))
                    for e in node.elts
                )
            ):
                numbers.add(tuple(float(e.value) for e in node.elts))  # type: ignore[union-attr]
    return strings, numbers


# Copies that the generator benchmarks (GenEval, VISOR, spatial-compare) still hold in code at
# the time they were merged; listed one by one so that any NEW copy fails. To move to card reads.
KNOWN_COPIES = {
    ("geneval", "source", "benchmarks/geneval/evaluation_metadata.jsonl"),
    ("geneval", "files", "evaluation_metadata.jsonl"),
    ("geneval", "alternatives", "hf-swin-small-coco"),
    ("geneval", "choices", "hf-swin-small-coco"),
    ("spatial-compare", "t2i_compbench", "on the bottom of"),
    ("visor", "hub_id", "google/owlvit-base-patch32"),
}


def test_no_protocol_constant_has_a_second_copy_in_the_code():
    """Card strings (sources, pins, resize rules, protocol lines) and number lists (bins) may not
    be written again as literals in evalkit/ or scripts/: the code reads them from the card."""
    strings, numbers = _python_literals()
    copies = []
    for bid in cards.card_ids():
        for key, value in _flatten(cards.load_card(bid)):
            if key in ("id", "metric", "version", "title", "name", "units", "default", "official"):
                continue  # ids (benchmark, registry metric) and short names: how code refers
            if isinstance(value, str) and len(value) >= 16 and value in strings:
                copies.append((bid, key, value))
            is_numbers = (
                isinstance(value, list)
                and len(value) >= 3
                and all(isinstance(v, (int, float)) for v in value)
            )
            if is_numbers and tuple(float(v) for v in value) in numbers:
                copies.append((bid, key, value))
    copies = [c for c in copies if c not in KNOWN_COPIES]
    assert not copies, f"protocol constants copied into code: {copies}"


def test_imagenet_rfid_reported_values_come_from_its_card():
    from evalkit.types import MetricValue

    bench = catalog.benchmarks.build("imagenet-rfid")
    row = MetricValue("rfid", 2.5, 50_000, False)
    assert bench.reported_value(catalog.models.card("titok-l32"), row) == 2.21
    assert bench.reported_value(catalog.models.card("taef2"), row) is None
    assert bench.metric("rfid").id == "fid" and bench.metric("rfid").higher_is_better is False
