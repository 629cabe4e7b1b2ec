"""At most one fetch per key in flight, awaited from any thread and event loop.

The JWKS cache's rule, for caches keyed by user or token: the first caller fetches, the
others wait on their own loops (``_Flight`` wakes each on its own), then read what the
fetch stored. A failure the fetch raised as a cognises error reaches every waiter (each
gets a copy); a cancelled or crashed leader lets a waiter take over.
"""

from __future__ import annotations

import threading
from collections.abc import Awaitable, Callable, Hashable
from typing import TypeVar

from cognises.aio._jwks import _Flight, _Interrupted
from cognises.errors import CognisesError

__all__ = ["Flights"]

T = TypeVar("T")


class Flights:
    """Single flight per key."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._flights: dict[Hashable, _Flight] = {}

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
                    flight = self._flights[key] = _Flight()
            if leader:
                return await self._lead(key, fetch, flight)
            error = await flight.wait()
            if isinstance(error, CognisesError):
                raise copy_of(error)
            # Success, or the leader was cancelled: look again (and maybe lead).

    async def _lead(self, key: Hashable, fetch: Callable[[], Awaitable[T]], flight: _Flight) -> T:
        error: BaseException | None = None
        try:
            return await fetch()
        except CognisesError as exc:
            error = exc
            raise
        except BaseException:
            error = _Interrupted()
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
