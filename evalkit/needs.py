"""Everything a run needs from the network: model weights, judge weights, data files.

``evalkit fetch`` reads this to fill an offline store on a connected machine. A benchmark's judges
and data are listed by the function registered for it in ``BENCHMARKS`` (each reads the judge
modules' own file constants, so there is one source of truth); a benchmark without an entry needs
nothing fetchable beyond its model (codecs, the embedded sets, the offline judges).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from evalkit import catalog
from evalkit.types import WeightsFile


@dataclass(frozen=True)
class Need:
    """One thing a run loads: its files, its licence, and zips to unpack in the store."""

    what: str
    files: tuple[WeightsFile, ...]
    licence: str
    unpack: tuple[str, ...] = ()  # file names among `files` to unpack in their store folder


def model_needs(model_id: str) -> list[Need]:
    card = catalog.models.card(model_id)
    if not card.weights:
        return []
    return [Need(f"{model_id} weights", tuple(card.weights), card.license)]


def _tokbench(name: str, options: dict[str, Any]) -> list[Need]:
    from evalkit.benchmarks.tokbench import data as tbdata
    from evalkit.benchmarks.tokbench.judges import OFFICIAL, OFFLINE

    defaults = OFFLINE if name.endswith("-mini") else OFFICIAL
    out = []
    if options.get("ocr_judge", defaults["ocr"]) == "parseq":
        from evalkit.benchmarks.tokbench.judges import ocr

        out.append(Need("docTR PARSeq (OCR judge)", (ocr.PARSEQ_WEIGHTS,), "Apache-2.0 (docTR)"))
    if options.get("face_judge", defaults["face"]) == "antelopev2":
        from evalkit.benchmarks.tokbench.judges import face

        out.append(
            Need(
                "insightface antelopev2 (face judge)",
                (face.ANTELOPE_ZIP,),
                "non-commercial research only (insightface model zoo)",
            )
        )
    if not name.endswith("-mini") and options.get("data") is None:
        from evalkit.hubdata import folder_files

        files = folder_files(tbdata.HUB_ID, None, tbdata.STORE_REL, tbdata.HUB_FILES)
        out.append(Need("TokBench dataset", tuple(files), tbdata.LICENSE, tbdata.ARCHIVES))
    return out


_JUDGE_LICENCES = {  # by the judge file's source
    "download.openmmlab.com": "Apache-2.0 (OpenMMLab model zoo)",
    "timm/vit_large_patch14_clip_224.openai": "MIT (OpenAI CLIP)",
    "Kazuhito00/YOLOX-ONNX-TFLite-Sample": "Apache-2.0 (YOLOX)",
    "facebook/mask2former-swin-small-coco-instance": "other (see its Hub card)",
}


def _licence(wf: WeightsFile) -> str:
    source = wf.describe()
    return next((v for k, v in _JUDGE_LICENCES.items() if k in source), "see its source")


def _geneval(name: str, options: dict[str, Any]) -> list[Need]:  # noqa: ARG001
    from evalkit.benchmarks.geneval import judges

    detector = judges.resolve_detector(str(options.get("detector", "auto")))
    colour = str(options.get("colour", "clip"))
    weights = judges._weights(detector, colour)  # noqa: SLF001 - the judges' own list
    return [Need(label, (wf,), _licence(wf)) for label, wf in weights]


def _detailmaster(name: str, options: dict[str, Any]) -> list[Need]:  # noqa: ARG001
    from evalkit.judges import hubdir, vlm

    files = hubdir.weights_files(vlm.HUB_ID, vlm.REVISION, vlm.STORE_PATH, vlm.FILES)
    return [Need("Qwen2.5-VL-7B-Instruct (VLM judge)", tuple(files), "apache-2.0 (its Hub card)")]


BENCHMARKS: dict[str, Callable[[str, dict[str, Any]], list[Need]]] = {
    "tokbench": _tokbench,
    "tokbench-mini": _tokbench,
    "geneval": _geneval,
    "geneval-position": _geneval,
    "detailmaster": _detailmaster,
}


def run_needs(benchmark: str | None, models: list[str], options: dict[str, Any]) -> list[Need]:
    """What ``evalkit run benchmark --model m`` (for each m) loads, models last; without a
    benchmark, the models' weights only."""
    out: list[Need] = []
    if benchmark:
        catalog.benchmarks.factory(benchmark)  # an unknown id fails here, with "did you mean"
        out += BENCHMARKS.get(benchmark, lambda _n, _o: [])(benchmark, options)
    for m in models:
        out += model_needs(m)
    return out
