"""The OAuth 2.0 wire format of Cognito's managed login, as pure functions: no I/O.

PKCE (RFC 7636, S256 only: Cognito accepts no other method), the URLs of the managed-login
endpoints, and the reading of ``/oauth2/token`` answers (RFC 6749 sections 5.1 and 5.2).
Everything read from the server is bounded and type-checked before use; a bad answer is an
``OAuthUnavailableError``, a refusal an ``OAuthError`` carrying the server's error code.
"""

from __future__ import annotations

import base64
import hashlib
import re
import secrets
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode, urlsplit

import orjson

from cognises.errors import ConfigurationError, OAuthError, OAuthUnavailableError

__all__ = [
    "MAX_BODY",
    "Endpoints",
    "TokenSet",
    "code_challenge",
    "error_from_body",
    "new_secret",
    "parse_token_body",
]

MAX_BODY = 64 * 1024
"""Bytes read of any answer of the token or revoke endpoint: Cognito's are a few KiB."""

_MAX_TOKEN = 16 * 1024
# RFC 6749 appendix A.7: error codes are printable ASCII without " and \; we are stricter,
# since the code may end up in a page or a log line.
_ERROR_CODE = re.compile(r"[a-z0-9_]{1,64}")


def new_secret() -> str:
    """A fresh random value for ``state``, ``nonce`` or a PKCE verifier: 256 bits, base64url.

    43 characters, the shortest verifier RFC 7636 allows, and drawn from its alphabet.
    """
    return secrets.token_urlsafe(32)


def code_challenge(verifier: str) -> str:
    """The S256 challenge of a PKCE verifier: base64url(SHA-256(verifier)), unpadded."""
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


@dataclass(frozen=True)
class Endpoints:
    """The managed-login endpoints of one app client on one user-pool domain.

    ``domain`` is the domain's base URL (``https://auth.example.com`` or
    ``https://<prefix>.auth.<region>.amazoncognito.com``); a bare host name means https.
    http is accepted only for a loopback host (a local authorization server in tests).
    """

    domain: str
    client_id: str
    client_secret: str | None = field(default=None, repr=False)
    timeout: float = 10.0

    def __post_init__(self) -> None:
        domain = self.domain if "://" in self.domain else f"https://{self.domain}"
        parts = urlsplit(domain)
        loopback = parts.hostname in ("localhost", "127.0.0.1", "::1")
        if (
            not parts.hostname
            or parts.scheme not in ("https", "http")
            or (parts.scheme == "http" and not loopback)
            or parts.query
            or parts.fragment
            or parts.path not in ("", "/")
        ):
            raise ConfigurationError(
                "COGNISES_DOMAIN: expected the managed-login domain, an https URL with no "
                f"path (http only on a loopback host), found {self.domain!r}"
            )
        object.__setattr__(self, "domain", domain.rstrip("/"))
        if not self.client_id:
            raise ConfigurationError("COGNISES_CLIENT_ID: expected the app client id, found none")

    @property
    def token_url(self) -> str:
        return f"{self.domain}/oauth2/token"

    @property
    def revoke_url(self) -> str:
        return f"{self.domain}/oauth2/revoke"

    def authorize_url(self, **params: str) -> str:
        return f"{self.domain}/oauth2/authorize?{urlencode(params)}"

    def logout_url(self, logout_uri: str) -> str:
        query = urlencode({"client_id": self.client_id, "logout_uri": logout_uri})
        return f"{self.domain}/logout?{query}"


@dataclass(frozen=True)
class TokenSet:
    """What ``/oauth2/token`` answered: tokens, not yet verified.

    ``refresh_token`` is None when a refresh did not rotate it (keep the old one).
    """

    id_token: str = field(repr=False)
    access_token: str = field(repr=False)
    refresh_token: str | None = field(repr=False)
    expires_in: int


def parse_token_body(body: bytes, where: str) -> TokenSet:
    """Read a 200 answer of the token endpoint, or raise ``OAuthUnavailableError``."""
    data = _json_object(body, where)
    token_type = data.get("token_type")
    if not isinstance(token_type, str) or token_type.lower() != "bearer":
        raise _bad_answer(where, "token_type 'Bearer'")
    id_token, access_token = data.get("id_token"), data.get("access_token")
    refresh = data.get("refresh_token")
    if not _is_token(id_token) or not _is_token(access_token):
        raise _bad_answer(where, "an id_token and an access_token")
    if refresh is not None and not _is_token(refresh):
        raise _bad_answer(where, "a refresh_token that is a string, or none")
    expires_in = data.get("expires_in", 3600)
    if type(expires_in) is not int or expires_in <= 0:
        raise _bad_answer(where, "expires_in a positive integer")
    assert isinstance(id_token, str)
    assert isinstance(access_token, str)
    return TokenSet(id_token, access_token, refresh, expires_in)


def error_from_body(status: int, body: bytes, where: str) -> OAuthError:
    """The error an answer other than 200 means (RFC 6749 section 5.2).

    A 400 or 401 with a JSON ``error`` is the server refusing the request: ``OAuthError``
    with its code. Anything else (5xx, HTML from a proxy, a garbled body) says nothing
    about the request: ``OAuthUnavailableError``.
    """
    if status in (400, 401):
        try:
            data = _json_object(body, where)
        except OAuthUnavailableError:
            data = {}
        code = data.get("error")
        if isinstance(code, str) and _ERROR_CODE.fullmatch(code):
            return OAuthError(
                f"expected tokens from {where}, found error {code!r} (HTTP {status})",
                error=code,
                status=status,
            )
    return OAuthUnavailableError(
        f"expected an answer of the authorization server from {where}, found HTTP {status}",
        error="server_error" if status >= 500 else "invalid_response",
        status=status,
    )


def _json_object(body: bytes, where: str) -> dict[str, Any]:
    try:
        data = orjson.loads(body)
    except orjson.JSONDecodeError:
        raise _bad_answer(where, "a JSON object") from None
    if not isinstance(data, dict):
        raise _bad_answer(where, "a JSON object")
    return data


def _is_token(value: object) -> bool:
    return isinstance(value, str) and 0 < len(value) <= _MAX_TOKEN and value.isascii()


def _bad_answer(where: str, expected: str) -> OAuthUnavailableError:
    return OAuthUnavailableError(
        f"expected {expected} in the answer of {where}, found otherwise",
        error="invalid_response",
        status=200,
    )
