"""The blocking ``CognitoVerifier``: the core's hot path on the caller's thread."""

from __future__ import annotations

import functools

from cognises._claims import Claims
from cognises.aio._verifier import VerifierCore
from cognises.sync._portal import call

__all__ = ["CognitoVerifier"]


class CognitoVerifier(VerifierCore):
    __doc__ = VerifierCore.__doc__

    def verify(self, token: str | bytes) -> Claims:
        """The token's claims if it passes every check; else raise a ``TokenError``.

        With the keys cached this runs on the calling thread; only a key fetch goes
        through the shared event loop. Raises ``JWKSError`` when the keys cannot be had.
        """
        claims = self.verify_cached(token)
        if claims is None:
            claims = call(functools.partial(self.fetch_and_verify, token))
        return claims

    def hydrate(self) -> None:
        """Fetch the pool's keys now, ahead of the first request."""
        call(functools.partial(self.jwks_cache.refresh, self.jwks_url))
