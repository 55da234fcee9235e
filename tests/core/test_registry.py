"""The generic registry: lazy entries, patterns, did-you-mean, plug-ins via entry points."""

from __future__ import annotations

import sys
from types import SimpleNamespace

import pytest
from typer.testing import CliRunner

from evalkit.cli import app
from evalkit.registry import Registry, UnknownEntryError


def test_lazy_entry_is_imported_only_when_built():
    reg: Registry[object] = Registry("thing")
    reg.register("colorsys-entry", "colorsys:rgb_to_hsv")
    sys.modules.pop("colorsys", None)
    assert reg.names() == ["colorsys-entry"]
    assert "colorsys" not in sys.modules  # listing did not import it
    assert reg.factory("colorsys-entry").__name__ == "rgb_to_hsv"
    assert "colorsys" in sys.modules


def test_pattern_ids_and_suggestions():
    reg: Registry[str] = Registry("model")
    reg.register("jpeg-q*", lambda name: f"built {name}")
    reg.register("taef2", lambda name: name)
    assert reg.build("jpeg-q37") == "built jpeg-q37"
    assert "jpeg-q5" in reg and "png-q5" not in reg
    with pytest.raises(UnknownEntryError, match="Did you mean 'taef2'"):
        reg.build("taef1x")
    with pytest.raises(ValueError, match="already registered"):
        reg.register("taef2", lambda name: name)


def test_decorator_registration():
    reg: Registry[int] = Registry("metric")

    @reg.register("answer", summary="the answer")
    def answer(name: str) -> int:
        return 42

    assert reg.build("answer") == 42 and reg.summaries() == {"answer": "the answer"}


def test_plugins_come_from_entry_points(monkeypatch):
    import importlib.metadata as md

    fake = SimpleNamespace(name="my-tok", value="fractions:Fraction")
    monkeypatch.setattr(md, "entry_points", lambda group: [fake] if group == "evalkit.models"
                        else [])
    reg: Registry[object] = Registry("model")
    assert reg.names() == ["my-tok"]
    assert reg.factory("my-tok").__name__ == "Fraction"


def test_cli_list_commands():
    runner = CliRunner()
    out = runner.invoke(app, ["list", "models"])
    assert out.exit_code == 0 and "taef2" in out.output and "jpeg-q*" in out.output
    out = runner.invoke(app, ["list", "benchmarks"])
    assert out.exit_code == 0 and "recon" in out.output
    assert runner.invoke(app, ["list", "nonsense"]).exit_code == 2
