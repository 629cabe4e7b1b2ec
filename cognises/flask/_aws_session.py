"""The signed-in user's AWS session, for the role of their group (a Cognito identity pool).

``COGNISES_IDENTITY_POOL_ID`` names the identity pool; ``COGNISES_IDENTITY_ENDPOINT_URL``
points its calls elsewhere (a local emulator). Failures take the rejection path of
``login_check``: an unusable token 401, no role for the user 403, AWS unavailable 503.
"""

from __future__ import annotations

from typing import Any

from flask import Flask, abort, current_app

from cognises.aio._credential_cache import CredentialCache
from cognises.aio._identity_pool import IdentityPool as AsyncIdentityPool
from cognises.aio._identity_pool import IdentityPoolCore
from cognises.aio._verifier import VerifierCore
from cognises.errors import AWSUnavailableError, ConfigurationError, PermissionDenied, TokenError
from cognises.flask._current import Auth, recall
from cognises.flask._extension import reject
from cognises.flask._rejection import Rejection
from cognises.flask._state import state_for
from cognises.sync import IdentityPool

__all__ = ["current_aws_session", "current_aws_session_async"]


def current_aws_session(*, role_arn: str | None = None) -> Any:
    """A ``boto3.Session`` with the current user's credentials (``def`` views).

    ``role_arn``: one of the user's ``cognito:roles``; by default the identity pool's
    rules choose (the preferred role). Only inside a view protected by ``login_check``
    with an ID token.
    """
    auth, pool = _pool(IdentityPool)
    try:
        return pool.session(auth.token, role_arn=role_arn)
    except (TokenError, PermissionDenied, AWSUnavailableError) as exc:
        _refuse(auth, exc)


async def current_aws_session_async(*, role_arn: str | None = None) -> Any:
    """An ``aioboto3.Session`` with the current user's credentials (``async def`` views)."""
    auth, pool = _pool(AsyncIdentityPool)
    try:
        return await pool.session(auth.token, role_arn=role_arn)
    except (TokenError, PermissionDenied, AWSUnavailableError) as exc:
        _refuse(auth, exc)


def _pool(kind: type[IdentityPoolCore]) -> tuple[Auth, Any]:
    auth = recall()
    verifier = _pool_verifier(auth)
    if auth is None or verifier is None:
        raise RuntimeError(
            "current_aws_session works only inside a view protected by login_check, once "
            "its token has been verified"
        )
    app: Flask = current_app._get_current_object()  # type: ignore[attr-defined]
    identity_pool_id = app.config.get("COGNISES_IDENTITY_POOL_ID")
    if not isinstance(identity_pool_id, str):
        raise ConfigurationError(
            "current_aws_session needs COGNISES_IDENTITY_POOL_ID, the identity pool that "
            f"hands out the group roles' credentials; found {identity_pool_id!r}"
        )
    endpoint = app.config.get("COGNISES_IDENTITY_ENDPOINT_URL")
    state = state_for(app)
    # One cache per app, shared by the blocking and the async pool of each verifier.
    cache = state.memo("identity-credentials", CredentialCache)
    pool = state.memo(
        (kind, id(verifier), identity_pool_id, endpoint),
        lambda: kind(
            identity_pool_id,
            region=verifier.region,
            user_pool_id=verifier.user_pool_id,
            verifier=verifier,
            endpoint_url=endpoint,
            cache=cache,
        ),
    )
    return auth, pool


def _pool_verifier(auth: Auth | None) -> VerifierCore | None:
    """The verifier of the pool that issued the request's token."""
    if auth is None:
        return None
    if isinstance(auth.verifier, VerifierCore):
        return auth.verifier
    # A MultiPoolVerifier: the pool whose issuer the token names.
    issuer = auth.claims.get("iss")
    for pool in getattr(auth.verifier, "pools", ()):
        if issuer in pool.issuers:
            return pool  # type: ignore[no-any-return]
    return None


def _refuse(auth: Auth, error: Exception) -> Any:
    if isinstance(error, TokenError):
        rejection = Rejection.bad_token(error, realm=auth.realm, expired=False)
    elif isinstance(error, PermissionDenied):
        rejection = Rejection.forbidden(error, realm=auth.realm)
    else:
        assert isinstance(error, AWSUnavailableError)
        rejection = Rejection.unavailable(error, retry_after=error.retry_after)
    abort(reject(rejection))
