"""Running under torchrun: one process per device, PyTorch's own DistributedDataParallel.

Nothing here does anything in a single process (no ``WORLD_SIZE`` in the environment), so the
same code path serves one process and many.
"""

from __future__ import annotations

import contextlib
import functools
import os
from typing import Any, Callable, Iterator, TypeVar

import torch
import torch.distributed as dist


def world_size() -> int:
    return int(os.environ.get("WORLD_SIZE", "1"))


def rank() -> int:
    return int(os.environ.get("RANK", "0"))


def is_main() -> bool:
    """Only the main process writes files and shows progress."""
    return rank() == 0


def device_for_this_process(requested: torch.device) -> torch.device:
    """Under torchrun each process takes the GPU of its local rank."""
    if world_size() > 1 and requested.type == "cuda":
        return torch.device("cuda", int(os.environ.get("LOCAL_RANK", "0")))
    return requested


@contextlib.contextmanager
def process_group() -> Iterator[None]:
    """Join the torchrun process group (gloo on CPU, nccl on CUDA) for the block's duration."""
    if world_size() == 1 or dist.is_initialized():
        yield
        return
    dist.init_process_group(backend="nccl" if torch.cuda.is_available() else "gloo")
    try:
        yield
    finally:
        dist.destroy_process_group()


Function = TypeVar("Function", bound=Callable[..., Any])


def in_process_group(function: Function) -> Function:
    """Run ``function`` inside :func:`process_group`."""

    @functools.wraps(function)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        with process_group():
            return function(*args, **kwargs)

    return wrapper  # type: ignore[return-value]


def from_main(value: Any) -> Any:
    """The main process's ``value`` on every process, so a decision is made once for all."""
    if world_size() == 1:
        return value
    holder = [value]
    dist.broadcast_object_list(holder, src=0)
    return holder[0]
