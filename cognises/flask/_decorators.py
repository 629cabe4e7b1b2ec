"""``login_check``: the seed's first decorator, def and async def (``permission_required``
is in ``_permission.py``)."""

from __future__ import annotations

import functools
import inspect
import logging
from collections.abc import Callable, Iterable
from typing import Any

from flask import Flask, Request, Response, current_app, request

from cognises._claims import Claims
from cognises.errors import (
    AWSUnavailableError,
    CognisesError,
    ConfigurationError,
    ExpiredTokenError,
    JWKSError,
    PermissionDenied,
    TokenError,
)
from cognises.flask._config import UNSET, PoolSpec, TokenUse, Unset
from cognises.flask._current import remember
from cognises.flask._extension import reject
from cognises.flask._permission import LOGIN_MARK, permission_required
from cognises.flask._refresh import refreshed_token
from cognises.flask._rejection import Rejection
from cognises.flask._signin import login_redirect
from cognises.flask._state import Binding, state_for

__all__ = ["SPEC_MARK", "login_check", "permission_required"]

log = logging.getLogger("cognises.flask")

View = Callable[..., Any]

# The PoolSpec a wrapper verifies against, for tools that need to know which pools an
# app's views trust before any request (cognises.testing.use_local_issuer).
SPEC_MARK = "_cognises_pool_spec"


def login_check(
    cognito_pool_region: str | None = None,
    cognito_pool_id: str | None = None,
    *,
    client_ids: str | Iterable[str] | Unset | None = UNSET,
    token_use: TokenUse | Unset = UNSET,
    jwks_url: str | Unset | None = UNSET,
    pass_response: bool = True,
    redirect: bool = False,
) -> Callable[[View], View]:
    """Serve the view only to requests with a valid Cognito token.

    The seed's form, ``@login_check('us-east-1', 'us-east-1_AbCd')``, names the pool;
    ``@login_check()`` reads it from the app's config (see ``Cognises``). ``client_ids``:
    the app clients whose tokens are accepted (None: every client of the pool);
    ``token_use``: "id" (the default), "access" or None for either; ``jwks_url``: where
    to fetch the pool's keys. Options not given come from the app's ``COGNISES_*`` config
    (``client_ids`` and ``jwks_url`` of a named pool only when the config names that same
    pool), then from the defaults.

    The view gets, as its first positional argument, the seed's ``response`` dict::

        {"status": 200, "message": "Validation successful", "user_email": ...,
         "user_group": [...], "claims": {...}}

    unless ``pass_response=False``; ``current_claims`` works either way. The token is read
    from ``Authorization: Bearer`` and the ``token_cookie`` cookie. A request without a
    valid token gets 401, 503 when the pool's keys cannot be fetched; the view is not
    called. An OPTIONS request (a CORS preflight, sent without credentials) that reaches
    the view gets Flask's default OPTIONS answer, again without calling the view, unless
    ``COGNISES_EXEMPT_OPTIONS`` is False.

    Works on ``def`` views (keys fetched, when needed, through cognises' shared loop while
    the request thread waits) and ``async def`` views (fetched on the view's own loop).

    Verifiers are made on the first request, not here: the seed's form is applied before
    any app exists. Each app keeps one verifier per distinct configuration and one JWKS
    cache for all of them, so every view and request of an app shares the fetched keys,
    and two apps in one process share nothing.

    ``redirect=True`` (for pages of an app with ``signin_blueprint`` registered): a GET
    or HEAD without a valid token is sent to sign in, and back to this path, instead of
    answering 401.
    """
    if callable(cognito_pool_region):
        raise ConfigurationError(
            "login_check must be called: use @login_check() or @login_check(region, pool_id)"
        )
    spec = PoolSpec.from_arguments(
        cognito_pool_region,
        cognito_pool_id,
        client_ids=client_ids,
        token_use=token_use,
        jwks_url=jwks_url,
    )

    def decorator(view: View) -> View:
        if pass_response and not _takes_positional(view):
            raise ConfigurationError(
                f"login_check on {view.__qualname__}: the view takes no positional parameter "
                "for the seed's response dict; give it one (def view(response): ...) or use "
                "login_check(pass_response=False) and read current_claims"
            )
        wrapper = (
            _async_login(view, spec, pass_response, redirect)
            if inspect.iscoroutinefunction(view)
            else _sync_login(view, spec, pass_response, redirect)
        )
        setattr(wrapper, LOGIN_MARK, True)
        setattr(wrapper, SPEC_MARK, spec)
        return wrapper

    return decorator


