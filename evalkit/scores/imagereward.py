"""ImageReward (Xu et al. 2023): a BLIP-based human-preference reward, on transformers' BLIP.

The official ``ImageReward.score(prompt, image)`` (PyPI image-reward 1.5): the image through
BLIP's ViT-L/16 at 224 (PIL bicubic resize of the short side to 224, centre crop, then RGB,
CLIP's mean/std), the prompt through BLIP's BERT-base text encoder (bert-base-uncased, padded
and truncated to 35 tokens) cross-attending to every image token, the [CLS] state through a
5-layer linear MLP (768-1024-128-64-16-1, no activations), then ``(r - 0.16717) / 1.03334``.
Higher is better; about N(0, 1) over the authors' data.

Here the ViT is ``BlipVisionModel`` and the text encoder ``BlipTextModel`` (the same layers
under other names): :func:`convert_official` maps the official ``ImageReward.pt`` onto them,
every key accounted for. Parity with the official package is on a seeded random checkpoint
(tests/scores/test_imagereward.py). Weights: ``THUDM/ImageReward`` (``ImageReward.pt``, a plain
state dict, read with ``torch.load(weights_only=True)``; ``med_config.json``) and the tokenizer
of ``google-bert/bert-base-uncased``, through the store/hub layer (first use verified, locked).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
from PIL import Image

from evalkit.judges import hubdir
from evalkit.scores import JudgeIdentity, ScoreInfo, info

HUB_ID = "THUDM/ImageReward"
REVISION: str | None = None  # not established offline: first use locks the commit
STORE_PATH = "weights/imagereward"
FILES = ("ImageReward.pt", "med_config.json")
TOKENIZER_HUB_ID = "google-bert/bert-base-uncased"
TOKENIZER_REVISION: str | None = None
TOKENIZER_STORE_PATH = "weights/bert-base-uncased"
TOKENIZER_FILES = ("vocab.txt", "tokenizer_config.json")

#: the official normalisation of the MLP's output (ImageReward.py)
REWARD_MEAN = 0.16717362830052426
REWARD_STD = 1.0333394966054072
MAX_TOKENS = 35
IMAGE_SIZE = 224
CLIP_MEAN = (0.48145466, 0.4578275, 0.40821073)
CLIP_STD = (0.26862954, 0.26130258, 0.27577711)
VISION_WIDTH, VISION_HEADS, VISION_DEPTH = 1024, 16, 24  # BLIP's 'large' ViT
#: official keys with no counterpart in the scorer (BLIP's contrastive projections; a buffer)
UNUSED = re.compile(r"^blip\.(vision_proj|text_proj)\.|position_ids$")
#: the official MLP's Linear layers (Dropouts between them) -> our head's indices
HEAD_LAYERS = {0: 0, 2: 1, 4: 2, 6: 3, 7: 4}
HEAD_WIDTHS = (1024, 128, 64, 16, 1)
_VISION_RENAMES = (
    (r"^cls_token$", "embeddings.class_embedding"),
    (r"^pos_embed$", "embeddings.position_embedding"),
    (r"^patch_embed\.proj\.", "embeddings.patch_embedding."),
    (r"^blocks\.(\d+)\.norm1\.", r"encoder.layers.\1.layer_norm1."),
    (r"^blocks\.(\d+)\.norm2\.", r"encoder.layers.\1.layer_norm2."),
    (r"^blocks\.(\d+)\.attn\.qkv\.", r"encoder.layers.\1.self_attn.qkv."),
    (r"^blocks\.(\d+)\.attn\.proj\.", r"encoder.layers.\1.self_attn.projection."),
    (r"^blocks\.(\d+)\.mlp\.", r"encoder.layers.\1.mlp."),
    (r"^norm\.", "post_layernorm."),
)


class ImageRewardNet(torch.nn.Module):
    """BLIP ViT + cross-attending BERT + the reward MLP, in transformers' BLIP modules."""

    def __init__(self, med_config: Mapping[str, Any], vision_depth: int = VISION_DEPTH) -> None:
        super().__init__()
        from transformers import BlipTextConfig, BlipVisionConfig
        from transformers.models.blip.modeling_blip import BlipVisionModel
        from transformers.models.blip.modeling_blip_text import BlipTextModel

        vision = BlipVisionConfig(
            hidden_size=VISION_WIDTH,
            intermediate_size=4 * VISION_WIDTH,
            num_hidden_layers=vision_depth,
            num_attention_heads=VISION_HEADS,
            image_size=IMAGE_SIZE,
            patch_size=16,
            hidden_act="gelu",
            layer_norm_eps=1e-6,  # BLIP's ViT: partial(nn.LayerNorm, eps=1e-6)
        )
        m = med_config
        text = BlipTextConfig(
            vocab_size=m["vocab_size"],
            hidden_size=m["hidden_size"],
            encoder_hidden_size=VISION_WIDTH,
            intermediate_size=m["intermediate_size"],
            num_hidden_layers=m["num_hidden_layers"],
            num_attention_heads=m["num_attention_heads"],
            max_position_embeddings=m["max_position_embeddings"],
            hidden_act=m["hidden_act"],
            layer_norm_eps=m["layer_norm_eps"],
            pad_token_id=m["pad_token_id"],
            bos_token_id=None,
            sep_token_id=None,
        )
        self.vision = BlipVisionModel(vision)
        self.text = BlipTextModel(text, add_pooling_layer=False)
        widths = (m["hidden_size"], *HEAD_WIDTHS)
        self.head = torch.nn.Sequential(
            *(torch.nn.Linear(a, b) for a, b in zip(widths, widths[1:], strict=False))
        )

    def forward(
        self, pixels: torch.Tensor, input_ids: torch.Tensor, attention_mask: torch.Tensor
    ) -> torch.Tensor:
        """Normalised rewards, one per row (image i with prompt i)."""
        image_tokens = self.vision(pixel_values=pixels).last_hidden_state
        image_mask = torch.ones(image_tokens.shape[:-1], dtype=torch.long, device=pixels.device)
        text = self.text(
            input_ids=input_ids,
            attention_mask=attention_mask,
            encoder_hidden_states=image_tokens,
            encoder_attention_mask=image_mask,
        ).last_hidden_state
        reward = self.head(text[:, 0, :].float())[:, 0]
        return (reward - REWARD_MEAN) / REWARD_STD


