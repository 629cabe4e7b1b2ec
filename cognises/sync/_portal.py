"""One long-lived event loop on a daemon thread, through which blocking callers reach the core.

Made on first use, shared by every thread, closed at interpreter exit. Objects the core
makes while serving a call (httpx and aioboto3 clients) live and die on this loop.
"""

from __future__ import annotations

import asyncio
import atexit
import threading
from collections.abc import Awaitable, Callable
from typing import TypeVar

import anyio
from anyio.from_thread import BlockingPortal

from cognises.errors import ConfigurationError

__all__ = ["call"]

T = TypeVar("T")

_lock = threading.Lock()
_portal: BlockingPortal | None = None
_thread: threading.Thread | None = None


def call(func: Callable[[], Awaitable[T]]) -> T:
    """Run ``func()`` on the portal's loop and block until it is done."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        pass
    else:
        # Blocking here would stall every task of the caller's loop for the whole call.
        raise ConfigurationError(
            "cognises.sync was called from a running event loop, where it would block; "
            "use the same function from cognises.aio with await instead"
        )
    return _get().call(func)


def _get() -> BlockingPortal:
    global _portal, _thread
    portal = _portal
    if portal is not None:
        return portal
    with _lock:
        if _portal is None:
            ready = threading.Event()
            holder: list[BlockingPortal] = []

            async def serve() -> None:
                async with BlockingPortal() as portal:
                    holder.append(portal)
                    ready.set()
                    await portal.sleep_until_stopped()

            _thread = threading.Thread(
                target=anyio.run, args=(serve,), name="cognises-portal", daemon=True
            )
            _thread.start()
            ready.wait()
            _portal = holder[0]
            atexit.register(_close)
        return _portal


def _close() -> None:
    """Stop the portal's loop, letting calls in progress finish."""
    global _portal, _thread
    with _lock:
        portal, thread = _portal, _thread
        _portal = _thread = None
    if portal is None or thread is None:
        return
    try:
        portal.call(portal.stop)
    except RuntimeError:
        return  # the loop is already gone
    thread.join(timeout=5)
