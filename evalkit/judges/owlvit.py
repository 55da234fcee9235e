"""OWL-ViT (google/owlvit-base-patch32) through transformers: VISOR's official detector.

As VISOR's notebook (transformers 4.28 era, PIL resize: the PIL image-processor backend here): per
image, text queries ``"a photo of a {obj}"`` for the prompt's objects;
each of the 576 predicted boxes gets the sigmoid of its best query logit as score and that query
as label; boxes are scaled to the image's own size; no NMS. The notebook's
``processor.post_process`` was removed from transformers; ``post_process_object_detection``
computes the same thing. Rules apply their own thresholds (VISOR: > 0.1); boxes below
``SCORE_FLOOR`` are dropped to keep records small.

Weights: ``<store>/weights/owlvit-base-patch32/`` (a copy of the Hub repo's files), else the
Hugging Face cache, else the Hub (``HUB_ID`` at ``REVISION``; online only). Loaded with
``use_safetensors`` when the folder has safetensors, never with remote code.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from evalkit.judges.detection import Detections, DetectorInfo

HUB_ID = "google/owlvit-base-patch32"
REVISION: str | None = None  # the official notebook loads the Hub's main branch; none pinned
STORE_REL = "weights/owlvit-base-patch32"
QUERY = "a photo of a {}"
SCORE_FLOOR = 0.01
FILES = (
    "config.json",
    "preprocessor_config.json",
    "tokenizer_config.json",
    "vocab.json",
    "merges.txt",
    "special_tokens_map.json",
)
WEIGHT_FILES = ("model.safetensors", "pytorch_model.bin")
SUGGEST = (
    "or run offline with the labelled stand-in detector: -O detector=yolox-nano "
    "(rows are then not comparable with published numbers)"
)


def weights_dir() -> Path:
    """A local folder with OWL-ViT's files, or one MissingAssetError naming where to put them."""
    from evalkit.store import MissingAssetError, offline, store_dirs

    searched = [d / STORE_REL for d in store_dirs()]
    for folder in searched:
        if (folder / "config.json").is_file() and any((folder / w).is_file() for w in WEIGHT_FILES):
            return folder
    try:
        import os

        from huggingface_hub import snapshot_download

        from evalkit.store import _reachable

        endpoint = os.environ.get("HF_ENDPOINT", "https://huggingface.co")
        local = offline() or not _reachable(endpoint)  # fail at once, not after retries
        path = snapshot_download(
            HUB_ID,
            revision=REVISION,
            local_files_only=local,
            allow_patterns=[*FILES, "model.safetensors"],
        )
        folder = Path(path)
        if (folder / "model.safetensors").is_file():
            return folder
        path = snapshot_download(
            HUB_ID,
            revision=REVISION,
            local_files_only=local,
            allow_patterns=[*FILES, "pytorch_model.bin"],
        )
        return Path(path)
    except Exception as exc:  # offline, no cache entry, network errors: all mean "not here"
        where = "\n".join(f"  {p}" for p in searched) or "  (no store set: $EVALKIT_STORE empty)"
        raise MissingAssetError(
            f"Missing OWL-ViT detector weights ({HUB_ID}), the official VISOR detector\n"
            f"Looked in:\n{where}\n  the Hugging Face cache ({type(exc).__name__})\n"
            f"To supply them: on a connected machine run once without EVALKIT_OFFLINE, or copy "
            f"the Hub repo's files ({', '.join(FILES)}, model.safetensors) into "
            f"<store>/{STORE_REL}/\n{SUGGEST}"
        ) from None


class OwlVit:
    """Open-vocabulary detector: ``detect_queries(images, queries)``; boxes only. ``folder``: a
    Hub-layout folder loaded instead of the store's (parity tests' seeded random weights)."""

    def __init__(
        self,
        model: Any = None,
        processor: Any = None,
        weights: str = "",
        device: str = "cpu",
        score_floor: float = SCORE_FLOOR,
        folder: Path | None = None,
    ) -> None:
        self.score_floor = score_floor
        if model is None or processor is None:
            from transformers import OwlViTForObjectDetection

            folder = folder or weights_dir()
            safe = (folder / "model.safetensors").is_file()
            model = OwlViTForObjectDetection.from_pretrained(folder, use_safetensors=safe)
            processor = load_processor(folder)
            weights = weights or f"{HUB_ID}@{REVISION or 'main'}:{_weights_digest(folder)}"
        self.model = model.eval().to(device)
        self.processor = processor
        self.device = device
        self.info = DetectorInfo(
            id="owlvit-base-patch32",
            weights=weights or "in-memory",
            official=True,
            notes="OWL-ViT B/32, queries 'a photo of a {obj}'",
        )

    def to(self, device: str) -> OwlVit:
        self.model.to(device)
        self.device = str(device)
        return self

    def detect(self, images: Sequence[np.ndarray]) -> list[Detections]:
        raise TypeError("OWL-ViT is open-vocabulary: call detect_queries(images, queries)")

    def detect_queries(
        self, images: Sequence[np.ndarray], queries: Sequence[Sequence[str]]
    ) -> list[Detections]:
        """One forward pass per image (as the notebook), labels = the query names."""
        import torch

        out: list[Detections] = []
        for image, names in zip(images, queries, strict=True):
            names = list(names)
            h, w = image.shape[:2]
            inputs = model_inputs(self.processor, image, names)
            inputs = {k: v.to(self.device) for k, v in inputs.items()}
            with torch.inference_mode():
                outputs = self.model(**inputs)
            res = self.processor.image_processor.post_process_object_detection(
                outputs, threshold=self.score_floor, target_sizes=[(h, w)]
            )[0]
            # float32, as the model gives them: VISOR compares scores with 0.1 in float32
            boxes = res["boxes"].float().cpu().numpy()
            scores = res["scores"].float().cpu().numpy()
            labels = res["labels"].cpu().numpy()
            dets: Detections = {}
            for idx, name in enumerate(names):
                if name in dets:  # a repeated query: argmax picks the first, as the notebook
                    continue
                sel = labels == idx
                if sel.any():
                    dets[name] = np.concatenate([boxes[sel], scores[sel, None]], 1)
            out.append(dets)
        return out