def our_key(official: str) -> str | None:
    """The scorer's key for an official ``ImageReward.pt`` key; None for :data:`UNUSED` ones;
    a KeyError for a key this mapping does not know."""
    if UNUSED.search(official):
        return None
    if official.startswith("blip.text_encoder."):
        return "text." + official.removeprefix("blip.text_encoder.")
    if official.startswith("blip.visual_encoder."):
        rest = official.removeprefix("blip.visual_encoder.")
        for pattern, repl in _VISION_RENAMES:
            if re.match(pattern, rest):
                return "vision." + re.sub(pattern, repl, rest)
    found = re.match(r"^mlp\.layers\.(\d+)\.(weight|bias)$", official)
    if found and int(found[1]) in HEAD_LAYERS:
        return f"head.{HEAD_LAYERS[int(found[1])]}.{found[2]}"
    raise KeyError(f"ImageReward checkpoint key {official!r} has no place in the scorer")


def convert_official(
    state: Mapping[str, torch.Tensor], model: ImageRewardNet
) -> dict[str, torch.Tensor]:
    """The official state dict under the scorer's names; every scorer key must be filled with a
    tensor of its shape (no silent partial load, unlike the official ``strict=False``)."""
    ours = model.state_dict()
    out: dict[str, torch.Tensor] = {}
    for key, tensor in state.items():
        name = our_key(key)
        if name is None:
            continue
        if name not in ours or ours[name].shape != tensor.shape:
            want = tuple(ours[name].shape) if name in ours else "no such key"
            raise ValueError(f"ImageReward {key!r} -> {name!r}: {tuple(tensor.shape)} vs {want}")
        out[name] = tensor
    absent = sorted(set(ours) - set(out) - {k for k in ours if k.endswith("position_ids")})
    if absent:
        raise ValueError(f"ImageReward checkpoint lacks {len(absent)} keys, e.g. {absent[:3]}")
    return out


def preprocess(image: Image.Image) -> torch.Tensor:
    """The official transform: bicubic short side to 224 (PIL, as torchvision's Resize on PIL
    images), centre crop (torchvision's rounding), then RGB, /255, CLIP mean/std; 3x224x224."""
    w, h = image.size
    short, long = (w, h) if w <= h else (h, w)
    new_long = int(IMAGE_SIZE * long / short)
    size = (IMAGE_SIZE, new_long) if w <= h else (new_long, IMAGE_SIZE)
    image = image.resize(size, Image.BICUBIC)
    w, h = image.size
    top, left = int(round((h - IMAGE_SIZE) / 2.0)), int(round((w - IMAGE_SIZE) / 2.0))
    image = image.crop((left, top, left + IMAGE_SIZE, top + IMAGE_SIZE)).convert("RGB")
    array = np.asarray(image, dtype=np.float32) / 255.0
    array = (array - np.array(CLIP_MEAN, np.float32)) / np.array(CLIP_STD, np.float32)
    return torch.from_numpy(array.transpose(2, 0, 1).copy())


