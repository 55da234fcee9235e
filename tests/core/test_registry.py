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
    monkeypatch.setattr(
        md, "entry_points", lambda group: [fake] if group == "evalkit.models" else []
    )
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


def test_every_builtin_metric_builds_with_its_facts():
    from evalkit import catalog
    from evalkit.metrics.base import Metric

    for name in catalog.metrics.names():
        m = catalog.metrics.build(name)
        assert isinstance(m, Metric) and m.id == name, name
        assert isinstance(m.higher_is_better, bool) and m.version and m.units and m.library, name


def test_psnr_from_the_registry_is_skimage_psnr():
    import numpy as np
    from skimage.metrics import peak_signal_noise_ratio

    from evalkit import catalog

    psnr = catalog.metrics.build("psnr")
    rng = np.random.default_rng(0)
    a = rng.integers(0, 256, (16, 16, 3), dtype=np.uint8)
    b = np.clip(a.astype(int) + rng.integers(-9, 10, a.shape), 0, 255).astype(np.uint8)
    assert psnr.higher_is_better and psnr.units == "dB" and psnr.library == "scikit-image"
    assert psnr(a, b) == peak_signal_noise_ratio(a, b, data_range=255)


def test_a_third_party_metric_arrives_through_the_entry_point(tmp_path, monkeypatch):
    """A package installed beside evalkit adds a metric: one module + one entry point, no edit."""
    import importlib.metadata as md

    (tmp_path / "mae_metric.py").write_text(
        "import numpy as np\n"
        "from evalkit.metrics.base import Metric\n\n"
        "def _mae(a, b):\n"
        "    return float(np.abs(a.astype(np.float64) - b.astype(np.float64)).mean())\n\n"
        "def build(metric_id, **options):\n"
        "    return Metric(id=metric_id, compute=_mae, higher_is_better=False, version='1',\n"
        "                  units='uint8 levels', library='numpy', kind='sample')\n"
    )
    dist = tmp_path / "mae_metric-0.1.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: mae-metric\nVersion: 0.1\n")
    (dist / "entry_points.txt").write_text("[evalkit.metrics]\nmae = mae_metric:build\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    assert any(ep.name == "mae" for ep in md.entry_points(group="evalkit.metrics"))

    from evalkit.registry import Registry

    reg: Registry[object] = Registry("metric")  # a fresh registry reads the entry points anew
    reg.register("psnr", "evalkit.metrics.builtin:pixel")
    assert reg.names() == ["mae", "psnr"]
    mae = reg.build("mae")
    import numpy as np

    a = np.zeros((2, 2, 3), np.uint8)
    assert mae(a, a + 3) == 3.0 and mae.higher_is_better is False and mae.units == "uint8 levels"


def test_model_cards_are_registered_with_their_factories():
    from evalkit import catalog
    from evalkit.types import ModelCard

    reg: Registry[object] = Registry("model")
    reg.register("m1", lambda name: name, card=lambda name: f"card of {name}")
    assert reg.card("m1") == "card of m1"

    def build(name):  # a plug-in factory that carries its card
        return name

    build.card = lambda name: f"attached card of {name}"  # type: ignore[attr-defined]
    reg.register("m2", build)
    assert reg.card("m2") == "attached card of m2"
    reg.register("m3", "colorsys:rgb_to_hsv")  # a module without a card function
    with pytest.raises(TypeError, match="without a card"):
        reg.card("m3")
    for name in ("taef2", "jpeg-q50", "titok-l32", "sdxl-vae", "samples:x"):
        card = catalog.models.card(name)
        assert isinstance(card, ModelCard) and card.id == name
