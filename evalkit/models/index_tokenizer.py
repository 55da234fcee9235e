"""The adapter shared by discrete tokenizers whose network takes and gives [-1, 1] images and
whose codes are index tensors of some layout (VAR's scales, Open-MAGVIT2's bit-codes, UniTok's
codebook groups), and the one way their official checkpoints are loaded.

A network used here provides ``encode_indices(x)``, ``decode_indices(codes)`` (unclamped),
``flat_token_ids(codes)`` -> (B, N) and ``size_error(h, w)`` -> message or None.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from evalkit.models.weights import no_grad
from evalkit.types import ModelCard, TokenizerBase, WeightsFile

if TYPE_CHECKING:
    import torch
    from torch import nn

SIGNED_RANGE = "RGB float [-1, 1] (2x - 1 in; output clamped to [-1, 1], then (y + 1) / 2)"
UNSEEN_CHECKPOINT = (
    "no: the Hub is unreachable here; the loading path is tested with seeded weights in the "
    "official layout"
)
FIRST_USE_PIN = (
    "no sha256 or commit readable here: the first download is verified against the Hub's LFS "
    "sha256 and locked"
)


def hub_weights(model_id: str, filename: str, hub_id: str) -> WeightsFile:
    """The one checkpoint of a card, from the Hub, verified on first use (no pinned sha256)."""
    return WeightsFile(
        filename=filename, sha256=None, store_path=f"weights/{model_id}/{filename}", hub_id=hub_id
    )


def provenance(
    source: tuple[str, str, str], rfid: tuple[float, str], parity: str
) -> dict[str, Any]:
    """Card facts every family here states: the official code read (repository, commit, files),
    the published ImageNet-256 rFID with its source, the parity test, and that the release
    itself was not seen here (so its weights are pinned on first use)."""
    repo, commit, files = source
    return {
        "source_repo": repo,
        "source_commit": commit,
        "source_files": files,
        "published_rfid": rfid[0],
        "published_rfid_source": rfid[1],
        "parity": parity,
        "checkpoint_seen_here": UNSEEN_CHECKPOINT,
        "weights_pin": FIRST_USE_PIN,
    }


def index_card(
    ids: tuple[str, str],
    hub: tuple[str, str],
    facts: tuple[tuple[str, str, str], tuple[float, str], str],
    extra: dict[str, Any],
    **fields: Any,
) -> ModelCard:
    """The card of a discrete index tokenizer: ``ids`` (model id, family), its one Hub file
    ``hub`` (filename, repo), the :func:`provenance` ``facts`` (source, rFID, parity) put before
    the family's own ``extra``; ``fields`` are the other :class:`ModelCard` fields."""
    model_id, family = ids
    filename, hub_id = hub
    return ModelCard(
        id=model_id,
        family=family,
        kind="tokenizer",
        weights=(hub_weights(model_id, filename, hub_id),),
        discrete=True,
        extra={**provenance(*facts), **extra},
        **fields,
    )


@dataclass
class IndexCodes:
    """What ``encode`` returns: the network's index tensor(s), in its own layout."""

    indices: Any


class IndexTokenizer(TokenizerBase):
    def __init__(self, model_card: ModelCard, net: nn.Module) -> None:
        self.card = model_card
        self.module = net.eval()
        self.net: Any = net

    def _check(self, images: torch.Tensor) -> None:
        if images.ndim != 4 or images.shape[1] != 3:
            raise ValueError(f"{self.card.id} takes (B, 3, H, W) images, got {tuple(images.shape)}")
        problem = self.net.size_error(images.shape[2], images.shape[3])
        if problem:
            raise ValueError(f"{self.card.id} takes {problem}, got {tuple(images.shape)}")

    @no_grad
    def encode(self, images: torch.Tensor) -> IndexCodes:
        self._check(images)
        p = next(self.net.parameters())
        x = images.to(device=p.device, dtype=p.dtype)
        return IndexCodes(self.net.encode_indices(2 * x - 1))

    @no_grad
    def decode(self, codes: IndexCodes) -> torch.Tensor:
        y = self.net.decode_indices(codes.indices)
        return ((y.clamp(-1.0, 1.0) + 1) / 2).float()

    def token_ids(self, codes: Any) -> torch.Tensor | None:
        """(B, N) ids in [0, card.codebook_size) for codebook usage."""
        return self.net.flat_token_ids(codes.indices)


def build_index_tokenizer(
    model_card: ModelCard,
    make_net: Callable[[], nn.Module],
    unpack: Callable[[Any], dict[str, torch.Tensor]],
    *,
    random_init: bool,
    seed: int,
    weights_path: str | None,
) -> IndexTokenizer:
    """The network with random weights (``random_init``, seeded), or with an official checkpoint
    (``weights_path``, else the card's file from the store) read safely, unpacked to the official
    parameter names by ``unpack`` and loaded strictly."""
    import torch

    from evalkit.models.weights import load_checkpoint

    if random_init:
        torch.manual_seed(seed)
        model_card = replace(
            model_card, weights=(), description=model_card.description + " [random init]"
        )
        return IndexTokenizer(model_card, make_net())
    if weights_path:
        path = Path(weights_path)
    else:
        from evalkit.assets import run_context
        from evalkit.store import resolve

        with run_context(None, model_card.id):
            path = resolve(model_card.weights[0], f"{model_card.id} checkpoint")
    with torch.device("meta"):
        net = make_net()
    net.load_state_dict(unpack(load_checkpoint(path)), strict=True, assign=True)
    return IndexTokenizer(model_card, net.float())


def check_build_args(
    model_id: str, options: dict[str, Any], tiny: bool, random_init: bool, weights_path: Any
) -> None:
    """Unknown options are refused; ``tiny`` (a narrow network, for tests) needs random weights
    or an explicit checkpoint file, never the card's real one."""
    if options:
        raise ValueError(f"{model_id}: unknown options {sorted(options)}")
    if tiny and not (random_init or weights_path):
        raise ValueError("tiny=True needs random_init=True or a weights_path (tests)")


def state_dict_at(model_id: str, checkpoint: Any, *path: str) -> dict[str, torch.Tensor]:
    """The dict of tensors at ``checkpoint[path[0]][path[1]]...``, or a clear error."""
    import torch

    node = checkpoint
    for key in path:
        if not isinstance(node, dict) or key not in node:
            top = sorted(map(str, node))[:8] if isinstance(node, dict) else type(node).__name__
            raise ValueError(
                f"{model_id}: the checkpoint has no {'/'.join(path)!r} (found {top} at {key!r})"
            )
        node = node[key]
    if not isinstance(node, dict) or not all(torch.is_tensor(t) for t in node.values()):
        raise ValueError(f"{model_id}: {'/'.join(path) or 'the file'} is not a dict of tensors")
    return dict(node)
