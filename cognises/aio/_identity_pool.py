"""AWS credentials for a signed-in user, from a Cognito identity pool, for their group's role.

The ID token is verified first (an unverified token never reaches AWS); then ``GetId`` and
``GetCredentialsForIdentity`` with ``Logins={"cognito-idp.<region>.amazonaws.com/<pool>":
token}``. Both calls are unsigned (AWS documents them as such), so the service needs no
AWS credentials of its own for them. Credentials are cached per user and role until
shortly before they expire.
"""

from __future__ import annotations

import re
from collections.abc import Hashable
from datetime import datetime, timezone
from typing import Any

from cognises._claims import Claims
from cognises._credentials import AWSCredentials
from cognises._show import show
from cognises.aio._credential_cache import CredentialCache
from cognises.aio._request_calls import Meaning, call, client
from cognises.aio._verifier import CognitoVerifier, VerifierCore
from cognises.errors import (
    AWSUnavailableError,
    ConfigurationError,
    InvalidTokenUseError,
    PermissionDenied,
    TokenRefusedError,
)

__all__ = ["IdentityPool", "IdentityPoolCore"]

_IDENTITY_POOL_ID = re.compile(r"[a-z]{2}(-[a-z]+)+-\d+:[0-9a-f-]{36}")


class IdentityPoolCore:
    """Configuration, caches and the AWS calls shared by the async and the sync pool.

    ``identity_pool_id``: the identity pool, such as ``eu-west-1:0a1b2c3d-...``. ``region``
    and ``user_pool_id``: the user pool whose ID tokens it accepts (its provider must be
    configured in the identity pool). ``client_ids``: the app clients whose tokens are
    accepted (for the default verifier). ``verifier``: verify with this instead (its
    pool must be ``user_pool_id``). ``endpoint_url``: the identity service's endpoint (a
    local emulator). ``cache``: a ``CredentialCache`` to share.
    """

    def __init__(
        self,
        identity_pool_id: str,
        *,
        region: str,
        user_pool_id: str,
        client_ids: str | list[str] | None = None,
        verifier: VerifierCore | None = None,
        endpoint_url: str | None = None,
        cache: CredentialCache | None = None,
    ) -> None:
        if not isinstance(identity_pool_id, str) or not _IDENTITY_POOL_ID.fullmatch(
            identity_pool_id
        ):
            raise ConfigurationError(
                "identity_pool_id: expected an identity pool id such as "
                f"'eu-west-1:0a1b2c3d-1111-2222-3333-444455556666', found {identity_pool_id!r}"
            )
        if verifier is None:
            verifier = self._make_verifier(region, user_pool_id, client_ids)
        elif verifier.user_pool_id != user_pool_id:
            raise ConfigurationError(
                f"verifier: expected one for user pool {user_pool_id!r}, found one for "
                f"{verifier.user_pool_id!r}"
            )
        self.identity_pool_id = identity_pool_id
        self.region = region
        self.user_pool_id = user_pool_id
        self.provider = f"cognito-idp.{region}.amazonaws.com/{user_pool_id}"
        self.verifier = verifier
        self.endpoint_url = endpoint_url
        self.cache = cache if cache is not None else CredentialCache()

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}({self.identity_pool_id!r}, user_pool_id={self.user_pool_id!r})"
        )

    def _make_verifier(
        self, region: str, user_pool_id: str, client_ids: str | list[str] | None
    ) -> VerifierCore:
        return CognitoVerifier(region, user_pool_id, client_ids=client_ids, token_use="id")

    def _request(self, claims: Claims, role_arn: str | None) -> Hashable:
        """Check what is asked before any AWS call; the cache key of the answer."""
        if claims.token_use != "id":
            raise InvalidTokenUseError(
                "expected an ID token for identity-pool credentials, found an access token",
                claim="token_use",
            )
        roles = claims.roles
        if role_arn is not None and role_arn not in roles:
            raise PermissionDenied(
                f"expected role_arn to be one of the token's cognito:roles, found "
                f"{show(role_arn)} among {len(roles)} role(s)"
            )
        # The identity pool chooses by these claims: a token with other roles (the user's
        # groups changed) must not be served credentials chosen for the old ones.
        return (claims.sub, role_arn, claims.preferred_role, tuple(sorted(roles)))

    async def _obtain(self, token: str, claims: Claims, role_arn: str | None) -> AWSCredentials:
        key = self._request(claims, role_arn)
        return await self.cache.obtain(key, lambda: self._fetch(token, claims, role_arn))

    async def _fetch(self, token: str, claims: Claims, role_arn: str | None) -> AWSCredentials:
        logins = {self.provider: token}
        region = self.identity_pool_id.split(":")[0]
        async with client("cognito-identity", region=region, endpoint_url=self.endpoint_url) as aws:
            for attempt in (1, 2):
                identity_id = self.cache.identity(claims.sub)
                if identity_id is None:
                    answer = await call(
                        aws.get_id, _GET_ID, IdentityPoolId=self.identity_pool_id, Logins=logins
                    )
                    identity_id = str(answer["IdentityId"])
                    self.cache.remember_identity(claims.sub, identity_id)
                params: dict[str, Any] = {"IdentityId": identity_id, "Logins": logins}
                if role_arn is not None:
                    params["CustomRoleArn"] = role_arn
                try:
                    answer = await call(
                        aws.get_credentials_for_identity, _GET_CREDENTIALS, **params
                    )
                except _IdentityGone:
                    self.cache.forget_identity(claims.sub)
                    if attempt == 2:
                        raise AWSUnavailableError(
                            "GetCredentialsForIdentity keeps answering that the identity is unknown"
                        ) from None
                    continue
                return _credentials(answer, identity_id, role_arn or claims.preferred_role)
        raise AssertionError("unreachable")  # pragma: no cover


