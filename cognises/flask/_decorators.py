"""``login_check`` and ``permission_required``: the seed's decorators, def and async def."""

from __future__ import annotations

import functools
import inspect
import logging
from collections.abc import Callable, Iterable
from typing import Any, TypeVar, cast

from flask import Flask, Response, current_app, request

from cognises._claims import Claims
from cognises._groupdetail import GroupDetailSource, permissions_by_group
from cognises._permissions import require_groups
from cognises.errors import (
    ConfigurationError,
    ExpiredTokenError,
    JWKSError,
    PermissionDenied,
    TokenError,
)
from cognises.flask._config import UNSET, PoolSpec, TokenUse, Unset
from cognises.flask._current import recall, remember
from cognises.flask._extension import reject
from cognises.flask._refresh import refreshed_token
from cognises.flask._rejection import Rejection
from cognises.flask._signin import login_redirect
from cognises.flask._state import Binding, state_for

__all__ = ["login_check", "permission_required"]

log = logging.getLogger("cognises.flask")

View = Callable[..., Any]
ViewT = TypeVar("ViewT", bound=View)

# Set on login_check's wrappers, so that permission_required can spot a wrong stacking
# order when it is applied (functools.wraps copies it to any decorator above, too).
_LOGIN_MARK = "_cognises_login_check"


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
        wrapper = (
            _async_login(view, spec, pass_response, redirect)
            if inspect.iscoroutinefunction(view)
            else _sync_login(view, spec, pass_response, redirect)
        )
        setattr(wrapper, _LOGIN_MARK, True)
        return wrapper

    return decorator


def _sync_login(view: View, spec: PoolSpec, pass_response: bool, redirect: bool) -> View:
    @functools.wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        begun = _begin(spec, redirect)
        if not isinstance(begun, tuple):
            return begun
        binding, token = begun
        try:
            claims = binding.verifier.verify(token)
        except (TokenError, JWKSError) as exc:
            return _refuse(binding, exc, redirect)
        return view(*_accept(binding, claims, pass_response), *args, **kwargs)

    return wrapper


def _async_login(view: View, spec: PoolSpec, pass_response: bool, redirect: bool) -> View:
    @functools.wraps(view)
    async def wrapper(*args: Any, **kwargs: Any) -> Any:
        begun = _begin(spec, redirect)
        if not isinstance(begun, tuple):
            return begun
        binding, token = begun
        verifier = binding.verifier
        try:
            claims = verifier.verify_cached(token)
            if claims is None:
                # On this view's own loop: the cache wakes waiters on whichever loop they
                # are, and keeps nothing bound to a loop that Flask is about to close.
                claims = await verifier.fetch_and_verify(token)
        except (TokenError, JWKSError) as exc:
            return _refuse(binding, exc, redirect)
        return await view(*_accept(binding, claims, pass_response), *args, **kwargs)

    return wrapper


def _begin(spec: PoolSpec, redirect: bool = False) -> tuple[Binding, str] | Response:
    """The binding and token of this request, or the answer when there is nothing to verify."""
    app: Flask = current_app._get_current_object()  # type: ignore[attr-defined]
    binding = state_for(app).binding(spec, app.config)
    if request.method == "OPTIONS" and binding.exempt_options:
        # Flask answers OPTIONS itself unless the view asked for it; we answer the same way
        # (after_request hooks such as CORS still run) rather than call a view that would
        # then have no verified user.
        return app.make_default_options_response()
    try:
        # Sign-in: a token refreshed before this view replaces the expired cookie's.
        token = refreshed_token(binding.source.read(request))
    except TokenError as exc:
        return _refuse(binding, exc, redirect)
    if token is None:
        log.debug("rejected %s %s: no token", request.method, request.endpoint)
        to_signin = login_redirect() if redirect else None
        return to_signin or reject(Rejection.missing(realm=binding.realm))
    return binding, token


def _refuse(binding: Binding, error: TokenError | JWKSError, redirect: bool = False) -> Response:
    # The message names the check that failed, never the token or personal claims.
    log.debug("rejected %s %s: %s", request.method, request.endpoint, error)
    if redirect and isinstance(error, TokenError) and (to_signin := login_redirect()):
        return to_signin
    if isinstance(error, JWKSError):
        verifier = binding.verifier
        retry_after = verifier.jwks_cache.retry_after(verifier.jwks_url)
        return reject(Rejection.unavailable(error, retry_after=retry_after))
    expired = isinstance(error, ExpiredTokenError)
    return reject(Rejection.bad_token(error, realm=binding.realm, expired=expired))


