"""``Cognises``: the Flask extension, and the one path every rejection takes."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from flask import Flask, Response, current_app
from flask.typing import ResponseReturnValue

from cognises._hook import IsRevoked
from cognises.errors import ConfigurationError
from cognises.flask._config import PoolSpec, check_config
from cognises.flask._rejection import Reason, Rejection
from cognises.flask._state import attach, state_for
from cognises.sync import CognitoVerifier, MultiPoolVerifier

__all__ = ["Cognises", "RejectionHandler", "reject"]

RejectionHandler = Callable[[Rejection], ResponseReturnValue]
H = TypeVar("H", bound=RejectionHandler)
R = TypeVar("R", bound=IsRevoked)

_CONFIG_SPEC = PoolSpec()


class Cognises:
    """Cognito sign-in for a Flask app: ``Cognises(app)``, or ``init_app`` in a factory.

    The pool comes from the app's config. Every key that is set is checked here (a wrong
    value raises ``ConfigurationError`` naming it); the config is read on the first
    request to a protected view:

    ``COGNISES_REGION``, ``COGNISES_USER_POOL_ID``
        the user pool, for ``login_check()`` called without a region and pool: an AWS
        region name and a pool id of that region (``<region>_<id>``).
    ``COGNISES_ADDITIONAL_REGIONS``
        the regions the pool is replicated to (multi-region replication), as a list or a
        string of regions separated by commas: their tokens name them in the original
        issuer form. Unset: only the pool's own region.
    ``COGNISES_CLIENT_IDS``
        the app clients whose tokens are accepted: a list, or a string of ids separated
        by commas. Unset accepts every client of the pool (with a logged warning).
    ``COGNISES_TOKEN_USE``
        "id" (default), "access", or None for either.
    ``COGNISES_JWKS_URL``
        where to fetch the pool's keys, when not from Cognito itself (an emulator).
    ``COGNISES_AUDIENCES``
        the resources (RFC 8707) this API is: an access token must then carry an ``aud``
        naming one of them, besides an accepted client id. A list, or a string of
        values separated by commas. Needs ``COGNISES_TOKEN_USE`` "access" or None.
    ``COGNISES_POOLS``
        several pools for ``login_check()``: a list of dicts, each with ``region`` and
        ``user_pool_id`` and any of ``client_ids``, ``token_use`` (default
        ``COGNISES_TOKEN_USE``), ``audiences``, ``jwks_url``, ``check``, ``leeway``. A
        token goes to the pool that issued it (its ``iss``). Not with
        ``COGNISES_REGION`` / ``COGNISES_USER_POOL_ID``.
    ``COGNISES_TOKEN_LOCATION``
        "header", "cookie" or both (default): where tokens are looked for. Or "alb"
        alone, behind an Application Load Balancer: the ALB's ``x-amzn-oidc-data`` and
        the pool's access token in ``x-amzn-oidc-accesstoken`` are verified instead, and
        the view's claims are both together (groups and scopes from the access token).
    ``COGNISES_ALB_ARNS``
        with "alb": the ARNs of the ALBs whose tokens are accepted (a list, or a string
        of ARNs separated by commas). Required.
    ``COGNISES_ALB_KEY_URL``
        with "alb": where to fetch the ALB's keys, a template with ``{kid}`` in it;
        default the ALB key endpoint of ``COGNISES_REGION``.
    ``COGNISES_COOKIE_NAME``
        the cookie holding the token, default ``token_cookie`` (the seed's).
    ``COGNISES_HEADER_NAME``, ``COGNISES_HEADER_SCHEME``
        the header and its scheme, default ``Authorization: Bearer <token>``.
    ``COGNISES_EXEMPT_OPTIONS``
        True (default): an OPTIONS request (a CORS preflight, which carries no
        credentials) that reaches a protected view is answered with Flask's default
        OPTIONS response without a token, and the view is not called. False: OPTIONS
        needs a token like any other method.
    ``COGNISES_REALM``
        the ``realm`` of ``WWW-Authenticate``; default the user pool id.
    ``COGNISES_JWKS_CACHE``
        a ``JWKSCache`` to use (to tune its ttl, cooldown or fetch options) instead of a
        new one.
    ``COGNISES_IS_REVOKED``
        ``is_revoked(claims)`` (``def`` or ``async def``) returning True to refuse a token
        with 401 (``RevokedTokenError``); or register it with ``revocation_loader``.
    ``COGNISES_ONLINE_CHECK``, ``COGNISES_ONLINE_CHECK_TTL``
        True (or an ``OnlineCheck``): ask Cognito (``GetUser``) whether each access token
        still stands, at most once per token per ttl (default 60 seconds). Needs
        ``COGNISES_TOKEN_USE`` "access".
    ``COGNISES_LIVE_GROUPS_TTL``, ``COGNISES_LIVE_GROUPS``
        seconds ``permission_required(..., live=True)`` keeps a user's current groups
        (default 60); or a ``cognises.sync.LiveGroups`` of the pool to use instead.
    ``COGNISES_FAIL_OPEN``
        False (default): Cognito unreachable for the online check or live groups answers
        503. True: let the request on with a WARNING (the token's own groups).
    ``COGNISES_COGNITO_ENDPOINT_URL``
        Cognito's endpoint for those calls (a local emulator).

    Each app gets one JWKS cache, shared by every verifier, view and request of the app.
    The extension is optional: protected views of an app without one read the same config
    and answer failures the default way.

    Failures are raised as werkzeug HTTP exceptions (401, 403 or 503, with a JSON body
    and RFC 6750 headers) so the app's own error handlers see them. Register
    ``unauthorized_handler`` (401) or ``forbidden_handler`` (403) to answer differently.
    """

    def __init__(self, app: Flask | None = None) -> None:
        self._handlers: dict[str, RejectionHandler] = {}
        self.revocation_loader_callback: IsRevoked | None = None
        self.revocation_frozen = False  # set once an app's verifiers read the loader
        if app is not None:
            self.init_app(app)

    def init_app(self, app: Flask) -> None:
        """Check the app's ``COGNISES_*`` config; keep the extension's state in
        ``app.extensions["cognises"]``."""
        check_config(app.config)
        attach(app, self)

    def unauthorized_handler(self, callback: H) -> H:
        """Register ``callback(rejection)`` to answer 401s: missing, invalid, expired token.

        Its return value is the response, made with ``make_response``; it may also raise.
        A 1xx or 2xx answer is refused with ``ConfigurationError``: a failure must not
        look like success to the client.
        """
        self._handlers["unauthorized"] = callback
        return callback

    def forbidden_handler(self, callback: H) -> H:
        """Register ``callback(rejection)`` to answer 403s, as ``unauthorized_handler``."""
        self._handlers["forbidden"] = callback
        return callback

    def revocation_loader(self, callback: R) -> R:
        """Register ``callback(claims)``, returning True for a revoked token (401).

        As ``is_revoked=`` of the verifiers (a ``Denylist`` is one); it runs on every
        request, after every other check of the token. Register it before the first
        request: verifiers are made then. Not with ``COGNISES_IS_REVOKED`` as well.
        """
        if not callable(callback):
            raise ConfigurationError(
                f"revocation_loader: expected a function of the claims, found {callback!r}"
            )
        if self.revocation_frozen:
            raise ConfigurationError(
                "revocation_loader: registered after the first request, when the verifiers "
                "were made without it; register it before"
            )
        self.revocation_loader_callback = callback
        return callback

    def _handler_for(self, reason: Reason) -> RejectionHandler | None:
        if reason == "forbidden":
            return self._handlers.get("forbidden")
        if reason == "unavailable":
            # A server-side outage, not the client's doing: errorhandler(503) answers it.
            return None
        return self._handlers.get("unauthorized")

    def get_verifier(self, app: Flask | None = None) -> CognitoVerifier | MultiPoolVerifier:
        """The verifier of ``login_check()`` (the config's pool, or pools) for ``app``.

        Checks the config, which otherwise happens on the first request. Call
        ``get_verifier(app).hydrate()`` at startup to fetch the keys ahead of it.
        """
        app = app if app is not None else current_app._get_current_object()  # type: ignore[attr-defined]
        return state_for(app).binding(_CONFIG_SPEC, app.config).verifier


def reject(rejection: Rejection) -> Response:
    """Answer ``rejection`` with the app's handler, or raise the default HTTP exception
    (or, when nothing of the app could see that exception, return its answer)."""
    app: Flask = current_app._get_current_object()  # type: ignore[attr-defined]
    extension = state_for(app).extension
    handler = extension._handler_for(rejection.reason) if extension is not None else None
    if handler is None:
        if _seen_by_app(app, rejection):
            raise rejection.to_exception()
        # What Flask would answer for the exception, without its exception path (raise,
        # handler lookup, the exception run as a WSGI app and its answer copied): that
        # path costs a rejected request more than verifying its token does.
        body, status, headers = rejection.rendered()
        return app.response_class(body, status, headers)
    response = app.make_response(handler(rejection))
    if response.status_code < 300:
        raise ConfigurationError(
            f"a cognises {rejection.reason} handler answered HTTP {response.status_code}; "
            "a rejected request must not look like a success"
        )
    return response


# Flask's methods on the way from a raised HTTP exception to its answer.
_EXCEPTION_PATH = ("handle_user_exception", "handle_http_exception", "trap_http_exception")


def _seen_by_app(app: Flask, rejection: Rejection) -> bool:
    """Whether raising the rejection's exception could end anywhere but in its default
    answer: an error handler of the app or of any blueprint matches it (by its status or
    by a class it derives from, ``Exception`` included), the app traps HTTP errors, or
    its class handles them its own way.

    Read on every rejection, not cached: tests add handlers to apps already serving.
    """
    if app.config.get("TRAP_HTTP_EXCEPTIONS"):
        return True
    for name in _EXCEPTION_PATH:  # overridden by the app's class, or on the app itself
        if getattr(getattr(app, name), "__func__", None) is not getattr(Flask, name):
            return True
    lineage = rejection.exception_class.__mro__
    for scope in app.error_handler_spec.values():
        for code in (rejection.status, None):
            handlers = scope.get(code)
            if handlers and any(cls in handlers for cls in lineage):
                return True
    return False
