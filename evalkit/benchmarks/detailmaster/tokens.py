"""How many prompt tokens a generator whose text encoder truncates actually saw.

DetailMaster's prompts average ~280 tokens; CLIP text encoders (SD 1.x/2.x, SD-XL) keep 77
(start and end tokens included). A generator card declares the limit as
``extra["max_prompt_tokens"]``. Counting uses open_clip's bundled CLIP BPE (the same 49,408-token
vocabulary as ``openai/clip-vit-large-patch14``'s tokenizer, available offline); without
open_clip the count is unknown and the rows are not split.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any


@lru_cache(maxsize=1)
def _clip_bpe() -> Any:
    try:
        from open_clip.tokenizer import SimpleTokenizer
    except ImportError:
        return None
    return SimpleTokenizer()


def clip_token_count(prompt: str) -> int | None:
    """Tokens of ``prompt`` with CLIP's start and end tokens, or None without open_clip."""
    bpe = _clip_bpe()
    if bpe is None:
        return None
    return len(bpe.encode(prompt)) + 2


TOKENIZER = "clip-bpe-49408 (open_clip SimpleTokenizer)"


def seen_tokens(prompt: str, limit: int | None) -> dict[str, Any]:
    """Per-sample columns: prompt_tokens, prompt_tokens_seen, prompt_truncated (None: unknown)."""
    if limit is None:
        return {"prompt_tokens": None, "prompt_tokens_seen": None, "prompt_truncated": None}
    n = clip_token_count(prompt)
    if n is None:
        return {"prompt_tokens": None, "prompt_tokens_seen": None, "prompt_truncated": None}
    return {
        "prompt_tokens": n,
        "prompt_tokens_seen": min(n, int(limit)),
        "prompt_truncated": n > int(limit),
    }
