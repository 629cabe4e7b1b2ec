"""The ALB key cache: one PEM public key per kid, fetched once, shared by threads and loops.

An ALB publishes each signing key at its own URL, ``<base>/<kid>``, and a kid never
names another key: a key once fetched is kept (up to ``max_keys``) and never refreshed.
What is not known is fetched in a single flight per kid; a failed fetch, or a kid the
key server does not know, is not retried within the cooldown; and at most ``max_fetches``
fetches of new kids start per cooldown, so a stream of made-up kids cannot turn every
request into a request to AWS.

The hot path, ``cached_key``, is plain CPU work with no lock and no loop.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import load_pem_public_key

from cognises._show import show
from cognises.aio._fetch import FetchOptions, UnexpectedStatus, fetch_bytes
from cognises.aio._flight import Flight, Interrupted
from cognises.errors import CognisesError, JWKSError, UnknownKeyError

__all__ = ["AlbKeyCache", "parse_alb_key"]

log = logging.getLogger("cognises.alb")

# A PEM P-256 public key is under 200 bytes.
DEFAULT_FETCH = FetchOptions(max_bytes=8 * 1024)
# Statuses by which a key server says it has no such key (S3 answers 403 for a missing object).
_NO_SUCH_KEY = frozenset({403, 404})


def parse_alb_key(pem: bytes, *, source: str) -> ec.EllipticCurvePublicKey:
    """The P-256 public key in a PEM document, or raise ``JWKSError``."""
    try:
        key = load_pem_public_key(pem)
    except Exception as exc:  # whatever the parser trips on, the key is unusable
        raise JWKSError(f"expected a PEM public key from {source}, found none") from exc
    if not isinstance(key, ec.EllipticCurvePublicKey) or not isinstance(key.curve, ec.SECP256R1):
        raise JWKSError(f"expected an EC P-256 public key from {source}, found another kind")
    return key


class _Entry:
    __slots__ = ("failed_at", "failure", "flight", "key")

    def __init__(self) -> None:
        self.key: ec.EllipticCurvePublicKey | None = None
        self.failed_at = float("-inf")
        self.failure: CognisesError | None = None
        self.flight: Flight | None = None


class AlbKeyCache:
    """ALB public keys by kid, fetched from ``url_template`` (``{kid}`` marks the kid).

    ``cooldown``: a failed fetch of a kid is not retried within it, and at most
    ``max_fetches`` fetches of new kids start within any one cooldown. ``max_keys``
    bounds the keys (and the failures) remembered. One cache may serve many verifiers
    of the same key URL.
    """

    def __init__(
        self,
        url_template: str,
        *,
        cooldown: float = 10.0,
        max_fetches: int = 10,
        max_keys: int = 64,
        fetch: FetchOptions | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.url_template = url_template
        self.cooldown = cooldown
        self.max_fetches = max_fetches
        self.max_keys = max_keys
        self.fetch_options = fetch or DEFAULT_FETCH
        self._clock = clock
        self._entries: dict[str, _Entry] = {}
        self._recent_fetches: list[float] = []
        self._lock = threading.Lock()
        self.fetches = 0

    def url(self, kid: str) -> str:
        return self.url_template.replace("{kid}", kid)

    def load(self, kid: str, pem: bytes | str) -> None:
        """Install the PEM key of ``kid`` as if it had just been fetched (tests, shipped keys)."""
        key = parse_alb_key(pem.encode() if isinstance(pem, str) else pem, source=f"kid {kid}")
        with self._lock:
            entry = self._entry(kid)
            entry.key, entry.failure = key, None

    def retry_after(self) -> float:
        """Seconds until the last failed fetch (an outage, not an unknown kid) may be retried."""
        now = self._clock()
        failed = [e.failed_at for e in list(self._entries.values()) if type(e.failure) is JWKSError]
        return max((0.0, *(t + self.cooldown - now for t in failed)))

    def cached_key(self, kid: str) -> ec.EllipticCurvePublicKey | None:
        """The key of ``kid`` if it can be had without waiting for a fetch.

        Returns None when a fetch is needed first; raises the last fetch's error when it
        failed too recently to try again.
        """
        entry = self._entries.get(kid)
        if entry is None:
            return None
        key = entry.key
        if key is not None:
            return key
        failure = entry.failure
        if (
            failure is not None
            and entry.flight is None
            and self._clock() - entry.failed_at < self.cooldown
        ):
            raise _fresh(failure)
        return None

    async def get_key(self, kid: str) -> ec.EllipticCurvePublicKey:
        """The key of ``kid``, fetching it when the rules allow."""
        while True:
            key = self.cached_key(kid)
            if key is not None:
                return key
            with self._lock:
                entry = self._entries.get(kid)
                flight = entry.flight if entry is not None else None
                leader = flight is None
                if leader:
                    self._claim_fetch(kid)
                    entry = self._entry(kid)
                    flight = entry.flight = Flight()
            assert entry is not None
            assert flight is not None
            if leader:
                await self._lead(kid, entry, flight)
            elif isinstance(await flight.wait(), Interrupted):
                continue
            if entry.key is not None:
                return entry.key
            if entry.failure is not None:
                raise _fresh(entry.failure)

    def _entry(self, kid: str) -> _Entry:
        """The entry of ``kid``, made when new. Under the lock.

        When full, the oldest failure goes first, then the oldest key; an entry with a
        fetch in flight stays.
        """
        entries = self._entries
        entry = entries.get(kid)
        if entry is None:
            while len(entries) >= self.max_keys:
                idle = [k for k, e in entries.items() if e.flight is None]
                if not idle:
                    break
                del entries[next((k for k in idle if entries[k].key is None), idle[0])]
            entry = entries[kid] = _Entry()
        return entry

    def _claim_fetch(self, kid: str) -> None:
        """Count a fetch against the budget, or raise when it is spent. Under the lock."""
        now = self._clock()
        recent = [t for t in self._recent_fetches if now - t < self.cooldown]
        if len(recent) >= self.max_fetches:
            self._recent_fetches = recent
            raise UnknownKeyError(
                f"expected a kid whose key is cached, found {show(kid)} while "
                f"{len(recent)} key fetches ran in the last {self.cooldown:g}s"
            )
        recent.append(now)
        self._recent_fetches = recent
        self.fetches += 1

    async def _lead(self, kid: str, entry: _Entry, flight: Flight) -> None:
        url = self.url(kid)
        error: BaseException | None = None
        try:
            body = await fetch_bytes(
                url, self.fetch_options, what="ALB public key", accept="text/plain"
            )
            key = parse_alb_key(body, source=url)
        except Exception as exc:
            failure = _failure(exc, kid, url)
            error = failure
            with self._lock:
                entry.failure, entry.failed_at = failure, self._clock()
            log.warning("fetching the ALB key of kid %s from %s failed: %s", show(kid), url, exc)
        except BaseException:
            error = Interrupted()  # cancelled: nothing learnt, no cooldown
            raise
        else:
            with self._lock:
                entry.key, entry.failure = key, None
            log.info("fetched the ALB key of kid %s", show(kid))
        finally:
            with self._lock:
                entry.flight = None
            flight.finish(error)


def _failure(exc: Exception, kid: str, url: str) -> CognisesError:
    if isinstance(exc, UnexpectedStatus) and exc.status in _NO_SUCH_KEY:
        # The token's fault (a kid no ALB published), not an outage: 401, not 503.
        return UnknownKeyError(f"expected a kid the ALB published, found {show(kid)}")
    if isinstance(exc, JWKSError):
        return JWKSError(*exc.args)
    return JWKSError(f"could not use the ALB key from {url}: {type(exc).__name__}")


def _fresh(failure: CognisesError) -> CognisesError:
    # The stored error is raised many times from many threads: a new one each time, so
    # that its traceback does not grow (and keep frames alive) with every request.
    return type(failure)(*failure.args)
