"""A Hugging Face CLIP folder with seeded random weights, for fixtures and plumbing tests.

The real CLIP tokenizer is rebuilt from open_clip's ``bpe_simple_vocab_16e6.txt.gz`` (the same
49,408-token vocabulary and merges OpenAI's tokenizer and the Hub's ``vocab.json``/``merges.txt``
hold), so prompts tokenize as with the real weights; the network is a small ``CLIPConfig`` of the
real architecture (same module names, fewer and narrower layers). Its numbers never reach a
leaderboard: :func:`REAL_CONFIGS` lets tests check that the key names match the real model's.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

# OpenAI CLIP's preprocessing (also laion/CLIP-ViT-H-14-laion2B-s32B-b79K's processor's values)
MEAN = [0.48145466, 0.4578275, 0.40821073]
STD = [0.26862954, 0.26130258, 0.27577711]
# The real architectures (config.json of each Hub repo), for key-name checks.
REAL_CONFIGS: dict[str, dict[str, Any]] = {
    "openai/clip-vit-large-patch14": {
        "text": {"hidden_size": 768, "num_hidden_layers": 12, "num_attention_heads": 12,
                 "intermediate_size": 3072},
        "vision": {"hidden_size": 1024, "num_hidden_layers": 24, "num_attention_heads": 16,
                   "intermediate_size": 4096, "patch_size": 14},
        "projection_dim": 768,
    },
    "openai/clip-vit-base-patch32": {
        "text": {"hidden_size": 512, "num_hidden_layers": 12, "num_attention_heads": 8,
                 "intermediate_size": 2048},
        "vision": {"hidden_size": 768, "num_hidden_layers": 12, "num_attention_heads": 12,
                   "intermediate_size": 3072, "patch_size": 32},
        "projection_dim": 512,
    },
    "laion/CLIP-ViT-H-14-laion2B-s32B-b79K": {
        "text": {"hidden_size": 1024, "num_hidden_layers": 24, "num_attention_heads": 16,
                 "intermediate_size": 4096, "hidden_act": "gelu"},
        "vision": {"hidden_size": 1280, "num_hidden_layers": 32, "num_attention_heads": 16,
                   "intermediate_size": 5120, "patch_size": 14, "hidden_act": "gelu"},
        "projection_dim": 1024,
    },
}  # fmt: skip


def write_tokenizer(folder: Path, pad_token: str = "<|endoftext|>") -> None:
    """vocab.json, merges.txt and the configs of CLIP's tokenizer, from open_clip's BPE file."""
    from evalkit.judges.random_weights import write_clip_bpe

    write_clip_bpe(folder)
    special = {
        "bos_token": "<|startoftext|>",
        "eos_token": "<|endoftext|>",
        "unk_token": "<|endoftext|>",
        "pad_token": pad_token,
    }
    (folder / "special_tokens_map.json").write_text(json.dumps(special))
    config = {**special, "model_max_length": 77, "do_lower_case": True, "errors": "replace"}
    config["tokenizer_class"] = "CLIPTokenizer"
    (folder / "tokenizer_config.json").write_text(json.dumps(config))


def write_preprocessor(folder: Path, size: int = 224) -> None:
    """The processor config the Hub's CLIP repos carry (shortest edge, bicubic, centre crop)."""
    config = {
        "crop_size": {"height": size, "width": size},
        "do_center_crop": True,
        "do_convert_rgb": True,
        "do_normalize": True,
        "do_rescale": True,
        "do_resize": True,
        "image_mean": MEAN,
        "image_std": STD,
        "resample": 3,
        "rescale_factor": 1 / 255,
        "size": {"shortest_edge": size},
        "image_processor_type": "CLIPImageProcessor",
        "processor_class": "CLIPProcessor",
    }
    (folder / "preprocessor_config.json").write_text(json.dumps(config))


def small_config(real: str = "openai/clip-vit-large-patch14", image_size: int = 224) -> Any:
    """A narrow, shallow CLIPConfig with the real one's activation, patch size and vocabulary."""
    from transformers import CLIPConfig

    ref = REAL_CONFIGS[real]
    act = ref["text"].get("hidden_act", "quick_gelu")
    text = dict(hidden_size=32, intermediate_size=37, num_attention_heads=4, num_hidden_layers=2)
    vision = dict(hidden_size=32, intermediate_size=37, num_attention_heads=4, num_hidden_layers=2)
    return CLIPConfig(
        text_config=dict(text, vocab_size=49408, max_position_embeddings=77, hidden_act=act,
                         bos_token_id=0, eos_token_id=2),
        vision_config=dict(vision, image_size=image_size, hidden_act=act,
                           patch_size=ref["vision"]["patch_size"]),
        projection_dim=24,
    )  # fmt: skip


