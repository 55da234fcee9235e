"""Real generated images (VISOR's CogView2 / DALLE-mini on SR2D prompts) as GenEval position
prompts, judged offline (YOLOX-Nano + pixels) through the runner."""

from __future__ import annotations

import json
import os

import numpy as np
import pytest

import evalkit
from evalkit.benchmarks.geneval import score_detections
from tests.geneval.visor_prompts import PAIRS, geneval_metadata, lay_out, visor_prompt
from tests.support import SHARED_OFFLINE, needs_store

VISOR = SHARED_OFFLINE / "images" / "visor"
FULL = os.environ.get("EVALKIT_GENEVAL_FULL") == "1"


def test_visor_ids_map_to_sr2d_prompts() -> None:
    assert visor_prompt(0) == ("person", "to the left of", "bicycle")
    assert visor_prompt(1) == ("bicycle", "to the left of", "person")
    assert visor_prompt(7) == ("bicycle", "below", "person")
    with pytest.raises(ValueError):
        visor_prompt(8)  # "person and bicycle": no relation
    # the last pair of VISOR's list: hair drier / toothbrush; 3,160 pairs in all
    assert visor_prompt(3159 * 10 + 2) == ("hair drier", "to the right of", "toothbrush")
    meta = geneval_metadata(10 * PAIRS.index(("laptop", "mouse")) + 4)
    assert meta["include"] == [
        {"class": "computer mouse", "count": 1},
        {"class": "laptop", "count": 1, "position": ["above", 0]},
    ]


@needs_store
@pytest.mark.weights
@pytest.mark.parametrize("generator", ["cogview2", "dallemini"])
def test_visor_images_position_accuracy(tmp_path, generator: str) -> None:
    """The default suite judges the first 5 prompts (20 images); EVALKIT_GENEVAL_FULL=1: all 100."""
    src = VISOR / generator
    if not src.is_dir():
        pytest.skip(f"{src} absent")
    root = tmp_path / generator
    prompts, uids = lay_out(src, root)
    if not FULL:
        lines = prompts.read_text().splitlines()[:5]
        prompts.write_text("\n".join(lines) + "\n")
        uids = uids[:5]
    res = evalkit.run(
        "geneval",
        f"samples:{generator}",
        workers=0,
        batch_size=8,
        out_dir=tmp_path / "out",
        options={
            "samples": str(root),
            "prompts": str(prompts),
            "detector": "yolox-nano",
            "colour": "pixels",
        },
    )
    rows = res.rows.set_index("metric")
    n = 4 * len(uids)
    assert rows.loc["position", "n"] == n and len(res.samples) == n
    assert not res.rows["comparable"].any()
    assert json.loads(rows.loc["position", "judges"])["detector"] == "yolox-nano"
    # the row is the mean of the per-image verdicts; each verdict re-derives from its record
    assert rows.loc["position", "value"] == pytest.approx(res.samples["correct"].mean())
    metas = [json.loads(line) for line in prompts.read_text().splitlines()]
    for rec in res.samples.itertuples():
        kept = json.loads(rec.details)["kept"]
        dets = {k: np.array(v) for k, v in kept.items()}
        correct, reason = score_detections(metas[rec.prompt_index], dets)
        assert correct == rec.correct and (reason == "") == correct
    print(
        f"{generator}: GenEval position accuracy {rows.loc['position', 'value']:.4f} "
        f"on {n} images (YOLOX-Nano + pixels)"
    )
