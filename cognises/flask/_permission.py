"""``permission_required``: the seed's second decorator, def and async def, and its checks."""

from __future__ import annotations

import functools
import inspect
import logging
from collections.abc import Callable, Iterable
from typing import Any, TypeVar, cast

from flask import Response, current_app, request

from cognises._claims import Claims
from cognises._groupdetail import GroupDetailSource, permissions_by_group
from cognises._hook import expect_none
from cognises._permissions import scope_set
from cognises.errors import (
    AWSUnavailableError,
    ConfigurationError,
    ExpiredTokenError,
    PermissionDenied,
    TokenError,
)
from cognises.flask._current import Auth, recall
from cognises.flask._endpoints import PERMISSION_MARK
from cognises.flask._extension import reject
from cognises.flask._freshness import live_claims, live_claims_async
from cognises.flask._rejection import Rejection
from cognises.flask._rules import Allows, HasRole, MemberOf, Rule, Scopes, ViewCheck

__all__ = ["LOGIN_MARK", "permission_required"]

log = logging.getLogger("cognises.flask")

View = Callable[..., Any]
ViewT = TypeVar("ViewT", bound=View)

# Set on login_check's wrappers, so that permission_required can spot a wrong stacking
# order when it is applied (functools.wraps copies it to any decorator above, too).
LOGIN_MARK = "_cognises_login_check"


def permission_required(
    group_detail: GroupDetailSource | None = None,
    *,
    permission: str | None = None,
    groups: str | Iterable[str] | None = None,
    roles: str | Iterable[str] | None = None,
    scopes: str | Iterable[str] | None = None,
    any_scopes: str | Iterable[str] | None = None,
    check: ViewCheck | None = None,
    live: bool = False,
) -> Callable[[ViewT], ViewT]:
    """Serve the view only to users in a group that allows it; stack under ``login_check``.

    ``permission_required(group_detail)``: the seed's form. ``group_detail`` is the group
    document (the list, or a path to its JSON file), loaded and checked here, once; the
    view is allowed to the groups whose ``allowed_functions`` hold ``permission``. By
    default that is the view's name, in either of two forms: the function's ``__name__``
    (``delete``), which allows it under every endpoint it is served at, or the endpoint
    (``users.delete`` for a blueprint's view), which allows only that endpoint. When two
    endpoints of an app share a function name that a group allows, a warning names them
    (once per app). ``permission_required(groups=[...])``: allowed to members of any of
    those groups.

    A user is let in when **any** of their groups allows the view. A user in no group, or
    only in groups the document does not list, gets 403 and the view is not called; so
    does a machine token (client credentials), which has no groups.

    ``roles=[...]``: the ID token's ``cognito:roles`` must hold one of these IAM roles,
    each an ARN or a role name (the ARN's last path segment).

    ``scopes=[...]``: the access token must hold every one of these scopes;
    ``any_scopes=[...]``: at least one of these. Refused with 403 and
    ``WWW-Authenticate: Bearer error="insufficient_scope", scope="..."`` (RFC 6750).

    ``check=f``: ``f(claims, request)`` (``def`` or ``async def``) for any other rule of
    this view; it returns None, or raises ``PermissionDenied`` (403) or ``TokenError``
    (401) to refuse. Anything else it raises is a bug and becomes a 500.

    Every kind given must pass: groups (or the group document), then roles, then scopes,
    then the check, the first failure answering.

    ``live=True``: judge groups (``groups=`` or the document) by the user's groups in the
    pool now (``AdminListGroupsForUser``, kept ``COGNISES_LIVE_GROUPS_TTL`` seconds per
    user), not by the token's ``cognito:groups``: a user removed from a group is refused
    within that ttl. Needs AWS credentials; Cognito unreachable answers 503 (or, with
    ``COGNISES_FAIL_OPEN``, the token's groups decide). ``current_claims`` keeps the
    token's groups.

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
    if group_detail is not None and groups is not None:
        raise ConfigurationError(
            "permission_required: expected either a group document or groups=[...], found both"
        )
    if all(kind is None for kind in (group_detail, groups, roles, scopes, any_scopes, check)):
        raise ConfigurationError(
            "permission_required: expected a group document, groups=, roles=, scopes=, "
            "any_scopes= or check=, found neither a document nor any rule"
        )
    if live and group_detail is None and groups is None:
        raise ConfigurationError(
            "permission_required: live=True judges groups: expected a group document or "
            "groups=[...] with it"
        )
    if permission is not None and group_detail is None:
        raise ConfigurationError("permission_required: permission= needs a group document")
    if check is not None and not callable(check):
        raise ConfigurationError(
            f"permission_required: expected check to be callable, found {check!r}"
        )
    wanted = _name_set(groups, "groups") if groups is not None else None
    wanted_roles = _name_set(roles, "roles") if roles is not None else None
    table = permissions_by_group(group_detail) if group_detail is not None else None
    scope_rule = None
    if scopes is not None or any_scopes is not None:
        scope_rule = Scopes(
            scope_set(scopes or (), "permission_required: scopes"),
            scope_set(any_scopes or (), "permission_required: any_scopes"),
        )

    def make_rules(view: View) -> list[Rule]:
        rules: list[Rule] = []
        if wanted is not None:
            rules.append(MemberOf(wanted))
        if table is not None:
            rules.append(Allows(table, permission, view.__name__))
        if wanted_roles is not None:
            rules.append(HasRole(wanted_roles))
        if scope_rule is not None:
            rules.append(scope_rule)
        return rules

    return _permission_decorator(make_rules, check, live=live)


def _permission_decorator(
    make_rules: Callable[[View], list[Rule]], view_check: ViewCheck | None, *, live: bool
) -> Callable[[ViewT], ViewT]:
    def decorator(view: ViewT) -> ViewT:
        if getattr(view, LOGIN_MARK, False):
            raise ConfigurationError(
                f"permission_required is above login_check on {view.__qualname__}: it must "
                "be below, so that the token is verified before permissions are checked"
            )
        rules = make_rules(view)
        # The rule named after the view, for finding its endpoints (flask/_endpoints.py).
        named = next((rule for rule in rules if rule.by_view), None)
        where = view.__qualname__

        def verified() -> Auth:
            auth = recall()
            if auth is None:
                raise ConfigurationError(
                    f"permission_required on {where} ran before any login_check verified "
                    "the request: stack @login_check(...) above @permission_required(...)"
                )
            return auth

        def refusal(auth: Auth, claims: Claims | None) -> Response | None:
            """The answer when a rule refuses the user, else None. ``claims``: with the
            user's live groups (live=True)."""
            judged = auth.claims if claims is None else claims
            for rule in rules:
                try:
                    rule.check(judged, auth.request)  # type: ignore[arg-type]
                except PermissionDenied as exc:
                    return _forbid(auth, exc, rule.scope)
            return None

        if inspect.iscoroutinefunction(view):

            @functools.wraps(view)
            async def async_wrapper(*args: Any, **kwargs: Any) -> Any:
                auth = verified()
                try:
                    claims = await live_claims_async(auth) if live else None
                except (PermissionDenied, AWSUnavailableError) as exc:
                    return _live_refused(auth, exc)
                refused = refusal(auth, claims)
                if refused is not None:
                    return refused
                if view_check is not None:
                    refused = await _await_view_check(view_check, auth)
                    if refused is not None:
                        return refused
                return await view(*args, **kwargs)

            if named is not None:
                setattr(async_wrapper, PERMISSION_MARK, named)
            return cast(ViewT, async_wrapper)

        @functools.wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            auth = verified()
            try:
                claims = live_claims(auth) if live else None
            except (PermissionDenied, AWSUnavailableError) as exc:
                return _live_refused(auth, exc)
            refused = refusal(auth, claims)
            if refused is not None:
                return refused
            if view_check is not None:
                refused = _run_view_check(view_check, auth)
                if refused is not None:
                    return refused
            return view(*args, **kwargs)

        if named is not None:
            setattr(wrapper, PERMISSION_MARK, named)
        return cast(ViewT, wrapper)

    return decorator


