"""``revoke``: Cognito's ``RevokeToken``, ending one sign-in.

Revoking a refresh token makes Cognito refuse it, and every access and ID token issued
from it, in ``GetUser`` and the other calls that take a token. Verified locally, those
tokens stay good until they expire (AWS says so): refuse them sooner with the online
check, or a ``Denylist`` given to ``is_revoked``.
"""

from __future__ import annotations

from cognises._names import check_region
from cognises.aio._request_calls import Meaning, call, client
from cognises.errors import ConfigurationError, TokenRefusedError

__all__ = ["revoke"]


def _misconfigured(code: str, message: str) -> BaseException:
    return ConfigurationError(
        f"RevokeToken: expected an app client that may revoke this token, found {code}: {message}"
    )


def _refused(code: str, message: str) -> BaseException:
    return TokenRefusedError(f"RevokeToken: expected a refresh token, found {code}: {message}")


_REVOKE: dict[str, Meaning] = {
    "UnauthorizedException": _misconfigured,
    "UnsupportedOperationException": _misconfigured,
    "UnsupportedTokenTypeException": _refused,
    "InvalidParameterException": _refused,
}


async def revoke(
    refresh_token: str,
    *,
    client_id: str,
    client_secret: str | None = None,
    region: str,
    endpoint_url: str | None = None,
) -> None:
    """Revoke ``refresh_token`` (issued to app client ``client_id``) and its tokens.

    ``client_secret``: the client's secret, for a confidential client. Raises
    ``ConfigurationError`` when the client may not revoke it (another client's token,
    revocation turned off), ``TokenRefusedError`` when it is no refresh token, and
    ``AWSUnavailableError`` when Cognito cannot be reached. A refresh token Cognito does
    not know is revoked silently, as RFC 7009 asks.
    """
    check_region(region, "region")
    if not isinstance(refresh_token, str) or not refresh_token:
        raise ConfigurationError("revoke: expected a refresh token (a non-empty string)")
    if not isinstance(client_id, str) or not client_id:
        raise ConfigurationError(f"revoke: expected a client_id, found {client_id!r}")
    params = {"Token": refresh_token, "ClientId": client_id}
    if client_secret is not None:
        params["ClientSecret"] = client_secret
    async with client("cognito-idp", region=region, endpoint_url=endpoint_url) as cognito:
        await call(cognito.revoke_token, _REVOKE, **params)
