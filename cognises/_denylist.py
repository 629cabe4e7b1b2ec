"""An in-process denylist of sign-ins, to plug into a verifier's ``is_revoked``.

Keyed on ``origin_jti``: Cognito gives every access and ID token issued from one refresh
token (one sign-in, refreshes included) the same ``origin_jti``, so one entry refuses them
all. A token without one is matched by its ``jti``.

An entry is kept until the tokens it names have expired (``until``, by default the
``exp`` of the token it was made from), then dropped. Tokens refreshed from the same
refresh token share its ``origin_jti`` but expire later: revoke the refresh token too
(``cognises.aio.revoke``) so that none are issued, or pass ``until`` as the refresh
token's own expiry.

Bounded by ``size``. When every entry is still live, ``add`` raises
``ConfigurationError`` instead of dropping one: dropping would let a revoked token back
in without a word. Size it for the revocations you expect within a token lifetime.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

from cognises._claims import Claims
from cognises.errors import ConfigurationError

__all__ = ["Denylist"]


class Denylist:
    """Revoked sign-ins by ``origin_jti``; call it with verified claims: True if revoked.

    ``size``: live entries at most (see the module's note on a full list). ``clock``: wall
    clock seconds, compared with ``exp`` (tests pass their own).
    """

    def __init__(self, *, size: int = 100_000, clock: Callable[[], float] = time.time) -> None:
        if not isinstance(size, int) or size < 1:
            raise ConfigurationError(f"Denylist: expected size >= 1, found {size!r}")
        self.size = size
        self._clock = clock
        self._lock = threading.Lock()
        self._until: dict[str, float] = {}

    def __len__(self) -> int:
        return len(self._until)

    def __contains__(self, key: object) -> bool:
        return key in self._until

    def __call__(self, claims: Claims) -> bool:
        """True when the token's sign-in was revoked and the entry has not expired."""
        until = self._until
        if not until:
            return False
        data = claims._data
        for key in (data.get("origin_jti"), data.get("jti")):
            if isinstance(key, str):
                found = until.get(key)
                if found is not None and self._clock() < found:
                    return True
        return False

    def add(
        self, claims: Claims | None = None, *, key: str | None = None, until: float | None = None
    ) -> str:
        """Revoke the sign-in of ``claims`` (or ``key``, an ``origin_jti``) until ``until``
        (seconds since the epoch; default: the token's ``exp``). Returns the key."""
        if claims is not None:
            data: dict[str, Any] = claims._data
            origin = data.get("origin_jti")
            key = origin if isinstance(origin, str) else data.get("jti")
            if until is None and isinstance(data.get("exp"), (int, float)):
                until = float(data["exp"])
        if not isinstance(key, str) or not key:
            raise ConfigurationError(
                "Denylist.add: expected claims with an origin_jti or jti, or a key, found none"
            )
        if until is None:
            raise ConfigurationError(
                "Denylist.add: expected until (seconds since the epoch) with a bare key"
            )
        with self._lock:
            if key not in self._until and len(self._until) >= self.size:
                self._purge()
                if len(self._until) >= self.size:
                    raise ConfigurationError(
                        f"Denylist full: {self.size} revocations, none expired yet; not "
                        "dropping one (that would un-revoke it): make size larger"
                    )
            self._until[key] = max(until, self._until.get(key, until))
        return key

    def purge(self) -> int:
        """Drop the entries whose tokens have expired; return how many are left."""
        with self._lock:
            self._purge()
            return len(self._until)

    def _purge(self) -> None:
        now = self._clock()
        for key in [k for k, until in self._until.items() if until <= now]:
            del self._until[key]