def _accept(binding: Binding, claims: Claims, pass_response: bool) -> tuple[Any, ...]:
    remember(claims, binding.realm)
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


def permission_required(
    group_detail: GroupDetailSource | None = None,
    *,
    permission: str | None = None,
    groups: str | Iterable[str] | None = None,
) -> Callable[[ViewT], ViewT]:
    """Serve the view only to users in a group that allows it; stack under ``login_check``.

    ``permission_required(group_detail)``: the seed's form. ``group_detail`` is the group
    document (the list, or a path to its JSON file), loaded and checked here, once; the
    view is allowed to the groups whose ``allowed_functions`` hold ``permission``, by
    default the view function's ``__name__``. ``permission_required(groups=[...])``:
    allowed to members of any of those groups.

    A user is let in when **any** of their groups allows the view. A user in no group, or
    only in groups the document does not list, gets 403 and the view is not called.

    Must sit below ``login_check``, which verifies the token first::

        @app.route("/protected")
        @login_check("us-east-1", "us-east-1_AbCd")
        @permission_required(group_detail)
        def protected(response): ...

    Stacked above it, this raises ``ConfigurationError`` right here; used with no
    ``login_check`` at all, on every request (a 500, never a silent pass).
    """
    if callable(group_detail):
        raise ConfigurationError(
            "permission_required must be called: use @permission_required(group_detail) "
            "or @permission_required(groups=[...])"
        )
    if (group_detail is None) == (groups is None):
        raise ConfigurationError(
            "permission_required: expected either a group document or groups=[...], "
            f"found {'both' if groups is not None else 'neither'}"
        )
    if groups is not None:
        if permission is not None:
            raise ConfigurationError(
                "permission_required: permission= needs a group document, not groups="
            )
        wanted = _group_set(groups)
        return _permission_decorator(lambda _view: _MemberOf(wanted))
    assert group_detail is not None
    table = permissions_by_group(group_detail)
    return _permission_decorator(lambda view: _Allows(table, permission or view.__name__))


class _MemberOf:
    def __init__(self, wanted: frozenset[str]) -> None:
        self.wanted = wanted

    def check(self, claims: Claims) -> None:
        require_groups(claims, any_of=self.wanted)


class _Allows:
    def __init__(self, table: dict[str, frozenset[str]], permission: str) -> None:
        self.table = table
        self.permission = permission
        if not any(permission in allowed for allowed in table.values()):
            log.warning(
                "no group of the group document allows %r: every request to it will be "
                "refused with 403",
                permission,
            )

    def check(self, claims: Claims) -> None:
        # Any of the user's groups may allow it; a group the document lacks allows nothing.
        if not any(self.permission in self.table.get(g, ()) for g in claims.groups):
            raise PermissionDenied(
                f"expected a group whose allowed_functions hold {self.permission!r}"
            )


def _permission_decorator(
    make_rule: Callable[[View], _MemberOf | _Allows],
) -> Callable[[ViewT], ViewT]:
    def decorator(view: ViewT) -> ViewT:
        if getattr(view, _LOGIN_MARK, False):
            raise ConfigurationError(
                f"permission_required is above login_check on {view.__qualname__}: it must "
                "be below, so that the token is verified before permissions are checked"
            )
        rule = make_rule(view)
        where = view.__qualname__

        def refusal() -> Response | None:
            """None when the user may go on; else the answer to send."""
            auth = recall()
            if auth is None:
                raise ConfigurationError(
                    f"permission_required on {where} ran before any login_check verified "
                    "the request: stack @login_check(...) above @permission_required(...)"
                )
            try:
                rule.check(auth.claims)
            except PermissionDenied as exc:
                log.debug("forbidden %s %s: %s", request.method, request.endpoint, exc)
                return reject(Rejection.forbidden(exc, realm=auth.realm))
            return None

        if inspect.iscoroutinefunction(view):

            @functools.wraps(view)
            async def async_wrapper(*args: Any, **kwargs: Any) -> Any:
                refused = refusal()
                if refused is not None:
                    return refused
                return await view(*args, **kwargs)

            return cast(ViewT, async_wrapper)

        @functools.wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            refused = refusal()
            if refused is not None:
                return refused
            return view(*args, **kwargs)

        return cast(ViewT, wrapper)

    return decorator


def _group_set(groups: str | Iterable[str]) -> frozenset[str]:
    wanted = [groups] if isinstance(groups, str) else list(groups)
    if not wanted or not all(isinstance(g, str) and g for g in wanted):
        raise ConfigurationError(
            f"permission_required: expected groups to be non-empty strings, found {wanted!r}"
        )
    return frozenset(wanted)
