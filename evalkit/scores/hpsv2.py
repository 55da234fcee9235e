"""HPSv2.1 (Wu et al. 2023): open_clip ViT-H-14 with the HPS v2.1 weights, as the hpsv2 package.

As ``hpsv2.img_score.score`` (hpsv2 1.2.0, ``hps_version="v2.1"``): the model is open_clip
``ViT-H-14`` with ``HPS_v2.1_compressed.pt``'s ``state_dict`` loaded over it; the image
transform is the one ``create_model_and_transforms(..., light_augmentation=True)`` returns:
RGB (RGBA kept as is), ``ToTensor``, longest side resized to 224 (bicubic, on the tensor) and
padded with 0 to 224 x 224 centred (left/top get the smaller half), OpenAI mean/std; the prompt
through open_clip's ViT-H-14 tokenizer (77 tokens). The score is the cosine of the normalised
image and text features (the diagonal of ``image_features @ text_features.T``): no logit scale.
The official scores one image per forward pass under CUDA autocast (fp16 on a GPU); evalkit
scores a batch in fp32 (CPU) or under the same autocast on CUDA.

Weights: ``<store>/weights/hpsv2/HPS_v2.1_compressed.pt``, else ``xswu/HPSv2`` on the Hub
(unpinned: sha256 locked on first use); loaded with ``torch.load(weights_only=True)``.
``checkpoint=``: a local file; ``arch=``: another open_clip config (tests' small ViT-H-14).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from evalkit.scores import JudgeIdentity, ScoreInfo, info
from evalkit.types import WeightsFile

ARCH = "ViT-H-14"
SIZE = 224
MEAN = (0.48145466, 0.4578275, 0.40821073)  # open_clip's OPENAI_DATASET_MEAN/STD
STD = (0.26862954, 0.26130258, 0.27577711)
WEIGHTS = WeightsFile(
    filename="HPS_v2.1_compressed.pt",
    hub_id="xswu/HPSv2",
    store_path="weights/hpsv2/HPS_v2.1_compressed.pt",
)


def missing(score_id: str = "hpsv2") -> str:
    from evalkit.store import MissingAssetError, resolve

    try:
        resolve(WEIGHTS, "HPSv2.1 weights")
    except MissingAssetError as exc:
        return str(exc)
    return ""


def preprocess(image: Any) -> Any:
    """hpsv2's validation transform (see the module docstring) -> float CHW tensor."""
    import torchvision.transforms.functional as F

    if image.mode != "RGBA":
        image = image.convert("RGB")
    x = F.to_tensor(image)
    height, width = x.shape[1:]
    scale = SIZE / float(max(height, width))
    if scale != 1.0:  # as the official: an image whose longest side is 224 is neither resized
        new = (round(height * scale), round(width * scale))  # nor padded
        x = F.resize(x, list(new), F.InterpolationMode.BICUBIC)
        pad_h, pad_w = SIZE - new[0], SIZE - new[1]
        x = F.pad(x, [pad_w // 2, pad_h // 2, pad_w - pad_w // 2, pad_h - pad_h // 2], fill=0)
    if x.shape[0] == 4:
        return _normalise_rgba(x)
    return F.normalize(x, MEAN, STD)


def _normalise_rgba(x: Any) -> Any:
    import torch
    import torchvision.transforms.functional as F

    return torch.cat([F.normalize(x[:3], MEAN, STD), x[3:]], dim=0)


class HPSv2Scorer:
    """HPSv2.1 per (image, prompt) pair."""

    def __init__(self, model: Any, tokenizer: Any, weights: str, device: str = "cpu") -> None:
        self.info: ScoreInfo = info("hpsv2")
        self.model, self.tokenizer, self.device = model, tokenizer, device
        self.judge = JudgeIdentity(f"open_clip {ARCH} + HPS v2.1", weights, "open_clip_torch")

    def score(self, images: Sequence[Any], prompts: Sequence[str]) -> list[float]:
        import contextlib

        import torch

        if len(images) != len(prompts):
            raise ValueError(f"{len(images)} images but {len(prompts)} prompts")
        pixels = torch.stack([preprocess(im) for im in images]).to(self.device)
        text = self.tokenizer(list(prompts)).to(self.device)
        cuda = str(self.device).startswith("cuda")
        amp = torch.autocast("cuda") if cuda else contextlib.nullcontext()
        with torch.inference_mode(), amp:
            img = self.model.encode_image(pixels, normalize=True)
            txt = self.model.encode_text(text, normalize=True)
            cos = (img * txt).sum(dim=-1)
        return [float(c) for c in cos.float().cpu()]


def load_model(checkpoint: str, arch: str = ARCH, device: str = "cpu") -> tuple[Any, Any]:
    """open_clip ``arch`` with the HPS checkpoint's state_dict (strict), and its tokenizer."""
    import open_clip
    import torch

    model = open_clip.create_model(arch, pretrained=None)
    state = torch.load(checkpoint, map_location="cpu", weights_only=True)
    model.load_state_dict(state.get("state_dict", state))
    return model.to(device).eval(), open_clip.get_tokenizer(arch)


def build(
    score_id: str, device: str = "cpu", checkpoint: str | None = None, arch: str = ARCH
) -> HPSv2Scorer:
    """HPSv2.1 from the store/Hub, or from a local checkpoint (tests)."""
    if checkpoint is None:
        from evalkit.store import resolve_verified

        got = resolve_verified(WEIGHTS, "HPSv2.1 weights")
        path, weights = str(got.path), f"{WEIGHTS.describe()} sha256:{got.sha256}"
    else:
        path, weights = checkpoint, f"local:{checkpoint}"
    model, tokenizer = load_model(path, arch, device)
    return HPSv2Scorer(model, tokenizer, weights, device)
