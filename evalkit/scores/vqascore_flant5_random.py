"""A seeded random tiny CLIP-FlanT5 for VQAScore parity with t2v-metrics (no real weights
offline): a small T5 (gated-gelu, untied head, as Flan-T5) and a small CLIP vision tower at
336 px / patch 14 (576 patches, as ViT-L/14-336), the mlp2x_gelu projector, official key names,
an untied LM head at std LOGIT_GAIN (at std 1 the logits spread so widely that every P is
0); a word-level stand-in tokenizer (``PreTrainedTokenizerFast``, ``$A </s>`` as T5's) whose
model vocabulary is 28 rows larger than the tokenizer, as Flan-T5's (32128 vs 32100), so the
resize to ``len(tokenizer)`` matters. Three folders: ``model``, ``vision``, ``tokenizer``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from pathlib import Path

EXTRA_ROWS = 28
LOGIT_GAIN = 0.2
SPECIALS = ("<pad>", "</s>", "<unk>")
OPENAI_MEAN = [0.48145466, 0.4578275, 0.40821073]
OPENAI_STD = [0.26862954, 0.26130258, 0.27577711]
VISION = {"hidden_size": 32, "intermediate_size": 64, "num_hidden_layers": 3,
          "num_attention_heads": 2, "image_size": 336, "patch_size": 14, "num_channels": 3,
          "hidden_act": "quick_gelu", "layer_norm_eps": 1e-5, "projection_dim": 32,
          "model_type": "clip_vision_model"}  # fmt: skip
T5 = {"d_model": 48, "d_kv": 12, "d_ff": 96, "num_layers": 2, "num_decoder_layers": 2,
      "num_heads": 4, "relative_attention_num_buckets": 32,
      "relative_attention_max_distance": 128, "dropout_rate": 0.0, "layer_norm_epsilon": 1e-6,
      "feed_forward_proj": "gated-gelu", "tie_word_embeddings": False, "pad_token_id": 0,
      "eos_token_id": 1, "decoder_start_token_id": 0, "is_encoder_decoder": True}  # fmt: skip


def words(prompts: Sequence[str]) -> list[str]:
    """Every word-level token of the encoder chunks and the answer (Whitespace pre-tokenizer)."""
    from evalkit.scores.vqascore_flant5 import ANSWER, chunks

    text = " ".join(" ".join(chunks(p)) for p in prompts) + " " + ANSWER
    return sorted(set(re.findall(r"\w+|[^\w\s]+", text)))


def save_tokenizer(folder: Path, vocabulary: Sequence[str]) -> int:
    """The stand-in tokenizer; returns its length."""
    from tokenizers import Tokenizer, models, pre_tokenizers, processors

    vocab = {w: i for i, w in enumerate([*SPECIALS, *vocabulary])}
    tok = Tokenizer(models.WordLevel(vocab, unk_token="<unk>"))
    tok.pre_tokenizer = pre_tokenizers.Whitespace()
    tok.post_processor = processors.TemplateProcessing(
        single="$A </s>", special_tokens=[("</s>", vocab["</s>"])]
    )
    folder.mkdir(parents=True, exist_ok=True)
    tok.save(str(folder / "tokenizer.json"))
    config = {"tokenizer_class": "PreTrainedTokenizerFast", "pad_token": "<pad>",
              "eos_token": "</s>", "unk_token": "<unk>", "model_max_length": 2048}  # fmt: skip
    (folder / "tokenizer_config.json").write_text(json.dumps(config, indent=1))
    return len(vocab)


def make_checkpoint(folder: Path, prompts: Sequence[str], seed: int) -> Path:
    """``folder/{model,vision,tokenizer}``; model/config.json names the vision folder."""
    import torch
    from safetensors.torch import save_file
    from transformers import CLIPVisionConfig, CLIPVisionModel, T5Config
    from transformers import T5ForConditionalGeneration as T5Model

    folder = Path(folder)
    n_tokens = save_tokenizer(folder / "tokenizer", words(prompts))
    vision_dir, model_dir = folder / "vision", folder / "model"
    vision_dir.mkdir(parents=True, exist_ok=True)
    model_dir.mkdir(parents=True, exist_ok=True)
    (vision_dir / "config.json").write_text(json.dumps(VISION, indent=1))
    processor = {"crop_size": {"height": 336, "width": 336}, "do_center_crop": True,
                 "do_convert_rgb": True, "do_normalize": True, "do_rescale": True,
                 "do_resize": True, "image_mean": OPENAI_MEAN, "image_std": OPENAI_STD,
                 "resample": 3, "rescale_factor": 1 / 255, "size": {"shortest_edge": 336},
                 "image_processor_type": "CLIPImageProcessor"}  # fmt: skip
    (vision_dir / "preprocessor_config.json").write_text(json.dumps(processor, indent=1))
    torch.manual_seed(seed)
    vision_cfg = {k: v for k, v in VISION.items() if k != "model_type"}
    vision = CLIPVisionModel(CLIPVisionConfig(**vision_cfg))
    t5_config = {**T5, "vocab_size": n_tokens + EXTRA_ROWS}
    t5 = T5Model(T5Config(**t5_config))
    width = T5["d_model"]
    projector = torch.nn.Sequential(
        torch.nn.Linear(VISION["hidden_size"], width),
        torch.nn.GELU(),
        torch.nn.Linear(width, width),
    )
    own = vision.state_dict()  # transformers 5 drops the hub's "vision_model." level
    state = {
        "vision_tower.vision_tower."
        + (k if k.startswith("vision_model.") else "vision_model." + k): v
        for k, v in own.items()
    }
    state.update({f"mm_projector.{k}": v for k, v in projector.state_dict().items()})
    state.update(t5.state_dict())
    # transformers 5 ties T5's head to ``shared``; Flan-T5's is its own matrix
    state["lm_head.weight"] = torch.randn(state["shared.weight"].shape) * LOGIT_GAIN
    for tied in ("encoder.embed_tokens.weight", "decoder.embed_tokens.weight"):
        state.pop(tied, None)  # aliases of shared.weight
    state = {k: v.detach().contiguous().float().clone() for k, v in state.items()}
    vision_only = {k[len("vision_tower.vision_tower.") :]: v for k, v in state.items()
                   if k.startswith("vision_tower.vision_tower.")}  # fmt: skip
    save_file(vision_only, str(vision_dir / "model.safetensors"), metadata={"format": "pt"})
    save_file(state, str(model_dir / "model.safetensors"), metadata={"format": "pt"})
    config = {**t5_config, "model_type": "clip_t5",
              "architectures": ["CLIPT5ForConditionalGeneration"],
              "mm_vision_tower": str(vision_dir.resolve()), "mm_hidden_size": VISION["hidden_size"],
              "mm_projector_type": "mlp2x_gelu", "mm_vision_select_layer": -2,
              "mm_vision_select_feature": "patch", "use_mm_proj": True}  # fmt: skip
    (model_dir / "config.json").write_text(json.dumps(config, indent=1))
    return folder


def weights_sha256(folder: Path) -> str:
    """sha256 over the model's tensors (names, shapes, float32 bytes)."""
    from evalkit.scores import vqascore_random

    return vqascore_random.weights_sha256(Path(folder) / "model")
