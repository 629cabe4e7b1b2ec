"""The blocking ``IdentityPool``: cached credentials on the caller's thread, AWS via the portal."""

from __future__ import annotations

import functools
from typing import Any

from cognises._credentials import AWSCredentials
from cognises.aio._identity_pool import IdentityPoolCore
from cognises.aio._verifier import VerifierCore
from cognises.sync._portal import call
from cognises.sync._verifier import CognitoVerifier

__all__ = ["IdentityPool"]


class IdentityPool(IdentityPoolCore):
    __doc__ = IdentityPoolCore.__doc__

    def _make_verifier(
        self, region: str, user_pool_id: str, client_ids: str | list[str] | None
    ) -> VerifierCore:
        return CognitoVerifier(region, user_pool_id, client_ids=client_ids, token_use="id")

    def credentials(self, id_token: str, *, role_arn: str | None = None) -> AWSCredentials:
        """As ``cognises.aio.IdentityPool.credentials``, blocking.

        A token whose keys and credentials are cached is answered on the calling thread;
        only key and credential fetches go through cognises' shared event loop.
        """
        claims = self.verifier.verify_cached(id_token)
        if claims is None:
            claims = call(functools.partial(self.verifier.fetch_and_verify, id_token))
        cached = self.cache.fresh(self._request(claims, role_arn))
        if cached is not None:
            return cached
        return call(functools.partial(self._obtain, id_token, claims, role_arn))

    def session(self, id_token: str, *, role_arn: str | None = None) -> Any:
        """A ``boto3.Session`` calling AWS as the user's role."""
        import boto3

        credentials = self.credentials(id_token, role_arn=role_arn)
        return boto3.Session(
            **credentials.as_boto3(),  # type: ignore[arg-type]
            region_name=self.region,
        )
