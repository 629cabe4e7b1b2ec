"""Identity-pool credentials kept until shortly before they expire, fetched once at a time.

Flask runs each ``async def`` view on a new event loop in a new thread, so, as in the JWKS
cache, state is guarded by a ``threading.Lock`` and waiters on someone else's fetch are
woken on their own loop (``_Flight``). Both maps are bounded LRUs: a busy service with
many users never holds more than ``size`` of either.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Hashable
from typing import TypeVar

from cognises._credentials import AWSCredentials
from cognises.aio._flight import Flights
from cognises.errors import ConfigurationError

__all__ = ["CredentialCache", "put"]

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class CredentialCache:
    """Credentials by user and role, and identity ids by user, shared by threads and loops.

    ``refresh_margin``: seconds before ``expiration`` at which credentials count as stale
    (a caller gets at least that long to use them). ``size``: users remembered, per map.
    """

    def __init__(
        self,
        *,
        size: int = 1024,
        refresh_margin: float = 300.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if size < 1 or not refresh_margin >= 0:
            raise ConfigurationError(
                f"expected size >= 1 and refresh_margin >= 0, found {size!r} and {refresh_margin!r}"
            )
        self.size = size
        self.refresh_margin = refresh_margin
        self._clock = clock
        self._lock = threading.Lock()
        self._credentials: OrderedDict[Hashable, AWSCredentials] = OrderedDict()
        self._identities: OrderedDict[str, str] = OrderedDict()
        self._flights = Flights()

    def __len__(self) -> int:
        return len(self._credentials)

    def fresh(self, key: Hashable) -> AWSCredentials | None:
        """The credentials under ``key`` while they have more than the margin left."""
        with self._lock:
            found = self._credentials.get(key)
            if found is None:
                return None
            if found.expiration.timestamp() - self._clock() <= self.refresh_margin:
                del self._credentials[key]
                return None
            self._credentials.move_to_end(key)
            return found

    def identity(self, user: str) -> str | None:
        with self._lock:
            found = self._identities.get(user)
            if found is not None:
                self._identities.move_to_end(user)
            return found

    def remember_identity(self, user: str, identity_id: str) -> None:
        with self._lock:
            put(self._identities, user, identity_id, self.size)

    def forget_identity(self, user: str) -> None:
        with self._lock:
            self._identities.pop(user, None)

    async def obtain(
        self, key: Hashable, fetch: Callable[[], Awaitable[AWSCredentials]]
    ) -> AWSCredentials:
        """The fresh credentials under ``key``, running ``fetch`` at most once at a time."""

        async def fetch_and_keep() -> AWSCredentials:
            credentials = await fetch()
            with self._lock:
                put(self._credentials, key, credentials, self.size)
            return credentials

        return await self._flights.run(key, fetch_and_keep, found=lambda: self.fresh(key))


def put(store: OrderedDict[K, V], key: K, value: V, size: int) -> None:
    store[key] = value
    store.move_to_end(key)
    while len(store) > size:
        store.popitem(last=False)
