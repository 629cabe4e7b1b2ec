"""One fetch in progress, awaited from any number of threads and event loops.

Shared by the key caches (``JWKSCache``, ``AlbKeyCache``), and, as ``Flights`` (one
flight per key), by the per-user caches (identity-pool credentials). Flask runs every ``async def``
view on a new event loop in a new thread, so a waiter is woken on its own loop, and
nothing here is bound to a loop beyond the wait itself.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Awaitable, Callable, Hashable
from typing import TypeVar

from cognises.errors import CognisesError

__all__ = ["Flight", "Flights", "Interrupted", "copy_of"]

T = TypeVar("T")


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


class Flights:
    """Single flight per key."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._flights: dict[Hashable, Flight] = {}

    def __len__(self) -> int:
        return len(self._flights)

    async def run(
        self, key: Hashable, fetch: Callable[[], Awaitable[T]], *, found: Callable[[], T | None]
    ) -> T:
        """``found()`` if it has an answer; else run ``fetch()`` once for all callers.

        ``fetch`` must store its result where ``found`` reads it.
        """
        while True:
            hit = found()
            if hit is not None:
                return hit
            with self._lock:
                flight = self._flights.get(key)
                leader = flight is None
                if flight is None:
                    flight = self._flights[key] = Flight()
            if leader:
                return await self._lead(key, fetch, flight)
            error = await flight.wait()
            if isinstance(error, CognisesError):
                raise copy_of(error)
            # Success, or the leader was cancelled: look again (and maybe lead).

    async def _lead(self, key: Hashable, fetch: Callable[[], Awaitable[T]], flight: Flight) -> T:
        error: BaseException | None = None
        try:
            return await fetch()
        except CognisesError as exc:
            error = exc
            raise
        except BaseException:
            error = Interrupted()
            raise
        finally:
            with self._lock:
                self._flights.pop(key, None)
            flight.finish(error)


def copy_of(error: CognisesError) -> CognisesError:
    """A new error like ``error``: the one error is shared by every waiter, and raising it
    again would grow its traceback (and keep the leader's frames alive) each time."""
    copy = BaseException.__new__(type(error))
    copy.args = error.args
    copy.__dict__.update(error.__dict__)
    return copy
