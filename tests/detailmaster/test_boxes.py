"""Qwen2.5-VL answers boxes in the frame it saw (the image resized to multiples of 28 px):
protocol=official compares them raw with YOLOE's pixel boxes (the official quirk), protocol=fixed
maps them to pixels first."""

from __future__ import annotations

import pytest
from PIL import Image

from evalkit.benchmarks.detailmaster import evaluate
from evalkit.benchmarks.detailmaster.protocol import bbox_question, frame_to_pixels
from evalkit.benchmarks.detailmaster.scripted import ScriptedJudge
from evalkit.judges.vlm import frame_size
from tests.detailmaster.helpers import dog_record


@pytest.mark.parametrize(
    ("size", "frame"),
    [
        ((512, 512), (504, 504)),
        ((1024, 1024), (1036, 1036)),
        ((1024, 768), (1036, 756)),
        ((28, 28), (56, 56)),  # below min_pixels (56 x 56): scaled up
        ((4000, 4000), (3584, 3584)),  # above max_pixels (16384 patches of 28 x 28): scaled down
    ],
)
def test_frame_known_sizes(size, frame) -> None:
    assert frame_size(*size) == frame


def test_frame_is_what_the_qwen_processor_makes() -> None:
    """The real Qwen2.5-VL image processor, with the checkpoint's pixel limits, resizes to it
    (14-px patches: grid * 14 = frame)."""
    pytest.importorskip("transformers")
    from transformers.models.qwen2_vl.image_processing_qwen2_vl import smart_resize

    from evalkit.judges.qwen_random import offline_processor

    processor = offline_processor()
    for size in [(512, 512), (1024, 1024), (300, 200), (37, 500), (1920, 1080)]:
        image = Image.new("RGB", size, "gray")
        grid = processor.image_processor(images=[image], return_tensors="pt")["image_grid_thw"]
        _, rows, cols = (int(v) for v in grid[0])
        assert (cols * 14, rows * 14) == frame_size(*size), size
    limits = processor.image_processor.size
    for w in range(30, 3000, 97):
        for h in range(30, 3000, 131):
            hb, wb = smart_resize(
                h, w, 28, limits["shortest_edge"], limits["longest_edge"]
            )  # transformers' own resize rule
            assert frame_size(w, h) == (wb, hb), (w, h)


def test_frame_to_pixels_inverts_the_resize() -> None:
    assert frame_to_pixels([0, 0, 504, 504], (512, 512)) == [0, 0, 512, 512]
    assert frame_to_pixels([259, 0, 1036, 378, 7], (1024, 768)) == [256.0, 0.0, 1024.0, 384.0, 7]


@pytest.mark.parametrize(
    ("side", "detector", "qwen"),
    [
        # 512 -> 504: YOLOE's 50-px box near the far corner; Qwen's answer is that box in its frame
        (512, [460, 460, 510, 510], "[453, 453, 502, 502]"),
        # 1024 -> 1036
        (1024, [900, 900, 1000, 1000], "[911, 911, 1012, 1012]"),
    ],
)
def test_official_compares_frame_boxes_raw_and_fixed_maps_them(side, detector, qwen) -> None:
    image = Image.new("RGB", (side, side), "white")
    table = {("detect", "dog"): detector, ("ask", bbox_question("dog")): qwen}

    def judge() -> ScriptedJudge:
        j = ScriptedJudge(table)
        ask = j.ask
        j.ask = lambda im, q: ask(im, q) if "bounding box" in q else "yes"  # type: ignore[method-assign]
        return j

    images = {"docci_1.jpg": [image]}
    official = evaluate([dog_record()], images, judge(), "official")
    fixed = evaluate([dog_record()], images, judge(), "fixed")
    # raw: IoU 0.56 (512) / 0.65 (1024) <= 0.7, the dog is absent; in pixels IoU > 0.98
    assert official["object_presence"] == 0 and official["character_attributes_animal"] == 0
    assert fixed["object_presence"] == 1 and fixed["character_attributes_animal"] == 1