def model_inputs(processor: Any, image: np.ndarray, names: Sequence[str]) -> dict[str, Any]:
    """The notebook's ``processor(text=[queries], images=<PIL image>)`` tensors."""
    from PIL import Image

    texts = [[QUERY.format(n) for n in names]]
    return dict(processor(text=texts, images=Image.fromarray(image), return_tensors="pt"))


def load_processor(folder: Path) -> Any:
    """The folder's processor with OWL-ViT's image processor on PIL, as the notebook's
    transformers had it: bicubic PIL resize of the uint8 image, then rescale and normalise.
    transformers 5's default backend resizes with torchvision (input up to 0.03 apart after
    normalising; scores 4e-4, boxes 0.24 px, 2 of 13,824 labels flipped on the parity fixture);
    the PIL backend's input is bitwise the notebook's (tests/spatial/test_owlvit_parity.py)."""
    from transformers import OwlViTProcessor
    from transformers.models.owlvit.image_processing_pil_owlvit import OwlViTImageProcessorPil

    processor = OwlViTProcessor.from_pretrained(folder)
    processor.image_processor = OwlViTImageProcessorPil.from_pretrained(folder)
    return processor


def tiny_random(seed: int = 0, folder: Path | None = None) -> OwlVit:
    """A tiny random-weight OWL-ViT of the real architecture, for plumbing tests (no download)."""
    import json
    import tempfile

    import torch
    from transformers import (
        CLIPTokenizer,
        OwlViTConfig,
        OwlViTForObjectDetection,
        OwlViTImageProcessor,
        OwlViTProcessor,
    )

    torch.manual_seed(seed)
    config = OwlViTConfig(
        text_config={
            "hidden_size": 32,
            "intermediate_size": 37,
            "num_hidden_layers": 2,
            "num_attention_heads": 4,
            "vocab_size": 1000,
            "max_position_embeddings": 48,
            "bos_token_id": 1,
            "eos_token_id": 2,
            "pad_token_id": 2,
        },
        vision_config={
            "hidden_size": 32,
            "intermediate_size": 37,
            "num_hidden_layers": 2,
            "num_attention_heads": 4,
            "image_size": 64,
            "patch_size": 16,
        },
        projection_dim=32,
    )
    model = OwlViTForObjectDetection(config)
    folder = folder or Path(tempfile.mkdtemp(prefix="owlvit-tiny-"))
    chars = [chr(c) for c in range(ord("a"), ord("z") + 1)]
    # id 0 is a plain symbol: OWL-ViT masks a query whose first token id is 0
    vocab = {"!": 0, "<|startoftext|>": 1, "<|endoftext|>": 2}
    for c in chars:
        vocab[c] = len(vocab)
        vocab[c + "</w>"] = len(vocab)
    (folder / "vocab.json").write_text(json.dumps(vocab))
    (folder / "merges.txt").write_text("#version: 0.2\n")
    tokenizer = CLIPTokenizer(
        str(folder / "vocab.json"), str(folder / "merges.txt"), model_max_length=48
    )
    image_processor = OwlViTImageProcessor(
        size={"height": 64, "width": 64}, crop_size={"height": 64, "width": 64}
    )
    processor = OwlViTProcessor(image_processor=image_processor, tokenizer=tokenizer)
    return OwlVit(model, processor, weights=f"tiny-random-seed{seed}", score_floor=0.0)


def _weights_digest(folder: Path) -> str:
    from evalkit.filehash import file_sha256

    for name in WEIGHT_FILES:
        if (folder / name).is_file():
            return f"{name}:{file_sha256(folder / name)}"
    return "unknown"
