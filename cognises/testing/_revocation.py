"""Cognito's ``RevokeToken``, which moto 5.2 lacks, in front of its WSGI app.

As the API reference describes it: ``RevokeToken`` revokes a refresh token and every
access and ID token issued from it (they share its ``origin_jti``). Afterwards:

- ``GetUser`` with such an access token answers ``NotAuthorizedException`` ("Access Token
  has been revoked"), as AWS does; verifying the token's signature and expiry still
  succeeds, as AWS warns;
- ``InitiateAuth`` / ``AdminInitiateAuth`` with ``REFRESH_TOKEN_AUTH`` (or
  ``REFRESH_TOKEN``) and that refresh token answers ``NotAuthorizedException``.

``RevokeToken`` itself: the ``ClientId`` must be the client the token was issued to
(``UnauthorizedException`` otherwise); a token it never issued is accepted silently, as
RFC 7009 asks of a revocation endpoint. Where this may differ from AWS: AWS also refuses
revocation for clients with token revocation disabled (``UnsupportedOperationException``)
and checks a confidential client's ``ClientSecret``; neither is emulated. moto's own
``GlobalSignOut`` and ``AdminUserGlobalSignOut`` are left to moto, which honours them in
``GetUser``.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterable
from typing import Any

from cognises.testing._wsgi import (
    StartResponse,
    WSGIApp,
    call,
    json_answer,
    json_error,
    read_json,
    unverified_claims,
)

__all__ = ["RevocationExtras"]

_IDP = "AWSCognitoIdentityProviderService."
_AUTH_ACTIONS = frozenset({"AdminInitiateAuth", "InitiateAuth", "RespondToAuthChallenge"})
_REFRESH_FLOWS = frozenset({"REFRESH_TOKEN_AUTH", "REFRESH_TOKEN"})


class RevocationExtras:
    """WSGI middleware: ``RevokeToken``, and the refusals that follow it."""

    def __init__(self, app: WSGIApp) -> None:
        self.app = app
        self._lock = threading.Lock()
        # refresh token -> (client id, origin_jti), learnt from the answers that issued it.
        self._issued: dict[str, tuple[str, str]] = {}
        self.revoked: set[str] = set()  # origin_jti values
        self.calls: list[str] = []

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        target = environ.get("HTTP_X_AMZ_TARGET", "")
        if not target.startswith(_IDP):
            return self.app(environ, start_response)
        action = target[len(_IDP) :]
        if action == "RevokeToken":
            with self._lock:
                self.calls.append(action)
            return self._revoke(read_json(environ), start_response)
        if action == "GetUser":
            with self._lock:
                self.calls.append(action)
            origin = unverified_claims(read_json(environ).get("AccessToken")).get("origin_jti")
            if origin in self.revoked:
                return json_error(
                    start_response, "NotAuthorizedException", "Access Token has been revoked"
                )
            return self.app(environ, start_response)
        if action in _AUTH_ACTIONS:
            return self._auth(environ, start_response)
        return self.app(environ, start_response)

    def _revoke(self, request: dict[str, Any], start_response: StartResponse) -> list[bytes]:
        token, client = request.get("Token"), request.get("ClientId")
        if not isinstance(token, str) or not isinstance(client, str):
            return json_error(
                start_response, "InvalidParameterException", "Token and ClientId are required"
            )
        with self._lock:
            issued = self._issued.get(token)
            if issued is not None:
                if issued[0] != client:
                    return json_error(
                        start_response, "UnauthorizedException", "Invalid client for the token"
                    )
                self.revoked.add(issued[1])
        return json_answer(start_response, b"{}")

    def _auth(self, environ: dict[str, Any], start_response: StartResponse) -> list[bytes]:
        request = read_json(environ)
        if request.get("AuthFlow") in _REFRESH_FLOWS:
            refresh = (request.get("AuthParameters") or {}).get("REFRESH_TOKEN")
            with self._lock:
                issued = self._issued.get(refresh) if isinstance(refresh, str) else None
            if issued is not None and issued[1] in self.revoked:
                return json_error(
                    start_response, "NotAuthorizedException", "Refresh Token has been revoked"
                )
        status, headers, body = call(self.app, environ)
        if status.startswith("200"):
            self._learn(json.loads(body), request)
        return json_answer(start_response, body, status, headers)

    def _learn(self, answer: dict[str, Any], request: dict[str, Any]) -> None:
        result = answer.get("AuthenticationResult") or {}
        refresh = result.get("RefreshToken")
        if not isinstance(refresh, str):
            return
        claims = unverified_claims(result.get("AccessToken"))
        origin, client = claims.get("origin_jti"), claims.get("client_id")
        if isinstance(origin, str) and isinstance(client, str):
            with self._lock:
                self._issued[refresh] = (client, origin)