def _run_view_check(check: ViewCheck, auth: Auth) -> Response | None:
    """Run ``check`` (an async one the way Flask runs async views); None if it passes."""
    try:
        run = current_app.ensure_sync(check)
        expect_none(check, run(auth.claims, request._get_current_object()))  # type: ignore[attr-defined]
    except (PermissionDenied, TokenError) as exc:
        return _check_refused(auth, exc)
    return None


async def _await_view_check(check: ViewCheck, auth: Auth) -> Response | None:
    """Run ``check`` on the view's own loop; None if it passes."""
    try:
        result = check(auth.claims, request._get_current_object())  # type: ignore[attr-defined]
        if inspect.isawaitable(result):
            result = await result
        expect_none(check, result)
    except (PermissionDenied, TokenError) as exc:
        return _check_refused(auth, exc)
    return None


def _live_refused(auth: Auth, error: PermissionDenied | AWSUnavailableError) -> Response:
    if isinstance(error, PermissionDenied):
        return _forbid(auth, error)
    log.debug("unavailable %s %s: %s", request.method, request.endpoint, error)
    return reject(Rejection.unavailable(error, retry_after=error.retry_after))


def _forbid(auth: Auth, error: PermissionDenied, scope: str | None = None) -> Response:
    log.debug("forbidden %s %s: %s", request.method, request.endpoint, error)
    return reject(Rejection.forbidden(error, realm=auth.realm, scope=scope))


def _check_refused(auth: Auth, error: PermissionDenied | TokenError) -> Response:
    if isinstance(error, PermissionDenied):
        return _forbid(auth, error)
    log.debug("rejected %s %s: %s", request.method, request.endpoint, error)
    expired = isinstance(error, ExpiredTokenError)
    return reject(Rejection.bad_token(error, realm=auth.realm, expired=expired))


def _name_set(names: str | Iterable[str], what: str) -> frozenset[str]:
    wanted = [names] if isinstance(names, str) else list(names)
    if not wanted or not all(isinstance(g, str) and g for g in wanted):
        raise ConfigurationError(
            f"permission_required: expected {what} to be non-empty strings, found {wanted!r}"
        )
    return frozenset(wanted)
