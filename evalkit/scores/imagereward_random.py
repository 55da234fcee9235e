"""A seeded random ImageReward checkpoint in the official key layout (image-reward 1.5's
``ImageReward`` module), for parity with the official runtime without its weights.

The checkpoint is a pure function of a key/shape list and a seed, so the fixture recorder (under
the official package) and the test (under evalkit) build the same tensors. Scales keep the
activations near unit variance (weights ~ N(0, 1/fan_in), norms near identity) so the rewards of
different photos and prompts differ clearly.

``SMALL`` is the test's architecture: the real widths (ViT-L's 1024, BERT-base's 768, the real
30,524-token vocabulary) with 2 layers each instead of 24 and 12; the real-size key list is
checked separately against the official model's (tests/fixtures/imagereward_official_keys.json).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import torch

RECIPE = "evalkit-imagereward-random-v1"
#: ImageReward's med_config.json (BLIP's BERT-base with cross-attention), as on the Hub
MED_CONFIG: dict[str, Any] = {
    "architectures": ["BertModel"],
    "attention_probs_dropout_prob": 0.1,
    "hidden_act": "gelu",
    "hidden_dropout_prob": 0.1,
    "hidden_size": 768,
    "initializer_range": 0.02,
    "intermediate_size": 3072,
    "layer_norm_eps": 1e-12,
    "max_position_embeddings": 512,
    "model_type": "bert",
    "num_attention_heads": 12,
    "num_hidden_layers": 12,
    "pad_token_id": 0,
    "type_vocab_size": 2,
    "vocab_size": 30524,
    "encoder_width": 768,
    "add_cross_attention": True,
}
#: the test's architecture: real widths, 2 vision and 2 text layers
SMALL_VISION_DEPTH = 2
SMALL_MED_CONFIG: dict[str, Any] = {**MED_CONFIG, "num_hidden_layers": 2}


def random_state_dict(shapes: Mapping[str, Sequence[int]], seed: int) -> dict[str, torch.Tensor]:
    """One tensor per key, drawn in the list's order from one ``torch.Generator(seed)``."""
    import torch

    g = torch.Generator().manual_seed(seed)
    out: dict[str, torch.Tensor] = {}
    for key, shape in shapes.items():
        size = tuple(int(s) for s in shape)
        if key.endswith("position_ids"):
            out[key] = torch.arange(size[-1]).expand(size).clone()
            continue
        noise = torch.randn(size, generator=g)
        if key.endswith("bias"):
            out[key] = 0.1 * noise
        elif "norm" in key.lower() and key.endswith("weight"):
            out[key] = 1.0 + 0.1 * noise
        elif key.endswith(("cls_token", "pos_embed")) or "embeddings" in key:
            out[key] = 0.5 * noise
        else:  # linear / conv weights: unit-variance activations
            fan_in = 1
            for s in size[1:]:
                fan_in *= s
            out[key] = noise / fan_in**0.5
    return out
