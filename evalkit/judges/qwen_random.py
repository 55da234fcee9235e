"""Random-weight Qwen2.5-VL builds of the real architecture, for plumbing tests and speed
measurements only (never for numbers): an in-memory processor (Qwen's tokenizer files cannot be
had offline), a model in memory (:func:`random_init`) or a checkpoint folder
(:func:`save_random_checkpoint`) with a chosen ``generation_config.json``.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from evalkit.judges.vlm import QwenVL, card_entry

SPECIALS = (
    "<|endoftext|>",
    "<|im_start|>",
    "<|im_end|>",
    "<|vision_start|>",
    "<|vision_end|>",
    "<|image_pad|>",
    "<|video_pad|>",
)
CHAT_TEMPLATE = (
    "{% for m in messages %}<|im_start|>{{ m['role'] }}\n{% for c in m['content'] %}"
    "{% if c['type'] == 'image' %}<|vision_start|><|image_pad|><|vision_end|>"
    "{% else %}{{ c['text'] }}{% endif %}{% endfor %}<|im_end|>\n{% endfor %}"
    "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)
# Qwen2.5-VL-7B-Instruct's architecture (its config.json, as recalled; a store copy wins).
ARCH_7B = {
    "text": dict(
        hidden_size=3584,
        intermediate_size=18944,
        num_hidden_layers=28,
        num_attention_heads=28,
        num_key_value_heads=4,
        vocab_size=152064,
        rope_theta=1000000.0,
        max_position_embeddings=128000,
        rope_scaling={"type": "mrope", "mrope_section": [16, 24, 24]},
    ),
    "vision": dict(
        depth=32,
        hidden_size=1280,
        intermediate_size=3420,
        num_heads=16,
        out_hidden_size=3584,
        fullatt_block_indexes=[7, 15, 23, 31],
        window_size=112,
    ),
}
ARCH_TINY = {
    "text": dict(
        hidden_size=64,
        intermediate_size=128,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=2,
        vocab_size=512,
        max_position_embeddings=4096,
        rope_scaling={"type": "mrope", "mrope_section": [2, 3, 3]},
    ),
    "vision": dict(
        depth=2,
        hidden_size=32,
        intermediate_size=64,
        num_heads=2,
        out_hidden_size=64,
        fullatt_block_indexes=[1],
        window_size=112,
    ),
}


def offline_processor(words: Sequence[str] = ()) -> Any:
    """A real Qwen2_5_VLProcessor (real image processor) with a small in-memory word-level
    tokenizer: Qwen's tokenizer files cannot be had offline, so token ids differ from Qwen's."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers
    from transformers import (
        PreTrainedTokenizerFast,
        Qwen2_5_VLProcessor,
        Qwen2VLImageProcessor,
        Qwen2VLVideoProcessor,
    )

    vocab = {t: i for i, t in enumerate(SPECIALS)}
    for w in [*"abcdefghijklmnopqrstuvwxyz0123456789", *words, "\n", "user", "assistant"]:
        vocab.setdefault(w, len(vocab))
    tok = Tokenizer(models.WordLevel(vocab, unk_token="<|endoftext|>"))
    tok.pre_tokenizer = pre_tokenizers.Sequence([pre_tokenizers.Whitespace()])
    tok.decoder = decoders.WordPiece()
    fast = PreTrainedTokenizerFast(
        tokenizer_object=tok,
        eos_token="<|im_end|>",
        pad_token="<|endoftext|>",
        additional_special_tokens=list(SPECIALS[1:]),
    )
    fast.padding_side = "left"
    frame = card_entry()["frame"]  # Qwen2.5-VL-7B-Instruct's preprocessor_config.json pixels
    return Qwen2_5_VLProcessor(
        image_processor=Qwen2VLImageProcessor(
            min_pixels=int(frame["min_pixels"]), max_pixels=int(frame["max_pixels"])
        ),
        tokenizer=fast,
        video_processor=Qwen2VLVideoProcessor(),
        chat_template=CHAT_TEMPLATE,
    )


