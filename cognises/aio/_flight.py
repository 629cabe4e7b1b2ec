"""One fetch in progress, awaited from any number of threads and event loops.

Shared by the key caches (``JWKSCache``, ``AlbKeyCache``). Flask runs every ``async def``
view on a new event loop in a new thread, so a waiter is woken on its own loop, and
nothing here is bound to a loop beyond the wait itself.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading

__all__ = ["Flight", "Interrupted"]


class Flight:
    """One fetch in progress, awaited from any number of threads and event loops."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._waiters: list[tuple[asyncio.AbstractEventLoop, asyncio.Future[None]]] = []
        self._done = False
        self.error: BaseException | None = None

    def finish(self, error: BaseException | None) -> None:
        with self._lock:
            self.error, self._done = error, True
            waiters, self._waiters = self._waiters, []
        for loop, future in waiters:
            # A closed loop raises RuntimeError: nobody there is waiting any more.
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(_wake, future)

    async def wait(self) -> BaseException | None:
        """Wait on the caller's own loop; return the fetch's error, if any."""
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        with self._lock:
            if self._done:
                return self.error
            self._waiters.append((future.get_loop(), future))
        await future
        return self.error


def _wake(future: asyncio.Future[None]) -> None:
    if not future.done():
        future.set_result(None)


class Interrupted(Exception):
    """The fetch's owner was cancelled; a waiter should take over."""
