"""Record the official checkpoint's state-dict key names and shapes from mmdet 2.x's own model.

Not a test: run once where mmdet 2.x and mmcv 1.x (the pure-Python "lite" build) are installed,
e.g. ``pip install --no-deps mmdet==2.28.2`` and ``MMCV_WITH_OPS=0 pip install --no-deps
--no-build-isolation mmcv==1.7.2`` (with setuptools<70). mmcv's compiled ops are absent there, so a
stand-in ``mmcv._ext`` module lets ``mmcv.ops`` import; the model is only built (CPU, random
weights, no forward pass), which needs no compiled op. Output: tests/geneval/data/
mask2former_mmdet2_keys.json, ``{key: shape}`` in state-dict order, plus how it was made.
"""

from __future__ import annotations

import json
import os
import sys
import types
from pathlib import Path

OUT = Path(__file__).with_name("data") / "mask2former_mmdet2_keys.json"
CONFIG = "mask2former/mask2former_swin-s-p4-w7-224_lsj_8x2_50e_coco.py"


class _NoExt(types.ModuleType):
    def __getattr__(self, name: str):  # every compiled op is a stub that must never run
        if name.startswith("__"):
            raise AttributeError(name)

        def missing(*args, **kwargs):
            raise RuntimeError(f"mmcv op {name} is not compiled here")

        return missing


def main() -> None:
    sys.modules["mmcv._ext"] = _NoExt("mmcv._ext")
    import mmcv
    import mmdet
    from mmcv import Config
    from mmdet.models import build_detector

    cfg = Config.fromfile(os.path.join(os.path.dirname(mmdet.__file__), ".mim", "configs", CONFIG))
    cfg.model.backbone.init_cfg = None  # no download of ImageNet Swin weights
    model = build_detector(cfg.model)
    sd = model.state_dict()
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(
        json.dumps(
            {
                "made_with": f"mmdet {mmdet.__version__}, mmcv {mmcv.__version__} "
                f"(no compiled ops), config {CONFIG}, build_detector on CPU, model.state_dict()",
                "keys": {k: list(v.shape) for k, v in sd.items()},
            },
            indent=0,
        )
    )
    print(f"{len(sd)} keys -> {OUT}")


if __name__ == "__main__":
    main()