def _takes_positional(view: View) -> bool:
    """Whether ``view`` can be called with one positional argument (the response dict)."""
    try:
        parameters = inspect.signature(view).parameters.values()
    except (TypeError, ValueError):  # no signature to read: let the call decide
        return True
    positional = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
    return any(
        p.kind in positional or p.kind is inspect.Parameter.VAR_POSITIONAL for p in parameters
    )


def _sync_login(view: View, spec: PoolSpec, pass_response: bool, redirect: bool) -> View:
    @functools.wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        begun = _begin(spec, redirect)
        if not isinstance(begun, tuple):
            return begun
        binding, token, req = begun
        try:
            claims = binding.verify(token)
        except _REFUSALS as exc:
            return _refuse(binding, exc, redirect)
        return view(*_accept(binding, claims, token, pass_response, req), *args, **kwargs)

    return wrapper


def _async_login(view: View, spec: PoolSpec, pass_response: bool, redirect: bool) -> View:
    @functools.wraps(view)
    async def wrapper(*args: Any, **kwargs: Any) -> Any:
        begun = _begin(spec, redirect)
        if not isinstance(begun, tuple):
            return begun
        binding, token, req = begun
        verifier = binding  # the pool's verifier, or the ALB's (Binding.alb)
        try:
            claims = verifier.verify_cached(token)
            if claims is None:
                # On this view's own loop: the cache wakes waiters on whichever loop they
                # are, and keeps nothing bound to a loop that Flask is about to close.
                claims = await verifier.fetch_and_verify(token)
        except _REFUSALS as exc:
            return _refuse(binding, exc, redirect)
        return await view(*_accept(binding, claims, token, pass_response, req), *args, **kwargs)

    return wrapper


def _begin(spec: PoolSpec, redirect: bool = False) -> tuple[Binding, str, Request] | Response:
    """The binding, token and request object, or the answer when there is nothing to verify."""
    app: Flask = current_app._get_current_object()  # type: ignore[attr-defined]
    binding = state_for(app).binding(spec, app.config)
    # The request itself, not its proxy: each attribute read through the proxy costs a
    # context lookup, and this path reads several on every request.
    req: Request = request._get_current_object()  # type: ignore[attr-defined]
    if req.method == "OPTIONS" and binding.exempt_options:
        # Flask answers OPTIONS itself unless the view asked for it; we answer the same way
        # (after_request hooks such as CORS still run) rather than call a view that would
        # then have no verified user.
        return app.make_default_options_response()
    try:
        # Sign-in: a token refreshed before this view replaces the expired cookie's.
        token = refreshed_token(binding.source.read(req), req)
    except TokenError as exc:
        return _refuse(binding, exc, redirect)
    if token is None:
        log.debug("rejected %s %s: no token", req.method, req.endpoint)
        to_signin = login_redirect() if redirect else None
        return to_signin or reject(Rejection.missing(realm=binding.realm))
    return binding, token, req


# What verifying a request's token may raise that answers it (anything else is a 500).
_REFUSALS = (TokenError, JWKSError, PermissionDenied, AWSUnavailableError)


def _refuse(binding: Binding, error: CognisesError, redirect: bool = False) -> Response:
    # The message names the check that failed, never the token or personal claims.
    if log.isEnabledFor(logging.DEBUG):
        log.debug("rejected %s %s: %s", request.method, request.endpoint, error)
    if redirect and isinstance(error, TokenError) and (to_signin := login_redirect()):
        return to_signin
    if isinstance(error, AWSUnavailableError):  # the online check could not ask Cognito
        return reject(Rejection.unavailable(error, retry_after=error.retry_after))
    if isinstance(error, JWKSError):
        return reject(Rejection.unavailable(error, retry_after=binding.retry_after()))
    if isinstance(error, PermissionDenied):  # from the verifier's check=
        return reject(Rejection.forbidden(error, realm=binding.realm))
    expired = isinstance(error, ExpiredTokenError)
    return reject(Rejection.bad_token(error, realm=binding.realm, expired=expired))


def _accept(
    binding: Binding, claims: Claims, token: str, pass_response: bool, req: Request
) -> tuple[Any, ...]:
    remember(req, claims, binding.realm, token, binding.verifier)
    if not pass_response:
        return ()
    response = {
        "status": 200,
        "message": "Validation successful",
        "user_email": claims.email,
        "user_group": claims.groups,
        "claims": claims.to_dict(),
    }
    return (response,)
