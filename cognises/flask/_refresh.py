"""Refreshing a browser's tokens before its request reaches a view, once per refresh token.

Cognito may rotate refresh tokens: each refresh answers a new one and the old one stops
working after a grace period (0 to 60 s). A page that loads ten resources at once sends ten
requests with the same expired token and the same refresh token; refreshing ten times
would, with rotation, leave nine of them holding a refresh token that was already spent.
So inside one process each refresh token is refreshed once (a single flight): the first
request calls ``/oauth2/token``, the others wait for its answer, and requests that arrive
with the same old refresh token up to ``KEEP`` seconds later get that same answer.

Another worker process does not see this process's flights. Two workers receiving the
same browser's requests at the same instant may both refresh; with rotation and a grace
period, Cognito answers both; without a grace period the second fails and that request's
browser is signed out. Run the sign-in behind sticky sessions, or give the app client a
grace period, to avoid it.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from contextvars import ContextVar
from dataclasses import dataclass

from flask import request

from cognises._oauth import TokenSet
from cognises._token import decode_object, parse
from cognises.errors import CognisesError, OAuthUnavailableError, TokenError

__all__ = [
    "KEEP",
    "RefreshFlights",
    "expires_within",
    "refreshed_token",
    "reset_refreshed",
    "set_refreshed",
]

KEEP = 60.0
"""Seconds a refresh's answer is handed to later requests carrying the same old token."""


def expires_within(token: str | None, seconds: float, now: float) -> bool:
    """Whether ``token`` is absent, unreadable, or expires within ``seconds``.

    Read without verifying: the answer only decides whether to refresh, and a forged
    ``exp`` can at worst make a browser refresh its own refresh token. Trust comes later,
    from ``login_check``.
    """
    if not token:
        return True
    try:
        _, _, payload, _ = parse(token)
        exp = decode_object(payload, "payload").get("exp")
    except TokenError:
        return True
    return not isinstance(exp, (int, float)) or isinstance(exp, bool) or exp - seconds <= now


@dataclass
class _Flight:
    done: threading.Event
    result: TokenSet | None = None
    error: CognisesError | None = None
    finished_at: float = 0.0


class RefreshFlights:
    """One refresh per refresh token at a time in this process; answers kept ``keep`` s.

    Keys are SHA-256 digests of the refresh tokens, so the table holds no token. At most
    ``limit`` finished answers are kept; the oldest go first.
    """

    def __init__(self, *, keep: float = KEEP, limit: int = 10_000, wait: float = 30.0) -> None:
        self._keep = keep
        self._limit = limit
        self._wait = wait
        self._lock = threading.Lock()
        self._flights: OrderedDict[bytes, _Flight] = OrderedDict()

    def run(self, refresh_token: str, refresh: Callable[[], TokenSet]) -> TokenSet:
        """``refresh()``'s answer for ``refresh_token``: fresh, shared, or recently made.

        Raises what ``refresh`` raised, to the request that ran it and to every request
        that waited on it.
        """
        key = hashlib.sha256(refresh_token.encode()).digest()
        now = time.monotonic()
        with self._lock:
            self._expire(now)
            flight = self._flights.get(key)
            leader = flight is None
            if flight is None:
                flight = self._flights[key] = _Flight(threading.Event())
        if leader:
            try:
                flight.result = refresh()
            except CognisesError as exc:
                flight.error = exc
            finally:
                with self._lock:
                    flight.finished_at = time.monotonic()
                    if flight.error is not None:
                        # Only waiters already here share a failure; a later request tries anew.
                        self._flights.pop(key, None)
                flight.done.set()
        elif not flight.done.wait(self._wait):
            raise OAuthUnavailableError(
                f"expected a concurrent refresh of these tokens to finish within {self._wait:g}s",
                error="temporarily_unavailable",
                status=None,
            )
        if flight.error is not None:
            raise flight.error
        assert flight.result is not None
        return flight.result

    def _expire(self, now: float) -> None:
        while self._flights:
            key, oldest = next(iter(self._flights.items()))
            finished = oldest.done.is_set()
            if finished and (
                now - oldest.finished_at > self._keep or len(self._flights) > self._limit
            ):
                del self._flights[key]
            else:
                break


# What a refresh before this request replaced: (request, old token, new token). A context
# variable rather than ``g``: read on every login_check, and ``g`` costs microseconds. Set
# to None by the sign-in hook at the start of each request; the request's identity guards
# against a value left by another app's request on this thread.
_replaced: ContextVar[tuple[object, str | None, str | None] | None] = ContextVar(
    "cognises_refreshed", default=None
)


def reset_refreshed() -> None:
    _replaced.set(None)


def set_refreshed(old: str | None, new: str | None) -> None:
    """Tell ``login_check`` that this request's cookie token ``old`` is now ``new``.

    ``new`` None: the refresh failed and the browser is signed out, so the old token
    must not be accepted either, even if it has a few seconds of leeway left.
    """
    _replaced.set((request._get_current_object(), old, new))  # type: ignore[attr-defined]


def refreshed_token(token: str | None, req: object) -> str | None:
    """The token ``login_check`` should verify for ``req`` (the request object, not its
    proxy): the refreshed one if ``token`` was replaced."""
    replaced = _replaced.get()
    if replaced is None:
        return token
    made_for, old, new = replaced
    if made_for is not req or token != old:
        return token
    return new
