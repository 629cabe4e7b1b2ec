"""Sign-in with Cognito's managed login: the blueprint, and what it keeps per app.

``signin_blueprint()`` gives ``/login``, ``/callback`` and ``/logout`` (under any prefix the
app registers it with) and, for the whole app, a hook before every request that refuses
cross-site forgeries (``_csrf``) and refreshes expiring tokens (``_refresh``).

The flow is OAuth 2.0's authorization code grant (RFC 6749 section 4.1) with PKCE S256
(RFC 7636) and the OpenID Connect ``nonce``. ``state``, ``nonce`` and the PKCE verifier
live in a sealed, HttpOnly login cookie (``_session_cookies``) rather than in Flask's
session: that session is signed but readable by the browser's user, some apps replace it
with a server-side one or have none, and the sign-in should work the same in all of them.
The cookie binds the transaction to the browser that started it; ``state`` is consumed on
first use in this process, and the authorization code is single-use at Cognito, so a
replayed callback fails either way.
"""

from __future__ import annotations

import hmac
import logging
import threading
import time
from collections import OrderedDict
from typing import Any, cast

import orjson
from flask import Blueprint, Flask, after_this_request, current_app, redirect, request, url_for
from flask import Response as FlaskResponse
from werkzeug.wrappers import Response

from cognises._oauth import TokenSet, code_challenge, new_secret
from cognises.errors import (
    ClaimError,
    CognisesError,
    ConfigurationError,
    JWKSError,
    OAuthError,
    OAuthUnavailableError,
    TokenError,
)
from cognises.flask._config import PoolSpec
from cognises.flask._csrf import csrf_refusal
from cognises.flask._redirects import safe_next
from cognises.flask._refresh import (
    RefreshFlights,
    expires_within,
    reset_refreshed,
    set_refreshed,
)
from cognises.flask._session_cookies import Sealer, clear_all, read_sealed, set_cookie
from cognises.flask._signin_config import SignInConfig
from cognises.flask._signin_pages import MAX_SHOWN, error_page, no_store
from cognises.flask._state import state_for
from cognises.sync import _oauth

__all__ = ["LOGIN_TTL", "SignIn", "login_redirect", "signin_blueprint"]

log = logging.getLogger("cognises.flask")

_COOKIE_LIMIT = 4000  # bytes of a cookie's value that every current browser keeps

LOGIN_TTL = 15 * 60
"""Seconds a browser has to come back from managed login before the login cookie expires."""


