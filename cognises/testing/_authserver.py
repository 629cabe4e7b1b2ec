"""``LocalManagedLogin``: Cognito's managed-login endpoints on 127.0.0.1, for tests and the demo.

moto serves Cognito's API but not the user-pool domain. This server follows AWS's pages for
``/oauth2/authorize`` (here: a sign-in form, posting to ``/login``), ``/oauth2/token``
(``authorization_code`` with PKCE, ``refresh_token`` with optional rotation),
``/oauth2/revoke`` and ``/logout``, and signs tokens with a ``LocalIssuer``'s key.

Where it differs from AWS, knowingly:
- one app client, local users only (no federation, MFA, sign-up, password reset, or
  ``/oauth2/userInfo``); the password is checked as given, no policies;
- only ``response_type=code`` (no implicit grant), PKCE S256 optional as at AWS;
- refresh tokens are random opaque strings, not Cognito's encrypted JWTs; a revoked refresh
  token's ID and access tokens still verify (as they do at AWS with any verifier that
  checks signature and expiry only);
- every token-endpoint error is HTTP 400 with ``{"error": "<code>"}``, as AWS's page shows;
- the managed-login session is a cookie on this host, forgotten at ``/logout``.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote_plus, urlencode

import orjson
from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server
from werkzeug.wrappers import Request, Response

from cognises.testing._issuer import LocalIssuer
from cognises.testing._login_page import error_page, login_form

__all__ = ["LocalManagedLogin"]

_CODE_TTL = 300.0  # AWS: authorization codes are valid for five minutes
_SESSION_COOKIE = "cognito"
_AUTHORIZE_PARAMS = (
    "response_type",
    "client_id",
    "redirect_uri",
    "scope",
    "state",
    "nonce",
    "code_challenge",
    "code_challenge_method",
)
_KNOWN_SCOPES = frozenset({"openid", "email", "profile", "phone", "aws.cognito.signin.user.admin"})


@dataclass
class _User:
    password: str
    groups: list[str]
    email: str


@dataclass
class _Grant:
    username: str
    scopes: list[str]
    origin_jti: str
    auth_time: int
    redirect_uri: str = ""
    nonce: str | None = None
    challenge: str | None = None
    issued: float = field(default_factory=time.monotonic)
    spent_at: float | None = None


class _Handler(WSGIRequestHandler):
    def log_request(self, *args: Any, **kwargs: Any) -> None:
        pass


class LocalManagedLogin:
    """A local managed login for one app client; use as a context manager, or ``start()``.

    ``url`` is its base URL: the app's ``COGNISES_DOMAIN``. ``calls`` counts requests per
    grant type (``"authorization_code"``, ``"refresh_token"``) and ``"revoke"``, for tests.
    ``token_lifetime`` (seconds) applies to ID and access tokens; with
    ``rotate_refresh_tokens`` each refresh answers a new refresh token and the old one
    stops working ``grace_period`` seconds later.
    """

    def __init__(
        self,
        issuer: LocalIssuer,
        *,
        redirect_uris: Iterable[str],
        logout_uris: Iterable[str] = (),
        client_secret: str | None = None,
        token_lifetime: int = 3600,
        rotate_refresh_tokens: bool = False,
        grace_period: float = 0.0,
    ) -> None:
        self.issuer = issuer
        self.client_id = issuer.client_id
        self.client_secret = client_secret
        self.redirect_uris = list(redirect_uris)
        self.logout_uris = list(logout_uris)
        self.token_lifetime = token_lifetime
        self.rotate_refresh_tokens = rotate_refresh_tokens
        self.grace_period = grace_period
        self.calls: Counter[str] = Counter()
        self._users: dict[str, _User] = {}
        self._codes: dict[str, _Grant] = {}
        self._refresh: dict[str, _Grant] = {}
        self._sessions: dict[str, str] = {}
        self._lock = threading.Lock()
        self._server: BaseWSGIServer | None = None
        self._thread: threading.Thread | None = None

    def add_user(
        self, username: str, password: str, *, groups: Iterable[str] = (), email: str | None = None
    ) -> None:
        self._users[username] = _User(password, list(groups), email or f"{username}@example.com")

    @property
    def url(self) -> str:
        if self._server is None:
            raise RuntimeError("LocalManagedLogin is not started")
        return f"http://127.0.0.1:{self._server.server_port}"

    def start(self) -> LocalManagedLogin:
        self._server = make_server(
            "127.0.0.1", 0, self._wsgi, threaded=True, request_handler=_Handler
        )
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name="cognises-managed-login",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        server, thread = self._server, self._thread
        if server is not None and thread is not None:
            server.shutdown()
            server.server_close()
            thread.join()
        self._server = self._thread = None

    def __enter__(self) -> LocalManagedLogin:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- WSGI ---------------------------------------------------------------------------

    def _wsgi(self, environ: dict[str, Any], start_response: Any) -> Any:
        request = Request(environ)
        route = {
            ("GET", "/oauth2/authorize"): self._authorize,
            ("POST", "/login"): self._login,
            ("POST", "/oauth2/token"): self._token,
            ("POST", "/oauth2/revoke"): self._revoke,
            ("GET", "/logout"): self._logout,
            ("GET", "/error"): self._error,
        }.get((request.method, request.path))
        response = route(request) if route else Response("Not Found", status=404)
        return response(environ, start_response)

    def _authorize(self, request: Request) -> Response:
        params = {k: request.args[k] for k in _AUTHORIZE_PARAMS if k in request.args}
        problem = self._check_authorize(params)
        if problem is not None:
            return problem
        username = self._sessions.get(request.cookies.get(_SESSION_COOKIE, ""))
        if username is not None:
            return self._issue_code(params, username)
        return _html(login_form(params))

    def _check_authorize(self, params: dict[str, str]) -> Response | None:
        if params.get("client_id") != self.client_id or params.get("redirect_uri") not in (
            self.redirect_uris
        ):
            # AWS shows its error page rather than redirect to a URL it does not trust.
            return _redirect("/error?" + urlencode({"error": "redirect_mismatch"}))
        back = params["redirect_uri"]
        state = {"state": params["state"]} if "state" in params else {}
        if params.get("response_type") != "code":
            return _redirect(_with_query(back, error="unsupported_response_type", **state))
        scopes = params.get("scope", "openid").split()
        method = params.get("code_challenge_method")
        if not set(scopes) <= _KNOWN_SCOPES:
            return _redirect(_with_query(back, error="invalid_scope", **state))
        if ("code_challenge" in params) != (method is not None) or method not in (None, "S256"):
            return _redirect(_with_query(back, error="invalid_request", **state))
        return None

    def _login(self, request: Request) -> Response:
        params = {k: request.form[k] for k in _AUTHORIZE_PARAMS if k in request.form}
        problem = self._check_authorize(params)
        if problem is not None:
            return problem
        username = request.form.get("username", "")
        user = self._users.get(username)
        if user is None or not hmac.compare_digest(
            user.password.encode(), request.form.get("password", "").encode()
        ):
            return _html(login_form(params, error="Incorrect username or password."), 400)
        session = secrets.token_urlsafe(24)
        self._sessions[session] = username
        response = self._issue_code(params, username)
        response.set_cookie(_SESSION_COOKIE, session, httponly=True, samesite="Lax", path="/")
        return response

    def _issue_code(self, params: dict[str, str], username: str) -> Response:
        code = str(uuid.uuid4())
        self._codes[code] = _Grant(
            username=username,
            scopes=params.get("scope", "openid").split(),
            origin_jti=str(uuid.uuid4()),
            auth_time=int(time.time()),
            redirect_uri=params["redirect_uri"],
            nonce=params.get("nonce"),
            challenge=params.get("code_challenge"),
        )
        state = {"state": params["state"]} if "state" in params else {}
        return _redirect(_with_query(params["redirect_uri"], code=code, **state))

    def _token(self, request: Request) -> Response:
        if request.mimetype != "application/x-www-form-urlencoded":
            return _oauth_error("invalid_request")
        refused = self._client_refusal(request)
        if refused is not None:
            return refused
        grant_type = request.form.get("grant_type")
        self.calls[grant_type or "-"] += 1
        if grant_type == "authorization_code":
            return self._redeem_code(request)
        if grant_type == "refresh_token":
            return self._redeem_refresh(request)
        return _oauth_error("unsupported_grant_type")

    def _client_refusal(self, request: Request) -> Response | None:
        basic = _basic_credentials(request.headers.get("Authorization"))
        client_id = basic[0] if basic else request.form.get("client_id")
        if client_id != self.client_id:
            return _oauth_error("invalid_client")
        if self.client_secret is not None:
            given = basic[1] if basic else request.form.get("client_secret", "")
            if not hmac.compare_digest(given.encode(), self.client_secret.encode()):
                return _oauth_error("invalid_client")
        return None

    def _redeem_code(self, request: Request) -> Response:
        code = request.form.get("code", "")
        with self._lock:
            grant = self._codes.pop(code, None)  # single use, whatever happens next
        if grant is None or time.monotonic() - grant.issued > _CODE_TTL:
            return _oauth_error("invalid_grant")
        if request.form.get("redirect_uri") != grant.redirect_uri:
            return _oauth_error("invalid_grant")
        if grant.challenge is not None:
            verifier = request.form.get("code_verifier", "")
            digest = hashlib.sha256(verifier.encode()).digest()
            computed = base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
            if not 43 <= len(verifier) <= 128 or not hmac.compare_digest(computed, grant.challenge):
                return _oauth_error("invalid_grant")
        refresh = secrets.token_urlsafe(48)
        self._refresh[refresh] = grant
        return self._tokens(grant, refresh, nonce=grant.nonce)

    def _redeem_refresh(self, request: Request) -> Response:
        token = request.form.get("refresh_token", "")
        now = time.monotonic()
        with self._lock:
            grant = self._refresh.get(token)
            if grant is None or (
                grant.spent_at is not None and now - grant.spent_at > self.grace_period
            ):
                return _oauth_error("invalid_grant")
            new_refresh = None
            if self.rotate_refresh_tokens:
                if grant.spent_at is None:
                    grant.spent_at = now
                new_refresh = secrets.token_urlsafe(48)
                self._refresh[new_refresh] = _Grant(
                    grant.username, grant.scopes, grant.origin_jti, grant.auth_time
                )
        return self._tokens(grant, new_refresh, nonce=None)

    def _tokens(self, grant: _Grant, refresh: str | None, *, nonce: str | None) -> Response:
        user = self._users[grant.username]
        common: dict[str, Any] = {
            "groups": user.groups,
            "username": grant.username,
            "expires_in": self.token_lifetime,
        }
        extra: dict[str, Any] = {"origin_jti": grant.origin_jti, "auth_time": grant.auth_time}
        id_extra = {**extra, **({"nonce": nonce} if nonce else {})}
        email = user.email if "email" in grant.scopes else None
        body: dict[str, Any] = {
            "id_token": self.issuer.token(token_use="id", email=email, extra=id_extra, **common),
            "access_token": self.issuer.token(
                token_use="access", extra={**extra, "scope": " ".join(grant.scopes)}, **common
            ),
            "token_type": "Bearer",
            "expires_in": self.token_lifetime,
        }
        if refresh is not None:
            body["refresh_token"] = refresh
        return _json(body)

    def _revoke(self, request: Request) -> Response:
        refused = self._client_refusal(request)
        if refused is not None:
            return refused
        self.calls["revoke"] += 1
        token = request.form.get("token")
        if not token:
            return _oauth_error("invalid_request")
        with self._lock:
            grant = self._refresh.get(token)
            if grant is not None:
                # The whole family: every refresh token of that sign-in.
                for key in [
                    k for k, g in self._refresh.items() if g.origin_jti == grant.origin_jti
                ]:
                    del self._refresh[key]
        return Response(b"", status=200)  # RFC 7009: unknown tokens are no error

    def _logout(self, request: Request) -> Response:
        if (
            request.args.get("client_id") != self.client_id
            or request.args.get("logout_uri") not in self.logout_uris
        ):
            return _html(error_page("Required String parameter 'redirect_uri' is not present"), 400)
        self._sessions.pop(request.cookies.get(_SESSION_COOKIE, ""), None)
        response = _redirect(request.args["logout_uri"])
        response.delete_cookie(_SESSION_COOKIE, path="/")
        return response

    def _error(self, request: Request) -> Response:
        return _html(error_page(request.args.get("error", "error")[:100]), 400)


def _basic_credentials(header: str | None) -> tuple[str, str] | None:
    if not header or not header.startswith("Basic "):
        return None
    try:
        decoded = base64.b64decode(header[6:], validate=True).decode()
    except (binascii.Error, UnicodeDecodeError):
        return None
    client_id, sep, secret = decoded.partition(":")
    # RFC 6749 2.3.1: both parts are form-encoded before the Basic encoding.
    return (unquote_plus(client_id), unquote_plus(secret)) if sep else None


def _with_query(url: str, **params: str) -> str:
    return f"{url}{'&' if '?' in url else '?'}{urlencode(params)}"


def _redirect(location: str) -> Response:
    return Response(b"", status=302, headers={"Location": location})


def _html(body: str, status: int = 200) -> Response:
    return Response(body, status=status, content_type="text/html; charset=utf-8")


def _json(body: dict[str, Any], status: int = 200) -> Response:
    return Response(
        orjson.dumps(body),
        status=status,
        headers={"Content-Type": "application/json;charset=UTF-8", "Cache-Control": "no-store"},
    )


def _oauth_error(code: str) -> Response:
    return _json({"error": code}, 400)