def random_init(
    arch: str = "tiny",
    device: str = "cpu",
    dtype: Any = None,
    seed: int = 0,
    max_new_tokens: int = 8,
    batch_size: int | None = None,
    words: Sequence[str] = (),
) -> QwenVL:
    """A random-weight Qwen2.5-VL of the real architecture (``tiny`` or ``7b``): for plumbing
    tests and speed measurements, never for numbers."""
    import torch
    from transformers import Qwen2_5_VLConfig, Qwen2_5_VLForConditionalGeneration

    processor = offline_processor(words)
    ids = processor.tokenizer.convert_tokens_to_ids
    spec = ARCH_7B if arch == "7b" else ARCH_TINY
    text = dict(
        spec["text"],
        bos_token_id=ids("<|endoftext|>"),
        eos_token_id=ids("<|im_end|>"),
        pad_token_id=ids("<|endoftext|>"),
    )
    text["vocab_size"] = (
        max(text["vocab_size"], len(processor.tokenizer))
        if arch == "7b"
        else len(processor.tokenizer)
    )
    config = Qwen2_5_VLConfig(
        text_config=text,
        vision_config=dict(spec["vision"]),
        image_token_id=ids("<|image_pad|>"),
        video_token_id=ids("<|video_pad|>"),
        vision_start_token_id=ids("<|vision_start|>"),
        vision_end_token_id=ids("<|vision_end|>"),
    )
    torch.manual_seed(seed)
    dtype = dtype or torch.float32
    with torch.device(device):
        model = Qwen2_5_VLForConditionalGeneration(config).to(dtype).eval()
    model.generation_config.eos_token_id = ids("<|im_end|>")
    model.generation_config.pad_token_id = ids("<|endoftext|>")
    return QwenVL(
        model,
        processor,
        backend="transformers-random",
        device=device,
        batch_size=batch_size,
        max_new_tokens=max_new_tokens,
    )


def save_random_checkpoint(
    folder: Path,
    generation_config: dict[str, Any] | None = None,
    arch: str = "tiny",
    seed: int = 0,
    words: Sequence[str] = (),
) -> Path:
    """A random-weight checkpoint folder of the real architecture (safetensors, processor, chat
    template) whose ``generation_config.json`` holds ``generation_config`` on top of the stop
    and pad ids: for tests of the loading path and of which decoding settings take effect."""
    folder = Path(folder)
    vlm = random_init(arch, seed=seed, words=words)
    vlm.model.save_pretrained(folder, safe_serialization=True)
    vlm.processor.save_pretrained(folder)
    _older_transformers_files(folder)
    ids = vlm.processor.tokenizer.convert_tokens_to_ids
    gen = {"eos_token_id": ids("<|im_end|>"), "pad_token_id": ids("<|endoftext|>")}
    gen.update(generation_config or {})
    (folder / "generation_config.json").write_text(json.dumps(gen, indent=1), encoding="utf-8")
    return folder


def _older_transformers_files(folder: Path) -> None:
    """The processor files as the real checkpoint has them, which transformers 4.5x (lmdeploy
    0.8.0's era) reads too: ``preprocessor_config.json`` (with ``min_pixels`` / ``max_pixels``)
    and ``chat_template.json`` instead of 5.x's ``processor_config.json`` and
    ``chat_template.jinja``, and a tokenizer class both generations know."""
    processor = json.loads((folder / "processor_config.json").read_text(encoding="utf-8"))
    image = dict(processor["image_processor"])
    image["min_pixels"] = image["size"]["shortest_edge"]
    image["max_pixels"] = image["size"]["longest_edge"]
    image["processor_class"] = processor.get("processor_class", "Qwen2_5_VLProcessor")
    (folder / "preprocessor_config.json").write_text(json.dumps(image, indent=1), encoding="utf-8")
    template = (folder / "chat_template.jinja").read_text(encoding="utf-8")
    (folder / "chat_template.json").write_text(json.dumps({"chat_template": template}))
    (folder / "processor_config.json").unlink()
    (folder / "chat_template.jinja").unlink()
    tok_path = folder / "tokenizer_config.json"
    tok = json.loads(tok_path.read_text(encoding="utf-8"))
    tok["tokenizer_class"] = "PreTrainedTokenizerFast"
    if isinstance(tok.get("extra_special_tokens"), list):  # 4.5x: a list is "additional"
        tok["additional_special_tokens"] = tok.pop("extra_special_tokens")
    tok_path.write_text(json.dumps(tok, indent=1), encoding="utf-8")
