"""Turning the core's coroutine functions into blocking ones with the same signature."""

from __future__ import annotations

import functools
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import ParamSpec, TypeVar

from cognises.sync._portal import call

__all__ = ["blocking", "blocking_list"]

P = ParamSpec("P")
T = TypeVar("T")


def blocking(func: Callable[P, Awaitable[T]]) -> Callable[P, T]:
    """``func`` run to completion on the shared portal, the caller blocking meanwhile."""

    @functools.wraps(func)
    def run(*args: P.args, **kwargs: P.kwargs) -> T:
        return call(functools.partial(func, *args, **kwargs))

    return run


def blocking_list(func: Callable[P, AsyncIterator[T]]) -> Callable[P, list[T]]:
    """An async iterator function as a blocking function returning every item in a list."""

    async def collect(*args: P.args, **kwargs: P.kwargs) -> list[T]:
        return [item async for item in func(*args, **kwargs)]

    @functools.wraps(func)
    def run(*args: P.args, **kwargs: P.kwargs) -> list[T]:
        return call(functools.partial(collect, *args, **kwargs))

    return run
