"""Which judge answers DetailMaster's questions: the official trio, the scripted double, a plug-in.

``judge=official``: YOLOE ``yoloe-11l-seg`` (detect), Qwen2.5-VL-7B-Instruct (ask) and, only for
``protocol=fixed``, BLIP ITM large flickr (match; the official code never reaches it).
``judge=scripted``: :class:`~evalkit.benchmarks.detailmaster.scripted.ScriptedJudge`.
``judge=<module>:<factory>``: ``factory(protocol=..., device=...)`` returns an object with
``detect``/``ask``/``match`` (and optionally ``*_batch``, ``describe()``, ``weights``).
"""

from __future__ import annotations

import importlib
from typing import Any

from evalkit.store import MissingAssetError


def _plugin(name: str) -> Any:
    module, _, attr = name.partition(":")
    try:
        return getattr(importlib.import_module(module), attr)
    except (ImportError, AttributeError) as exc:
        raise ValueError(
            f"judge={name!r}: cannot import {attr!r} from {module!r} ({exc}); use "
            "'official', 'scripted' or '<module>:<factory>'"
        ) from exc


def check_judge(name: str, protocol: str) -> None:
    """Raise one :class:`MissingAssetError` naming every missing file of the official judges."""
    if name != "official":
        if name != "scripted":
            _plugin(name)
        return
    from evalkit.judges import blip, vlm, yoloe

    problems = [vlm.missing(), yoloe.missing()]
    if protocol == "fixed":
        problems.append(blip.missing())
    problems = [p for p in problems if p]
    if problems:
        raise MissingAssetError(
            "DetailMaster's official judges are not all available:\n\n" + "\n\n".join(problems)
        )


def build_judge(
    name: str,
    protocol: str,
    device: str = "cpu",
    batch_size: int | None = None,
    backend: str = "auto",
) -> Any:
    if name == "scripted":
        from evalkit.benchmarks.detailmaster.scripted import ScriptedJudge

        return ScriptedJudge()
    if name != "official":
        return _plugin(name)(protocol=protocol, device=device)
    check_judge(name, protocol)
    return OfficialJudge(protocol, device, batch_size, backend)


class OfficialJudge:
    """YOLOE detects, Qwen2.5-VL answers (batched), BLIP matches (protocol=fixed only)."""

    def __init__(self, protocol: str, device: str, batch_size: int | None, backend: str) -> None:
        from evalkit.judges import blip, vlm, yoloe

        self.vlm = vlm.QwenVL.from_store(device=device, backend=backend)
        self.detector = yoloe.YOLOE.from_store(device=device)
        self.itm = blip.BlipITM.from_store(device=device) if protocol == "fixed" else None
        self.batch_size = batch_size or self.vlm.batch_size

    def detect(self, image: Any, name: str) -> Any:
        return self.detector.detect(image, name)

    def ask(self, image: Any, prompt: str) -> str:
        return self.vlm.ask_batch([(image, prompt)])[0]

    def ask_batch(self, pairs: list[tuple[Any, str]]) -> list[str]:
        return self.vlm.ask_batch(pairs)

    def match(self, image: Any, text: str) -> float:
        if self.itm is None:
            raise RuntimeError("BLIP is loaded only for protocol=fixed")
        return self.itm.match(image, text)

    def match_batch(self, pairs: list[tuple[Any, str]]) -> list[float]:
        if self.itm is None:
            raise RuntimeError("BLIP is loaded only for protocol=fixed")
        return self.itm.match_batch(pairs)

    def describe(self) -> str:
        parts = [self.vlm.describe(), self.detector.describe()]
        return ", ".join(parts + ([self.itm.describe()] if self.itm else []))


def describe(name: str, protocol: str, judge: Any = None, backend: str = "auto") -> dict[str, str]:
    """Judge name -> weights id, for every row and the run id (from the card pins when not
    loaded). The VLM's id names the runtime that answers and its version (``backend`` as it
    resolves here, or as it ran)."""
    if name == "scripted":
        return {"scripted": "none"}
    if name != "official":
        return {name: str(getattr(judge, "weights", "unknown"))}
    from evalkit.judges import blip, vlm, yoloe

    ran = judge.vlm.backend if judge is not None else vlm.pick_backend(backend)
    out = {vlm.HUB_ID: vlm.weights_id(ran), yoloe.NAME: yoloe.weights_id()}
    if protocol == "fixed":
        out[blip.HUB_ID] = blip.weights_id()
    return out