class _IdentityGone(Exception):
    pass


_MEANINGS: dict[str, Meaning] = {
    "NotAuthorizedException": lambda code, said: TokenRefusedError(
        f"the identity pool refused the token: {said}"
    ),
    "InvalidIdentityPoolConfigurationException": lambda code, said: PermissionDenied(
        f"the identity pool gives this user no role: {code}: {said}"
    ),
    "InvalidParameterException": lambda code, said: PermissionDenied(
        f"the identity pool gives this user no role: {code}: {said}"
    ),
}
_GET_ID = {
    **_MEANINGS,
    "ResourceNotFoundException": lambda code, said: ConfigurationError(
        f"expected an existing identity pool, found {code}: {said}"
    ),
}
# The identity was deleted since its id was learnt: ask for it again.
_GET_CREDENTIALS = {**_MEANINGS, "ResourceNotFoundException": lambda code, said: _IdentityGone()}


def _credentials(answer: dict[str, Any], identity_id: str, role_arn: str | None) -> AWSCredentials:
    given = answer["Credentials"]
    expiration = given["Expiration"]
    if not isinstance(expiration, datetime):
        expiration = datetime.fromtimestamp(float(expiration), tz=timezone.utc)
    return AWSCredentials(
        access_key_id=given["AccessKeyId"],
        secret_access_key=given["SecretKey"],
        session_token=given["SessionToken"],
        expiration=expiration,
        identity_id=str(answer.get("IdentityId") or identity_id),
        role_arn=role_arn,
    )


class IdentityPool(IdentityPoolCore):
    __doc__ = IdentityPoolCore.__doc__

    async def credentials(self, id_token: str, *, role_arn: str | None = None) -> AWSCredentials:
        """Credentials for the token's user: for ``role_arn`` (one of the token's
        ``cognito:roles``), or the role the identity pool's rules choose.

        Raises ``TokenError`` (the token is not valid, or AWS refused it),
        ``PermissionDenied`` (no such role in the token, or no role for the user) or
        ``AWSUnavailableError`` (try again later).
        """
        claims = self.verifier.verify_cached(id_token)
        if claims is None:
            claims = await self.verifier.fetch_and_verify(id_token)
        return await self._obtain(id_token, claims, role_arn)

    async def session(self, id_token: str, *, role_arn: str | None = None) -> Any:
        """An ``aioboto3.Session`` calling AWS as the user's role."""
        import aioboto3

        credentials = await self.credentials(id_token, role_arn=role_arn)
        return aioboto3.Session(
            **credentials.as_boto3(),  # type: ignore[arg-type]
            region_name=self.region,
        )
