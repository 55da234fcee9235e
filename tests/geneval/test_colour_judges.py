"""The offline pixel colour namer and the crop rule shared by every colour judge."""

from __future__ import annotations

import numpy as np
from PIL import Image

from evalkit.benchmarks.geneval import COLORS
from evalkit.judges import colour
from evalkit.judges.colour import ColourCrop, PixelColour, composite, crop_box


def test_colour_names_match_the_rules() -> None:
    assert colour.COLORS == COLORS and set(colour.PROTOTYPES_RGB) == set(COLORS)


def test_pixel_namer_names_solid_objects() -> None:
    crops = []
    for name, rgb in colour.PROTOTYPES_RGB.items():
        im = np.full((40, 40, 3), 153, np.uint8)
        # a slightly off-prototype object, so the test is not only an identity
        im[10:30, 10:30] = np.clip(np.array(rgb) + np.array([6, -5, 4]), 0, 255)
        crops.append(ColourCrop(im, name, np.array([10.0, 10.0, 30.0, 30.0, 0.9])))
    assert PixelColour().name(crops) == list(colour.PROTOTYPES_RGB)


def test_mask_picks_the_object_and_box_centre_otherwise() -> None:
    im = np.full((40, 40, 3), 255, np.uint8)  # white background inside the box
    mask = np.zeros((40, 40), bool)
    mask[2:8, 2:38] = True
    im[mask] = (200, 30, 35)  # a thin red bar along the top of the box
    box = np.array([0.0, 0.0, 40.0, 40.0, 0.9])
    judge = PixelColour()
    assert judge.name([ColourCrop(im, "kite", box, mask)]) == ["red"]
    assert judge.name([ColourCrop(im, "kite", box, None)]) == ["white"]  # centre half only


def test_crop_rounds_like_pil_and_composites_on_grey() -> None:
    rng = np.random.default_rng(0)
    im = rng.integers(0, 256, (50, 60, 3), dtype=np.uint8)
    for box in ([10.5, 3.5, 40.49, 20.51], [0.2, 0.7, 59.6, 49.5], [11.5, 12.5, 13.5, 14.5]):
        b = np.array([*box, 1.0])
        want = np.asarray(Image.fromarray(im).crop(tuple(box)))
        x1, y1, x2, y2 = crop_box(b, 60, 50)
        assert np.array_equal(im[y1:y2, x1:x2], want), box
    mask = rng.random((50, 60)) < 0.5
    b = np.array([5.0, 5.0, 45.0, 35.0, 1.0])
    blank = Image.new("RGB", (60, 50), color="#999")
    want = Image.composite(Image.fromarray(im), blank, Image.fromarray(mask)).crop((5, 5, 45, 35))
    assert np.array_equal(composite(ColourCrop(im, "x", b, mask)), np.asarray(want))
    # a box leaving the image: PIL pads with black, as the official crop does
    out = composite(ColourCrop(im, "x", np.array([50.0, 40.0, 70.0, 60.0, 1.0]), None))
    assert out.shape == (20, 20, 3) and not out[15:, 15:].any()


def _tiny_clip():
    import open_clip
    import torch
    from open_clip.model import CLIPTextCfg, CLIPVisionCfg

    torch.manual_seed(0)
    model = open_clip.model.CLIP(
        embed_dim=16,
        vision_cfg=CLIPVisionCfg(layers=1, width=32, head_width=16, patch_size=8, image_size=32),
        text_cfg=CLIPTextCfg(context_length=77, vocab_size=49408, width=32, heads=2, layers=1),
        quick_gelu=True,
    )
    preprocess = open_clip.transform.image_transform(32, is_train=False)
    return model, preprocess


def test_clip_colour_plumbing_with_a_tiny_random_clip() -> None:
    """The official judge's wiring (weights are not available offline): batch-independent names,
    classifier = normalised mean of the 3 template embeddings per colour."""
    import open_clip
    import torch
    import torch.nn.functional as F

    from evalkit.judges.clip_colour import ClipColour

    model, preprocess = _tiny_clip()
    judge = ClipColour(model=model, preprocess=preprocess)
    rng = np.random.default_rng(1)
    crops = [
        ColourCrop(
            rng.integers(0, 256, (48, 48, 3), dtype=np.uint8),
            name,
            np.array([4.0, 6.0, 40.0, 44.0, 0.9]),
            rng.random((48, 48)) < 0.6 if i % 2 else None,
        )
        for i, name in enumerate(["dog", "cup", "dog", "kite", "cup"])
    ]
    together = judge.name(crops)
    assert together == [judge.name([c])[0] for c in crops]
    assert set(together) <= set(COLORS)
    tok = open_clip.get_tokenizer("ViT-L-14")
    texts = ["a photo of a blue dog", "a photo of a blue-colored dog", "a photo of a blue object"]
    with torch.no_grad():
        e = F.normalize(model.encode_text(tok(texts)), dim=-1).mean(0)
    assert torch.allclose(judge.classifier("dog")[:, COLORS.index("blue")], e / e.norm(), atol=1e-6)