def tokenizer_from(folder: Path) -> Any:
    """BLIP's tokenizer: bert-base-uncased plus '[DEC]' (bos) and '[ENC]', as init_tokenizer."""
    from transformers import BertTokenizer

    tokenizer = BertTokenizer.from_pretrained(str(folder))
    tokenizer.add_special_tokens({"bos_token": "[DEC]"})
    tokenizer.add_special_tokens({"additional_special_tokens": ["[ENC]"]})
    return tokenizer


class ImageRewardScorer:
    """The loaded score (the :class:`evalkit.scores.Scorer` contract)."""

    def __init__(
        self,
        score_id: str,
        model: ImageRewardNet,
        tokenizer: Any,
        judge: JudgeIdentity,
        device: str = "cpu",
    ) -> None:
        self.info: ScoreInfo = info(score_id)
        self.model, self.tokenizer, self.judge, self.device = model, tokenizer, judge, device

    def score(self, images: Sequence[Any], prompts: Sequence[str]) -> list[float]:
        if len(images) != len(prompts):
            raise ValueError(f"{len(images)} images but {len(prompts)} prompts")
        if not images:
            return []
        tokens = self.tokenizer(
            list(prompts),
            padding="max_length",
            truncation=True,
            max_length=MAX_TOKENS,
            return_tensors="pt",
        )
        pixels = torch.stack([preprocess(im) for im in images]).to(self.device)
        with torch.no_grad():
            rewards = self.model(
                pixels, tokens.input_ids.to(self.device), tokens.attention_mask.to(self.device)
            )
        return [float(r) for r in rewards.cpu()]


def commit_of(folder: Path) -> str:
    """The Hub snapshot's commit (its folder name), or 'store' for an offline store copy."""
    return folder.name if folder.parent.name == "snapshots" else "store"


def load_official(path: Path) -> dict[str, torch.Tensor]:
    """``ImageReward.pt``: a plain state dict, so ``weights_only=True`` (no pickled code)."""
    state = torch.load(path, map_location="cpu", weights_only=True)
    if not isinstance(state, Mapping):
        raise ValueError(f"{path}: expected a state dict, found {type(state).__name__}")
    return dict(state)


def vision_depth(state: Mapping[str, Any]) -> int:
    """The ViT's block count in an official state dict (24 in ``ImageReward.pt``)."""
    block = re.compile(r"blip\.visual_encoder\.blocks\.(\d+)\.")
    return len({int(m[1]) for k in state if (m := block.match(k))})


def missing(score_id: str = "imagereward") -> str:
    """'' when the weights and the tokenizer can be had, else what to fetch (checked before
    any image is generated)."""
    return hubdir.check("ImageReward weights", HUB_ID, REVISION, STORE_PATH, FILES) or hubdir.check(
        "ImageReward tokenizer",
        TOKENIZER_HUB_ID,
        TOKENIZER_REVISION,
        TOKENIZER_STORE_PATH,
        TOKENIZER_FILES,
    )


def build(score_id: str, device: str = "cpu", **options: Any) -> ImageRewardScorer:
    """The real scorer: weights and tokenizer through the store/hub layer."""
    import json

    if options:
        raise ValueError(f"imagereward takes no options, got {sorted(options)}")
    folder = hubdir.local_dir("ImageReward weights", HUB_ID, REVISION, STORE_PATH, FILES)
    tok_folder = hubdir.local_dir(
        "ImageReward tokenizer",
        TOKENIZER_HUB_ID,
        TOKENIZER_REVISION,
        TOKENIZER_STORE_PATH,
        TOKENIZER_FILES,
    )
    med = json.loads((folder / "med_config.json").read_text())
    state = load_official(folder / "ImageReward.pt")
    with torch.device("meta"):  # no random init of ~450M parameters: the checkpoint fills them
        model = ImageRewardNet(med, vision_depth=vision_depth(state))
    model.load_state_dict(convert_official(state, model), assign=True)
    model.text.embeddings.position_ids = torch.arange(med["max_position_embeddings"])[None]
    meta = [n for n, t in [*model.named_parameters(), *model.named_buffers()] if t.is_meta]
    if meta:
        raise ValueError(f"ImageReward: {meta[:3]} left unfilled by the checkpoint")
    judge = JudgeIdentity(
        name=HUB_ID,
        weights=f"{HUB_ID}@{commit_of(folder)}",
        library="transformers BLIP (evalkit ImageRewardNet)",
    )
    model = model.to(device).eval()
    return ImageRewardScorer(score_id, model, tokenizer_from(tok_folder), judge, device)