class SignIn:
    """The sign-in state of one app: its config, cookie sealers, refresh flights."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.flights = RefreshFlights()
        self._lock = threading.Lock()
        self._config: SignInConfig | None = None
        self._consumed: OrderedDict[str, float] = OrderedDict()

    def config(self, app: Flask) -> SignInConfig:
        if self._config is None:
            with self._lock:
                if self._config is None:
                    config = SignInConfig.from_config(app.config)
                    self.login_sealer = Sealer(config.secret_key, "login transaction")
                    self.refresh_sealer = Sealer(config.secret_key, "refresh token")
                    self._config = config
        return self._config

    def consume(self, state: str) -> bool:
        """True the first time ``state`` is seen in this process (within ``LOGIN_TTL``)."""
        now = time.monotonic()
        with self._lock:
            while self._consumed and next(iter(self._consumed.values())) < now - LOGIN_TTL:
                self._consumed.popitem(last=False)
            if state in self._consumed:
                return False
            self._consumed[state] = now
            return True


def signin_blueprint(*, name: str = "cognises", url_prefix: str | None = None) -> Blueprint:
    """The sign-in views: ``app.register_blueprint(signin_blueprint())``.

    Endpoints ``<name>.login`` (``/login?next=/path``), ``<name>.callback`` and
    ``<name>.logout``; ``COGNISES_REDIRECT_URI`` must be the callback's absolute URL.
    """
    blueprint = Blueprint(name, __name__, url_prefix=url_prefix)
    signin = SignIn(name)

    @blueprint.record_once
    def _attach(setup: Any) -> None:
        state_for(setup.app).signin = signin

    blueprint.before_app_request(_before_request)
    blueprint.add_url_rule("/login", "login", _login, methods=["GET"])
    blueprint.add_url_rule("/callback", "callback", _callback, methods=["GET"])
    blueprint.add_url_rule("/logout", "logout", _logout, methods=["GET", "POST"])
    return blueprint


def _runtime() -> tuple[SignIn, SignInConfig]:
    app: Flask = current_app._get_current_object()  # type: ignore[attr-defined]
    signin = state_for(app).signin
    assert isinstance(signin, SignIn)
    return signin, signin.config(app)


def login_redirect() -> FlaskResponse | None:
    """For ``login_check(redirect=True)``: send this GET to sign in and back; None for others.

    Other methods get the usual 401: a browser would replay neither their body nor their
    method after signing in.
    """
    if request.method not in ("GET", "HEAD"):
        return None
    signin = state_for(current_app._get_current_object()).signin  # type: ignore[attr-defined]
    if not isinstance(signin, SignIn):
        raise ConfigurationError(
            "login_check(redirect=True) sends visitors to sign in: register "
            "cognises.flask.signin_blueprint() on the app"
        )
    back = safe_next(request.full_path.rstrip("?"))
    # flask.redirect makes the app's response class; typeshed says only werkzeug's.
    return cast(FlaskResponse, no_store(redirect(url_for(f"{signin.name}.login", next=back))))


def _before_request() -> Response | None:
    reset_refreshed()
    signin, config = _runtime()
    reason = csrf_refusal(request, config)
    if reason is not None:
        log.info(
            "refused %s %r as a possible forgery: %s", request.method, request.path[:100], reason
        )
        return error_page(403, "Request refused", reason, again=_login_url(signin))
    if request.blueprint != signin.name:
        _refresh_if_due(signin, config)
    return None


def _login() -> Response:
    signin, config = _runtime()
    state, nonce, verifier = new_secret(), new_secret(), new_secret()
    transaction = {"s": state, "n": nonce, "v": verifier, "r": safe_next(request.args.get("next"))}
    target = config.endpoints.authorize_url(
        response_type="code",
        client_id=config.endpoints.client_id,
        redirect_uri=config.redirect_uri,
        scope=" ".join(config.scopes),
        state=state,
        nonce=nonce,
        code_challenge=code_challenge(verifier),
        code_challenge_method="S256",
    )
    response = redirect(target)
    sealed = signin.login_sealer.seal(config.login_cookie, orjson.dumps(transaction))
    set_cookie(response, config, config.login_cookie, sealed, max_age=LOGIN_TTL)
    return no_store(response)


def _callback() -> Response:
    signin, config = _runtime()
    again = _login_url(signin)

    def fail(status: int, title: str, detail: str) -> Response:
        log.info("sign-in callback refused (%d): %r", status, detail[:MAX_SHOWN])
        response = error_page(status, title, detail, again=again)
        _forget_login(response, config)
        return response

    sealed = read_sealed(request, config.login_cookie, signin.login_sealer, max_age=LOGIN_TTL)
    if sealed is None:
        return fail(
            400, "Sign-in expired", "No sign-in was started in this browser, or it expired."
        )
    transaction = orjson.loads(sealed)
    state = request.args.get("state", "")
    if not hmac.compare_digest(state.encode(), transaction["s"].encode()):
        return fail(400, "Sign-in refused", "The state of this answer is not this browser's.")
    if not signin.consume(state):
        return fail(400, "Sign-in refused", "This sign-in answer was already used.")
    error = request.args.get("error")
    if error is not None:
        description = request.args.get("error_description", "")
        status = 401 if error == "access_denied" else 400
        return fail(status, "Sign-in refused", f"Managed login answered {error}. {description}")
    code = request.args.get("code", "")
    if not code or len(code) > 2048 or not code.isascii():
        return fail(400, "Sign-in refused", "The answer carries no authorization code.")
    try:
        tokens = _oauth.exchange_code(
            config.endpoints,
            code=code,
            redirect_uri=config.redirect_uri,
            code_verifier=transaction["v"],
        )
        _verify(config, tokens, nonce=transaction["n"])
    except OAuthUnavailableError as exc:
        return fail(502, "Sign-in unavailable", f"The sign-in service could not be used: {exc}")
    except OAuthError as exc:
        return fail(400, "Sign-in refused", f"The token endpoint answered {exc.error}.")
    except JWKSError as exc:
        return fail(503, "Sign-in unavailable", f"The tokens could not be checked now: {exc}")
    except TokenError as exc:
        return fail(401, "Sign-in refused", f"The tokens did not pass verification: {exc}")
    response = redirect(safe_next(transaction["r"]))
    _write_tokens(response, signin, config, tokens)
    _forget_login(response, config)
    return no_store(response)


def _logout() -> Response:
    signin, config = _runtime()
    sealed = read_sealed(
        request, config.refresh_cookie, signin.refresh_sealer, max_age=config.refresh_max_age
    )
    if sealed is not None:
        try:
            _oauth.revoke_token(config.endpoints, token=sealed.decode())
        except OAuthError as exc:
            # Signing out locally still happens; the token dies at its expiry instead.
            log.warning("could not revoke the refresh token at sign-out: %s", exc)
    response = redirect(config.endpoints.logout_url(config.logout_uri))
    clear_all(response, config)
    _forget_login(response, config)
    return no_store(response)


def _refresh_if_due(signin: SignIn, config: SignInConfig) -> None:
    if request.headers.get("Authorization"):
        return  # a bearer request: its token is not ours to refresh
    sealed = read_sealed(
        request, config.refresh_cookie, signin.refresh_sealer, max_age=config.refresh_max_age
    )
    if sealed is None:
        return
    current = request.cookies.get(config.token_cookie) or None
    if not expires_within(current, config.refresh_leeway, time.time()):
        return
    refresh_token = sealed.decode()

    def refresh() -> TokenSet:
        tokens = _oauth.refresh_tokens(config.endpoints, refresh_token=refresh_token)
        _verify(config, tokens, nonce=None)
        return tokens

    try:
        tokens = signin.flights.run(refresh_token, refresh)
    except CognisesError as exc:
        log.info("token refresh failed, signing the browser out: %s", exc)
        set_refreshed(current, None)

        @after_this_request
        def _sign_out(response: Response) -> Response:
            clear_all(response, config)
            return no_store(response)

        return
    set_refreshed(current, _cookie_token(config, tokens))

    @after_this_request
    def _store(response: Response) -> Response:
        _write_tokens(response, signin, config, tokens)
        return no_store(response)


def _verify(config: SignInConfig, tokens: TokenSet, *, nonce: str | None) -> None:
    """Verify both tokens with the pool's verifiers, and the ID token's ``nonce``."""
    app: Flask = current_app._get_current_object()  # type: ignore[attr-defined]
    state = state_for(app)
    clients = frozenset({config.endpoints.client_id})
    id_verifier = state.binding(PoolSpec(client_ids=clients, token_use="id"), app.config).verifier
    access = state.binding(PoolSpec(client_ids=clients, token_use="access"), app.config).verifier
    size = len(_cookie_token(config, tokens))
    if size > _COOKIE_LIMIT:
        # Browsers drop such a cookie without a word: the user would bounce between the
        # app and managed login for ever.
        log.warning(
            "the %s token is %d bytes, more than browsers keep in a cookie (%d): ask for "
            "fewer scopes or groups in it, or set COGNISES_TOKEN_USE",
            config.token_use,
            size,
            _COOKIE_LIMIT,
        )
        raise OAuthUnavailableError(
            f"expected a {config.token_use} token that fits in a cookie ({_COOKIE_LIMIT} "
            f"bytes), found {size} bytes",
            error="invalid_response",
            status=200,
        )
    claims = id_verifier.verify(tokens.id_token)
    access.verify(tokens.access_token)
    if nonce is not None:
        found = claims.get("nonce")
        if not isinstance(found, str) or not hmac.compare_digest(found.encode(), nonce.encode()):
            raise ClaimError(
                "expected the ID token's nonce to be the one this sign-in sent, found another",
                claim="nonce",
            )


def _cookie_token(config: SignInConfig, tokens: TokenSet) -> str:
    return tokens.access_token if config.token_use == "access" else tokens.id_token


def _write_tokens(
    response: Response, signin: SignIn, config: SignInConfig, tokens: TokenSet
) -> None:
    token = _cookie_token(config, tokens)
    set_cookie(response, config, config.token_cookie, token, max_age=None)
    if tokens.refresh_token is not None:
        sealed = signin.refresh_sealer.seal(config.refresh_cookie, tokens.refresh_token.encode())
        set_cookie(response, config, config.refresh_cookie, sealed, max_age=config.refresh_max_age)


def _forget_login(response: Response, config: SignInConfig) -> None:
    response.delete_cookie(
        config.login_cookie, path="/", secure=config.secure, httponly=True, samesite="Lax"
    )


def _login_url(signin: SignIn) -> str:
    return url_for(f"{signin.name}.login")
