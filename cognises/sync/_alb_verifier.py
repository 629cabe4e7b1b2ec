"""The blocking ``AlbVerifier``: the core's hot path on the caller's thread."""

from __future__ import annotations

import functools
from collections.abc import Mapping

from cognises._claims import Claims
from cognises.aio._alb_verifier import AlbIdentity, AlbVerifierCore
from cognises.sync._portal import call

__all__ = ["AlbVerifier"]


class AlbVerifier(AlbVerifierCore):
    __doc__ = AlbVerifierCore.__doc__

    def verify(self, token: str | bytes) -> Claims:
        """The user's claims in ``x-amzn-oidc-data`` if it passes every check.

        With the key cached this runs on the calling thread; only a key fetch goes
        through the shared event loop. Else raises a ``TokenError``; ``JWKSError`` when
        the ALB's key cannot be had.
        """
        claims = self.verify_cached(token)
        if claims is None:
            claims = call(functools.partial(self.fetch_and_verify, token))
        return claims

    def verify_request(self, headers: Mapping[str, str]) -> AlbIdentity:
        """Verify the ALB's headers of one request (a case-insensitive mapping, or one
        with lower-case names): the data token, and the access token when this verifier
        has an ``access_verifier`` (a ``cognises.sync.CognitoVerifier``).
        """
        verified = self.identity_cached(headers)
        if verified is None:
            verified = call(functools.partial(self.fetch_identity, headers))
        return verified
