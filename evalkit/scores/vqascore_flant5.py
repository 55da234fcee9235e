"""VQAScore with CLIP-FlanT5 (Lin et al. 2024, the paper's default), as t2v-metrics 3.0's
``CLIPT5Model.forward`` (clip_t5_model.py) computes it, on transformers.

Per (image, text) pair: the question ``Does this figure show "{text}"? Please answer yes or no.``
in the ``t5_chat`` style, ``SYSTEM_MSG + " USER: " + <image> + "\\n" + question + " ASSISTANT: "``;
each text chunk around ``<image>`` is tokenized on its own (so each ends with ``</s>``) and the
image's projected patch features replace the ``<image>`` place. The image is padded to a square
with the processor's mean colour (``expand2square``, ``image_aspect_ratio='pad'``) then CLIP's
preprocessing as transformers 4.49 does it (:func:`clip_pixels`, 336 px). Vision: CLIP
ViT-L/14-336's penultimate hidden states without the class token (``mm_vision_select_layer=-2``,
``patch``), through ``mm_projector`` (Linear, GELU, Linear). The T5 encoder-decoder is run
with the answer ``Yes`` tokenized as labels (``Yes`` + ``</s>``); the score is
``exp(-mean cross-entropy over the label tokens)``: the geometric mean of P("Yes") and
P("</s>" | "Yes"), which is what t2v-metrics reports as VQAScore. The logits are over
``len(tokenizer)`` entries: t2v-metrics resizes the embeddings to the tokenizer before scoring.

Key names are the official ones: ``shared``, ``encoder.*``, ``decoder.*``, ``lm_head`` (T5),
``vision_tower.vision_tower.vision_model.*`` (CLIP), ``mm_projector.{0,2}.*``.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from evalkit.scores import JudgeIdentity, ScoreInfo, info

SYSTEM_MSG = (
    "A chat between a curious user and an artificial intelligence assistant. The assistant "
    "gives helpful, detailed, and polite answers to the user's questions."
)
QUESTION = 'Does this figure show "{}"? Please answer yes or no.'
ANSWER = "Yes"
#: t2v-metrics' model table: model repo, tokenizer repo (the vision tower is the config's)
MODELS = {
    "clip-flant5-xxl": ("zhiqiulin/clip-flant5-xxl", "google/flan-t5-xxl"),
    "clip-flant5-xl": ("zhiqiulin/clip-flant5-xl", "google/flan-t5-xl"),
}
VISION_PREFIX = "vision_tower.vision_tower."
PROJECTOR_PREFIX = "mm_projector."
#: config.json keys of CLIPT5Config that T5Config does not know
MM_KEYS = ("mm_vision_tower", "mm_hidden_size", "mm_projector_type", "mm_vision_select_layer",
           "mm_vision_select_feature", "use_mm_proj", "pretrain_mm_mlp_adapter")  # fmt: skip


def chunks(text: str) -> tuple[str, str]:
    """The encoder text before and after the image place (``t5_chat`` conversation style)."""
    return SYSTEM_MSG + " USER: ", "\n" + QUESTION.format(text) + " ASSISTANT: "


def expand_to_square(image: Any, mean: Sequence[float]) -> Any:
    """t2v-metrics' ``expand2square``: centred on a square of the mean colour (int(x * 255))."""
    from PIL import Image

    width, height = image.size
    if width == height:
        return image
    side = max(width, height)
    canvas = Image.new(image.mode, (side, side), tuple(int(x * 255) for x in mean))
    canvas.paste(image, ((side - width) // 2, (side - height) // 2))
    return canvas


def clip_pixels(image: Any, processor: Any) -> Any:
    """CLIP preprocessing as transformers 4.49's ``CLIPImageProcessor`` (t2v-metrics' pin) does
    it on a PIL image: PIL resize of the shortest edge, centre crop, x rescale_factor in float64
    then float32, (x - mean) / std in float32; channels first, batch of one. transformers 5's
    processor resizes differently (up to 0.028 apart after normalising on the test photos)."""
    import numpy as np
    import torch

    size, crop = processor.size["shortest_edge"], processor.crop_size
    width, height = image.size
    short, long = (width, height) if width <= height else (height, width)
    new_long = int(size * long / short)
    new_w, new_h = (size, new_long) if width <= height else (new_long, size)
    resized = np.asarray(image.resize((new_w, new_h), resample=int(processor.resample)))
    top, left = (new_h - crop["height"]) // 2, (new_w - crop["width"]) // 2
    pixels = resized[top : top + crop["height"], left : left + crop["width"]]
    x = (pixels.astype(np.float64) * processor.rescale_factor).astype(np.float32)
    x = (x - np.array(processor.image_mean, np.float32)) / np.array(processor.image_std, np.float32)
    return torch.from_numpy(np.ascontiguousarray(x.transpose(2, 0, 1)))[None]


def load_state(folder: Path) -> dict[str, Any]:
    """Every tensor of the checkpoint folder: safetensors, else torch pickles read with
    ``weights_only=True``."""
    import torch
    from safetensors.torch import load_file

    state: dict[str, Any] = {}
    files = sorted(folder.glob("*.safetensors")) or sorted(folder.glob("pytorch_model*.bin"))
    if not files:
        raise FileNotFoundError(f"{folder}: no *.safetensors or pytorch_model*.bin")
    for path in files:
        part = (
            load_file(str(path))
            if path.suffix == ".safetensors"
            else torch.load(path, map_location="cpu", weights_only=True)
        )
        state.update(part)
    return state


def _own_name(key: str, own: set[str]) -> str:
    """A hub key (``vision_model.*``) as the installed CLIPVisionModel names it (transformers 5
    has no ``vision_model`` level)."""
    short = key.removeprefix("vision_model.")
    return key if key in own or short not in own else short


class CLIPFlanT5:
    """The network: CLIP vision tower, projector, T5 encoder-decoder (official key names)."""

    def __init__(self, folder: Path, vision_folder: Path, dtype: Any = None) -> None:
        import torch
        from transformers import CLIPVisionConfig, CLIPVisionModel, T5Config
        from transformers import T5ForConditionalGeneration as T5

        config = json.loads((Path(folder) / "config.json").read_text(encoding="utf-8"))
        mm = {k: config.pop(k, None) for k in MM_KEYS}
        if mm["mm_projector_type"] != "mlp2x_gelu" or mm["mm_vision_select_feature"] != "patch":
            raise ValueError(f"{folder}: only mlp2x_gelu + patch features are implemented: {mm}")
        self.select_layer = int(mm["mm_vision_select_layer"])
        for key in ("model_type", "architectures", "transformers_version", "torch_dtype"):
            config.pop(key, None)
        state = load_state(Path(folder))
        self.t5 = T5(T5Config(**config)).eval()
        vision_state = {
            k[len(VISION_PREFIX) :]: v for k, v in state.items() if k.startswith(VISION_PREFIX)
        }
        vision_config = CLIPVisionConfig.from_pretrained(vision_folder)
        if vision_state:
            self.vision = CLIPVisionModel(vision_config).eval()
            own = set(self.vision.state_dict())
            vision_state = {_own_name(k, own): v for k, v in vision_state.items()}
            self.vision.load_state_dict(vision_state, strict=True)
        else:  # the tower's own weights, as t2v-metrics builds it from mm_vision_tower
            self.vision = CLIPVisionModel.from_pretrained(vision_folder, use_safetensors=None)
        width = self.t5.config.d_model
        self.projector = torch.nn.Sequential(
            torch.nn.Linear(int(mm["mm_hidden_size"]), width),
            torch.nn.GELU(),
            torch.nn.Linear(width, width),
        ).eval()
        self.projector.load_state_dict(
            {
                k[len(PROJECTOR_PREFIX) :]: v
                for k, v in state.items()
                if k.startswith(PROJECTOR_PREFIX)
            }
        )
        t5_state = {
            k: v
            for k, v in state.items()
            if not k.startswith((VISION_PREFIX, PROJECTOR_PREFIX, "embed_tokens."))
        }
        absent, unexpected = self.t5.load_state_dict(t5_state, strict=False)
        aliases = {"encoder.embed_tokens.weight", "decoder.embed_tokens.weight"}
        if set(absent) - aliases or unexpected:
            raise ValueError(f"{folder}: T5 weights missing {absent}, unexpected {unexpected}")
        self._untie(state)
        if dtype is not None:
            for module in (self.t5, self.vision, self.projector):
                module.to(dtype)

    def _untie(self, state: dict[str, Any]) -> None:
        """transformers 5 ties T5's ``lm_head`` to ``shared`` (one tensor: the last loaded
        wins); Flan-T5 has two matrices, so each gets its own."""
        import torch

        shared = torch.nn.Embedding.from_pretrained(state["shared.weight"].clone(), freeze=True)
        self.t5.set_input_embeddings(shared)
        head = torch.nn.Linear(*reversed(state["lm_head.weight"].shape), bias=False)
        head.weight = torch.nn.Parameter(state["lm_head.weight"].clone(), requires_grad=False)
        self.t5.lm_head = head

    def to(self, device: str) -> CLIPFlanT5:
        for module in (self.t5, self.vision, self.projector):
            module.to(device)
        return self

    def image_features(self, pixels: Any) -> Any:
        """Penultimate CLIP hidden states without the class token, projected to T5's width."""
        out = self.vision(pixels, output_hidden_states=True)
        return self.projector(out.hidden_states[self.select_layer][:, 1:])


class CLIPFlanT5Scorer:
    """The loaded score (the :class:`evalkit.scores.Scorer` contract), one pair per forward."""

    def __init__(
        self,
        score_id: str,
        network: CLIPFlanT5,
        tokenizer: Any,
        image_processor: Any,
        judge: JudgeIdentity,
        device: str = "cpu",
    ) -> None:
        self.info: ScoreInfo = info(score_id)
        self.network, self.tokenizer, self.image_processor = network, tokenizer, image_processor
        self.judge, self.device = judge, device

    def score(self, images: Sequence[Any], prompts: Sequence[str]) -> list[float]:
        if len(images) != len(prompts):
            raise ValueError(f"{len(images)} images but {len(prompts)} prompts")
        return [self._one(im, p) for im, p in zip(images, prompts, strict=True)]

    def _ids(self, text: str) -> Any:
        import torch

        return torch.tensor(self.tokenizer(text).input_ids, device=self.device)

    def _one(self, image: Any, prompt: str) -> float:
        import torch

        net = self.network
        square = expand_to_square(image.convert("RGB"), self.image_processor.image_mean)
        pixels = clip_pixels(square, self.image_processor)
        dtype = net.t5.shared.weight.dtype
        before, after = chunks(prompt)
        labels = self._ids(ANSWER)[None]
        with torch.inference_mode():
            features = net.image_features(pixels.to(self.device, dtype))[0]
            embeds = torch.cat(
                [net.t5.shared(self._ids(before)), features, net.t5.shared(self._ids(after))]
            )[None]
            logits = net.t5(inputs_embeds=embeds, labels=labels).logits[0]
        logits = logits[:, : len(self.tokenizer)].float()  # embeddings resized to the tokenizer
        log_p = torch.log_softmax(logits, dim=-1).gather(1, labels[0][:, None])
        return float(log_p.mean().exp())


def from_folder(
    score_id: str,
    folder: Path,
    vision_folder: Path,
    tokenizer_folder: Path,
    device: str = "cpu",
    weights: str = "",
) -> CLIPFlanT5Scorer:
    """A CLIP-FlanT5 checkpoint folder, the vision tower's folder (config and processor) and
    the tokenizer's folder (the store's, or random ones in tests)."""
    import torch
    from transformers import AutoTokenizer, CLIPImageProcessor

    tokenizer = AutoTokenizer.from_pretrained(tokenizer_folder, trust_remote_code=False)
    processor = CLIPImageProcessor.from_pretrained(vision_folder)
    dtype = torch.bfloat16 if device.startswith("cuda") else torch.float32  # t2v-metrics: bf16
    network = CLIPFlanT5(Path(folder), Path(vision_folder), dtype).to(device)
    judge = JudgeIdentity(
        name=MODELS["clip-flant5-xxl"][0],
        weights=weights or f"local:{Path(folder).name}",
        library="transformers T5ForConditionalGeneration + CLIPVisionModel",
    )
    return CLIPFlanT5Scorer(score_id, network, tokenizer, processor, judge, device)


def missing(score_id: str = "vqascore") -> str:
    """'' when every part is in the store, else what will be fetched (or cannot be)."""
    from evalkit.assets import offline
    from evalkit.scores import vqascore_flant5_weights as w

    parts = (("model", "config.json"), ("tokenizer", "tokenizer_config.json"),
             ("vision", "preprocessor_config.json"))  # fmt: skip
    absent = [part for part, marker in parts if w.store_part(part, marker) is None]
    if not absent:
        return ""
    repos = f"{w.MODEL_ID}, {w.TOKENIZER_ID}'s tokenizer and {w.VISION_ID}"
    where = f"<store>/{w.STORE_PATH}/{{{','.join(absent)}}}"
    if offline():
        return f"{score_id}: CLIP-FlanT5 is not in the store ({where}; from {repos})"
    return ""


def build(score_id: str, device: str = "cpu", **options: Any) -> CLIPFlanT5Scorer:
    """The real scorer: each part from the store, else the Hub (locked on first use)."""
    from evalkit.assets import MissingAssetError
    from evalkit.scores import vqascore_flant5_weights as w

    if options:
        raise ValueError(f"{score_id} takes no options, got {sorted(options)}")
    gap = missing(score_id)
    if gap:
        raise MissingAssetError(gap)
    model, vision, tokenizer = w.folders()
    weights = f"{w.MODEL_ID}@{model.name if len(model.name) == 40 else 'store'}"
    return from_folder(score_id, model, vision, tokenizer, device, weights=weights)
