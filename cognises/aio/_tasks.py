"""Running many independent jobs concurrently, a bounded number at a time."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import TypeVar

import anyio

from cognises.errors import ConfigurationError

__all__ = ["check_concurrency", "map_limited"]

T = TypeVar("T")
R = TypeVar("R")


def check_concurrency(concurrency: object) -> int:
    if isinstance(concurrency, bool) or not isinstance(concurrency, int) or concurrency < 1:
        raise ConfigurationError(
            f"concurrency: expected an integer of at least 1, found {concurrency!r}"
        )
    return concurrency


async def map_limited(
    job: Callable[[T], Awaitable[R]], items: Sequence[T], *, concurrency: int
) -> list[R]:
    """``[await job(item) for item in items]``, at most ``concurrency`` at a time.

    ``job`` must report its own failures in its result: an exception escaping it cancels
    the other jobs, which is what cancellation from outside should do and nothing else.
    """
    results: dict[int, R] = {}
    limiter = anyio.CapacityLimiter(concurrency)

    async def run(index: int, item: T) -> None:
        async with limiter:
            results[index] = await job(item)

    async with anyio.create_task_group() as group:
        for index, item in enumerate(items):
            group.start_soon(run, index, item)
    return [results[index] for index in range(len(items))]
