"""The JWKS cache: keys by URL and kid, shared by verifiers, threads and event loops.

Flask runs every ``async def`` view on a new event loop in a new thread, so nothing here
may outlive the loop it was made on: state is guarded by a ``threading.Lock``, and
callers waiting on someone else's fetch are woken on their own loop.

The hot path, ``cached_key``, is plain CPU work with no lock and no loop.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from cryptography.hazmat.primitives.asymmetric.rsa import RSAPublicKey

from cognises._jwk import parse_jwks
from cognises._show import show
from cognises.aio._fetch import FetchOptions, fetch_json
from cognises.aio._flight import Flight, Interrupted
from cognises.errors import JWKSError, UnknownKeyError

__all__ = ["JWKSCache"]

log = logging.getLogger("cognises.jwks")


class _Entry:
    __slots__ = ("failed_at", "failure", "fetched_at", "fetches", "flight", "keys", "tried_at")

    def __init__(self) -> None:
        self.keys: dict[str, RSAPublicKey] = {}
        self.fetched_at = float("-inf")  # last success
        self.tried_at = float("-inf")  # last attempt, successful or not
        self.failed_at = float("-inf")
        self.failure: JWKSError | None = None
        self.flight: Flight | None = None
        self.fetches = 0


class JWKSCache:
    """Signing keys fetched from JWKS URLs and kept by kid.

    ``ttl``: keys older than this are refreshed in the background while still served.
    ``cooldown``: an unknown kid makes at most one refetch per cooldown per URL, and a
    failed fetch is not retried within it. One cache may serve many verifiers.
    """

    def __init__(
        self,
        *,
        ttl: float = 3600.0,
        cooldown: float = 10.0,
        fetch: FetchOptions | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.ttl = ttl
        self.cooldown = cooldown
        self.fetch_options = fetch or FetchOptions()
        self._clock = clock
        self._entries: dict[str, _Entry] = {}
        self._lock = threading.Lock()

    def fetch_count(self, url: str) -> int:
        """How many fetches of ``url`` were started."""
        entry = self._entries.get(url)
        return entry.fetches if entry else 0

    def current(self, url: str, kid: str) -> RSAPublicKey | None:
        """The key now cached under ``kid``; no fetch, no checks."""
        entry = self._entries.get(url)
        return entry.keys.get(kid) if entry else None

    def retry_after(self, url: str) -> float:
        """Seconds until a failed fetch of ``url`` may be retried (0 when it may now)."""
        entry = self._entries.get(url)
        if entry is None:
            return 0.0
        return max(0.0, entry.failed_at + self.cooldown - self._clock())

    def load(self, url: str, document: Any) -> None:
        """Install a JWKS document for ``url`` as if it had just been fetched.

        For tests and for key sets shipped with the app; raises ``JWKSError`` when the
        document holds no usable key.
        """
        keys = parse_jwks(document, source=url)
        with self._lock:
            entry = self._entries.setdefault(url, _Entry())
            entry.keys, entry.failure = keys, None
            entry.fetched_at = entry.tried_at = self._clock()

    def cached_key(self, url: str, kid: str) -> RSAPublicKey | None:
        """The key for ``kid`` if it can be had without waiting for a fetch.

        Returns None when a fetch is needed first. Raises ``UnknownKeyError`` when the kid
        is unknown and a refetch was made too recently, ``JWKSError`` when no key can be
        had and the last fetch failed too recently to try again.
        """
        entry = self._entries.get(url)
        if entry is None:
            return None
        key = entry.keys.get(kid)
        now = self._clock()
        if key is not None:
            if now - entry.fetched_at >= self.ttl:
                self._refresh_in_background(url, entry)
            return key
        if entry.flight is not None or now - entry.tried_at >= self.cooldown:
            return None
        if not entry.keys and entry.failure is not None:
            raise _fresh(entry.failure)
        raise UnknownKeyError(
            f"expected a kid from the key set at {url}, found {show(kid)} "
            f"(refetched {now - entry.tried_at:.1f}s ago; next refetch allowed after "
            f"{self.cooldown:g}s)"
        )

    async def get_key(self, url: str, kid: str) -> RSAPublicKey:
        """The key for ``kid``, fetching the key set when the rules allow it."""
        while True:
            key = self.cached_key(url, kid)
            if key is not None:
                return key
            await self._fetch_once(url)
            # A fetch happened (ours or a concurrent one): answer from what it brought.
            key = self.current(url, kid)
            if key is not None:
                return key
            entry = self._entries[url]
            if not entry.keys and entry.failure is not None:
                raise _fresh(entry.failure)
            if entry.flight is None:
                raise UnknownKeyError(
                    f"expected a kid from the key set at {url}, found {show(kid)}"
                )

    async def refresh(self, url: str) -> None:
        """Fetch ``url`` now (joining a fetch in progress); raise ``JWKSError`` on failure."""
        await self._fetch_once(url)
        failure = self._entries[url].failure
        if failure is not None:
            raise _fresh(failure)

    async def _fetch_once(self, url: str) -> None:
        """Run one fetch of ``url``, or wait for the one already running."""
        while True:
            with self._lock:
                entry = self._entries.setdefault(url, _Entry())
                flight = entry.flight
                if flight is None:
                    flight = entry.flight = Flight()
                    previous_try, entry.tried_at = entry.tried_at, self._clock()
                    entry.fetches += 1
                    leader = True
                else:
                    leader = False
            if leader:
                await self._lead(url, entry, flight, previous_try)
                return
            if not isinstance(await flight.wait(), Interrupted):
                return

    async def _lead(self, url: str, entry: _Entry, flight: Flight, previous_try: float) -> None:
        error: BaseException | None = None
        try:
            keys = parse_jwks(await fetch_json(url, self.fetch_options), source=url)
        except Exception as exc:
            failure = (
                exc
                if isinstance(exc, JWKSError)
                else JWKSError(f"could not use the JWKS from {url}: {type(exc).__name__}")
            )
            error = failure
            self._record_failure(url, entry, failure)
        except BaseException:
            # Cancelled: nothing was learnt, so this attempt must not start a cooldown.
            error = Interrupted()
            entry.tried_at = previous_try
            raise
        else:
            with self._lock:
                if keys.keys() != entry.keys.keys():
                    log.info("key set from %s now holds kids %s", url, show(sorted(keys), 400))
                entry.keys, entry.fetched_at, entry.failure = keys, self._clock(), None
        finally:
            with self._lock:
                entry.flight = None
            flight.finish(error)

    def _record_failure(self, url: str, entry: _Entry, exc: JWKSError) -> None:
        with self._lock:
            # A copy: the original's traceback and cause would keep the fetch's frames alive.
            entry.failure, entry.failed_at = _fresh(exc), self._clock()
        if entry.keys:
            log.warning(
                "refreshing keys from %s failed, still serving the cached ones: %s", url, exc
            )
        else:
            log.error("fetching keys from %s failed: %s", url, exc)

    def _refresh_in_background(self, url: str, entry: _Entry) -> None:
        with self._lock:
            if entry.flight is not None or self._clock() - entry.tried_at < self.cooldown:
                return
            # Claim the slot now so that concurrent verifies don't start threads too.
            entry.tried_at = self._clock()
        # A thread with its own loop: the caller's loop may close (Flask) before we finish.
        threading.Thread(
            target=_run_in_new_loop, args=(self._fetch_once, url), name="cognises-jwks", daemon=True
        ).start()


def _fresh(failure: JWKSError) -> JWKSError:
    # The stored error is shared by threads and raised many times: raising it again would
    # grow its traceback (and keep every frame alive) with each request.
    return JWKSError(*failure.args)


def _run_in_new_loop(fetch: Callable[[str], Any], url: str) -> None:
    asyncio.run(fetch(url))