def real_config(real: str) -> Any:
    """The real CLIPConfig's shape (for key names; build it on the meta device)."""
    from transformers import CLIPConfig

    ref = REAL_CONFIGS[real]
    act = ref["text"].get("hidden_act", "quick_gelu")
    return CLIPConfig(
        text_config=dict(ref["text"], vocab_size=49408, max_position_embeddings=77, hidden_act=act),
        vision_config=dict(ref["vision"], image_size=224, hidden_act=act),
        projection_dim=ref["projection_dim"],
    )


def write_random_clip(
    folder: Path, seed: int = 0, real: str = "openai/clip-vit-large-patch14", pad_token: str = ""
) -> Path:
    """A loadable folder (config, processor, tokenizer, model.safetensors) with random weights."""
    import torch
    from transformers import CLIPModel

    model = CLIPModel(small_config(real)).eval()
    fill_seeded(model, seed)
    with torch.no_grad():  # a visible logit scale, as trained CLIPs have (exp(4.6) = 100)
        model.logit_scale.fill_(4.6052)
    model.save_pretrained(folder, safe_serialization=True)
    write_preprocessor(folder)
    write_tokenizer(folder, pad_token or "<|endoftext|>")
    return folder


def fill_seeded(model: Any, seed: int) -> None:
    """Every parameter drawn from a generator seeded by (seed, its name): the same weights
    whatever order or initialiser a transformers version uses (the reference runs an older one).
    Norm weights are 1 + noise, biases and the rest small noise."""
    import zlib

    import torch

    with torch.no_grad():
        for name, param in model.named_parameters():
            gen = torch.Generator().manual_seed(seed * 1_000_003 + zlib.crc32(name.encode()))
            noise = torch.randn(param.shape, generator=gen, dtype=torch.float32)
            norm = "norm" in name or "ln_" in name  # transformers' and open_clip's names
            scale = 0.1 if (norm or name.endswith("bias")) else 0.05
            base = 1.0 if norm and name.endswith("weight") else 0.0
            param.copy_(base + scale * noise)


def state_digest(model: Any) -> str:
    """sha256 over the parameters (name, float32 bytes), to check both sides built the same."""
    import hashlib

    h = hashlib.sha256()
    for name, param in sorted(model.named_parameters()):
        h.update(name.encode())
        h.update(param.detach().float().contiguous().numpy().tobytes())
    return h.hexdigest()


# open_clip's ViT-H-14 (model_configs/ViT-H-14.json), narrower and shallower: same module names
SMALL_VIT_H_14 = {
    "embed_dim": 24,
    "vision_cfg": {"image_size": 224, "layers": 2, "width": 64, "head_width": 16, "patch_size": 14},
    "text_cfg": {"context_length": 77, "vocab_size": 49408, "width": 32, "heads": 4, "layers": 2},
}
SMALL_VIT_H_14_NAME = "ViT-H-14-small-random"


def write_small_vit_h14_config(folder: Path) -> Path:
    """The small config as an open_clip model-config JSON (for ``add_model_config``)."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{SMALL_VIT_H_14_NAME}.json"
    path.write_text(json.dumps(SMALL_VIT_H_14))
    return path


def write_random_hps_checkpoint(path: Path, create_model: Any, seed: int = 0) -> str:
    """A checkpoint shaped as HPS's (``{"state_dict": ...}``) for the small ViT-H-14, built by
    the given open_clip ``create_model`` (hpsv2's vendored one, or open_clip's); returns the
    parameters' digest."""
    import torch

    model = create_model(SMALL_VIT_H_14_NAME, None)
    fill_seeded(model, seed)
    with torch.no_grad():
        model.logit_scale.fill_(4.6052)
    torch.save({"state_dict": model.state_dict()}, path)
    return state_digest(model)


def write_random_pickscore(root: Path, seed: int = 1) -> tuple[Path, Path]:
    """PickScore's two folders: a random CLIP-H-shaped model (``root/model``) and the processor
    of laion/CLIP-ViT-H-14-laion2B-s32B-b79K (``root/processor``: its pad token is "!")."""
    model = write_random_clip(
        root / "model", seed=seed, real="laion/CLIP-ViT-H-14-laion2B-s32B-b79K", pad_token="!"
    )
    processor = root / "processor"
    processor.mkdir(parents=True, exist_ok=True)
    write_preprocessor(processor)
    write_tokenizer(processor, pad_token="!")
    return model, processor


def random_real_clip(real: str = "openai/clip-vit-base-patch32", seed: int = 0) -> Any:
    """The real architecture (full width and depth) with :func:`fill_seeded` weights rounded to
    float16: OpenAI's ``clip.model.build_model`` stores them in float16 before ``clip.load``
    casts back on CPU, so float16-exact weights are the same numbers on both sides."""
    import torch
    from transformers import CLIPModel

    model = CLIPModel(real_config(real)).eval()
    fill_seeded(model, seed)
    with torch.no_grad():
        model.logit_scale.fill_(4.6052)
        for param in model.parameters():
            param.copy_(param.half().float())
    return model
