"""The blocking ``MultiPoolVerifier``: the core's routing and hot path on the caller's thread."""

from __future__ import annotations

import functools
from typing import ClassVar

from cognises._claims import Claims
from cognises.aio._multipool import MultiPoolCore
from cognises.aio._verifier import VerifierCore
from cognises.sync._portal import call
from cognises.sync._verifier import CognitoVerifier

__all__ = ["MultiPoolVerifier"]


class MultiPoolVerifier(MultiPoolCore):
    __doc__ = MultiPoolCore.__doc__

    verifier_class: ClassVar[type[VerifierCore]] = CognitoVerifier

    def verify(self, token: str | bytes) -> Claims:
        """The token's claims if the pool that issued it accepts it; else raise ``TokenError``.

        With the keys cached this runs on the calling thread; only a key fetch goes
        through the shared event loop. Raises ``JWKSError`` when the keys cannot be had.
        """
        claims = self.verify_cached(token)
        if claims is None:
            claims = call(functools.partial(self.fetch_and_verify, token))
        return claims

    def hydrate(self) -> None:
        """Fetch every pool's keys now, ahead of the first request."""
        call(self._hydrate)
