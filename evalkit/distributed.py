"""Scale-out: which samples this process owns, and the torch.distributed process group.

Two ways to split one run over many processes, both ending in the same run folder:

- ``torchrun --nproc-per-node N -m evalkit run ...``: the process group comes from the
  environment torchrun sets (RANK, WORLD_SIZE, LOCAL_RANK); rank r takes shard r/N; at the end
  rank 0 merges every shard and writes the rows once.
- ``evalkit run ... --shard K/N``: independent jobs (a Slurm array); ``evalkit merge`` combines.

A shard is a contiguous range of sample indices, cut on batch boundaries: with the same batch
size every batch holds exactly the samples it holds in one process. That matters on CPUs, where
convolution kernels may pick a different algorithm for a different batch composition and change
features in the last bits. The split is never padded (unlike DistributedSampler): no sample is
done twice, and a shard may be empty when there are fewer batches than shards.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import torch

DEFAULT_TIMEOUT_S = 6 * 3600  # ranks wait for the slowest shard at the end of a run


@dataclass(frozen=True, order=True)
class Shard:
    """Shard ``index`` of ``count`` (0-based): ``Shard(1, 3)`` is written ``1/3``."""

    index: int = 0
    count: int = 1

    def __post_init__(self) -> None:
        if self.count < 1 or not 0 <= self.index < self.count:
            raise ValueError(f"bad shard {self.index}/{self.count}: need 0 <= K < N")

    @classmethod
    def parse(cls, text: str) -> Shard:
        m = re.fullmatch(r"\s*(\d+)\s*/\s*(\d+)\s*", text)
        if not m:
            raise ValueError(f"bad shard {text!r}: write K/N, e.g. 0/4 (K counts from 0)")
        return cls(int(m.group(1)), int(m.group(2)))

    @property
    def label(self) -> str:
        return f"{self.index}/{self.count}"

    @property
    def dirname(self) -> str:
        return f"{self.index}-of-{self.count}"

    def indices(self, n_samples: int, batch_size: int) -> range:
        """This shard's contiguous sample indices, cut on batch boundaries, balanced by batch."""
        if batch_size < 1:
            raise ValueError("batch_size must be >= 1")
        n_batches = -(-n_samples // batch_size)
        first = n_batches * self.index // self.count
        stop = n_batches * (self.index + 1) // self.count
        return range(min(first * batch_size, n_samples), min(stop * batch_size, n_samples))


def env_world() -> tuple[int, int, int] | None:
    """(rank, world_size, local_rank) from torchrun's environment, or None outside a group of >1."""
    try:
        world = int(os.environ.get("WORLD_SIZE", "1"))
    except ValueError:
        return None
    if world <= 1:
        return None
    rank = int(os.environ["RANK"])
    return rank, world, int(os.environ.get("LOCAL_RANK", rank))


class ProcessGroup:
    """The torch.distributed group of a torchrun launch: NCCL on CUDA, gloo on CPU.

    Control messages (barriers, status) go through a gloo group on every backend: they are a
    few bytes, and gloo needs no device. Result data does not travel through the group: every
    rank writes its shard into the run folder (a filesystem every node sees) and rank 0 reads
    them back, which is also what ``evalkit merge`` does, so both paths are one code path.
    """

    def __init__(self, rank: int, world: int, local_rank: int, owned: bool) -> None:
        self.rank, self.world, self.local_rank, self.owned = rank, world, local_rank, owned
        self._control: Any = None

    @classmethod
    def from_env(cls, device_type: str) -> ProcessGroup | None:
        """Join (or reuse) the group torchrun described; None when not launched by torchrun."""
        found = env_world()
        if found is None:
            return None
        import torch.distributed as dist

        rank, world, local_rank = found
        owned = not dist.is_initialized()
        if owned:
            timeout = timedelta(
                seconds=float(os.environ.get("EVALKIT_DIST_TIMEOUT_S", DEFAULT_TIMEOUT_S))
            )
            backend = "nccl" if device_type == "cuda" else "gloo"
            if backend == "nccl":
                import torch

                torch.cuda.set_device(local_rank)
            dist.init_process_group(backend=backend, timeout=timeout)
        group = cls(dist.get_rank(), dist.get_world_size(), local_rank, owned)
        group._control = (
            dist.new_group(backend="gloo") if dist.get_backend() != "gloo" else dist.group.WORLD
        )
        return group

    @property
    def shard(self) -> Shard:
        return Shard(self.rank, self.world)

    def device(self, requested: str | None) -> torch.device:
        """This rank's device: cuda:LOCAL_RANK when CUDA is used, else what was asked for."""
        import torch

        if requested in (None, "cuda") and torch.cuda.is_available():
            return torch.device("cuda", self.local_rank)
        return torch.device(requested or "cpu")

    def all_gather(self, obj: Any) -> list[Any]:
        import torch.distributed as dist

        out: list[Any] = [None] * self.world
        dist.all_gather_object(out, obj, group=self._control)
        return out

    def broadcast(self, obj: Any, src: int = 0) -> Any:
        import torch.distributed as dist

        box = [obj]
        dist.broadcast_object_list(box, src=src, group=self._control)
        return box[0]

    def close(self) -> None:
        import torch.distributed as dist

        if self.owned and dist.is_initialized():
            dist.destroy_process_group()
