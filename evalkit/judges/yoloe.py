"""YOLOE ``yoloe-11l-seg`` through ultralytics: the top box of a text-prompted detection.

An optional extra (``pip install 'evalkit[detailmaster]'`` brings ultralytics, AGPL-3.0): never a
hard dependency, imported only here. As the official code: ``set_classes([name],
get_text_pe([name]))`` then ``predict`` at ultralytics' defaults; only the first box is used.
YOLOE-11 encodes class names with Apple's MobileCLIP-B(LT) text encoder, shipped by ultralytics as
the TorchScript file ``mobileclip_blt.ts``: both files are listed and looked up in the store.

Sources (the ultralytics/assets GitHub release that ``attempt_download_asset`` uses; the tag
v8.3.0 is ultralytics' default asset tag, not verified here); no sha256 could be established
here. ultralytics loads the ``.pt`` with pickle (arbitrary code on load): evalkit only hands it
a file from the store after ``EVALKIT_TRUST_PICKLE=1`` (or when a sha256 pin matches).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from evalkit.store import MissingAssetError, resolve, store_dirs
from evalkit.types import WeightsFile

NAME = "yoloe-11l-seg"
_RELEASE = "https://github.com/ultralytics/assets/releases/download/v8.3.0/"
FILES = (
    WeightsFile(
        "yoloe-11l-seg.pt",
        sha256=None,
        store_path="weights/yoloe/yoloe-11l-seg.pt",
        url=_RELEASE + "yoloe-11l-seg.pt",
    ),
    WeightsFile(
        "mobileclip_blt.ts",
        sha256=None,
        store_path="weights/yoloe/mobileclip_blt.ts",
        url=_RELEASE + "mobileclip_blt.ts",
    ),
)
EXTRA = "pip install 'evalkit[detailmaster]'  # ultralytics (AGPL-3.0)"
TRUST_ENV = "EVALKIT_TRUST_PICKLE"


def missing() -> str:
    """'' when ultralytics and both files are available, else one message naming every gap."""
    gaps = []
    import importlib.util

    if importlib.util.find_spec("ultralytics") is None:
        gaps.append(f"the Python package ultralytics is not installed:\n  {EXTRA}")
    for wf in FILES:
        if not any((d / (wf.store_path or wf.filename)).is_file() for d in store_dirs()):
            try:
                resolve(wf, f"{NAME} detector file")
            except MissingAssetError as exc:
                gaps.append(str(exc))
    return "\n".join(gaps)


def weights_id() -> str:
    """The files and the ultralytics version that runs them (in every run id)."""
    from evalkit.judges.vlm import package_version

    files = ",".join(f"{w.filename}:{w.sha256 or 'unpinned'}" for w in FILES)
    return f"{files}/ultralytics=={package_version('ultralytics')}"


class YOLOE:
    name = NAME

    def __init__(self, model: Any) -> None:
        self.model = model
        self._pe: dict[str, Any] = {}

    @classmethod
    def from_store(cls, device: str = "cpu") -> YOLOE:
        gaps = missing()
        if gaps:
            raise MissingAssetError(gaps)
        paths = [resolve(wf, f"{NAME} detector file") for wf in FILES]
        if any(wf.sha256 is None for wf in FILES) and os.environ.get(TRUST_ENV) != "1":
            raise MissingAssetError(
                f"{paths[0]} is a pickled checkpoint that ultralytics loads with full pickle (it "
                "can run code) and no sha256 pin is known for it; set "
                f"{TRUST_ENV}=1 to load it anyway once you trust the file"
            )
        from ultralytics import YOLOE as _YOLOE

        cwd = os.getcwd()
        os.chdir(Path(paths[1]).parent)  # ultralytics looks for mobileclip_blt.ts in the cwd
        try:
            model = _YOLOE(str(paths[0]))
            model.to(device)
        finally:
            os.chdir(cwd)
        return cls(model)

    def detect(self, image: Any, name: str) -> list[float] | None:
        """YOLOE's first box [x1, y1, x2, y2] (pixels) for ``name``, or None."""
        if name not in self._pe:
            self._pe[name] = self.model.get_text_pe([name])
        self.model.set_classes([name], self._pe[name])
        results = self.model.predict(image.convert("RGB"), verbose=False)
        boxes = results[0].boxes.xyxy.tolist()
        return boxes[0] if boxes else None

    def describe(self) -> str:
        return f"{NAME} (ultralytics, MobileCLIP-BLT text encoder)"
