"""Running a caller's ``check=`` and ``is_revoked=`` on a verified token, sync or async.

A check returns None to let the token through and raises to refuse it: ``TokenError``
(the token is not acceptable: HTTP 401) or ``PermissionDenied`` (valid, but not allowed
here: 403). Anything else it raises is a bug in the check and goes up unchanged. A check
that returns something else fails closed with ``ConfigurationError``: a predicate such as
``lambda header, claims: claims["tenant"] == "a"`` would otherwise let everyone in.

``is_revoked(claims)`` returns True to refuse (``RevokedTokenError``, 401) and False to
let the token on; anything else it returns is a ``ConfigurationError`` (a forgotten
``return`` must not read as "not revoked"), and what it raises goes up unchanged.
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, TypeAlias

from cognises._claims import Claims
from cognises._token import decode_object
from cognises.errors import ConfigurationError, RevokedTokenError

__all__ = [
    "Check",
    "IsRevoked",
    "expect_none",
    "header_of",
    "is_async",
    "refuse_if_revoked",
    "run_check",
    "run_is_revoked",
    "run_sync_check",
    "run_sync_is_revoked",
]

# check(header, claims): the token's JOSE header (a new dict each time) and its Claims.
Check: TypeAlias = Callable[[Mapping[str, Any], Claims], "Awaitable[None] | None"]


def is_async(check: Callable[..., object] | None) -> bool:
    """Whether ``check`` must be awaited: an ``async def`` or an object whose call is one."""
    if check is None:
        return False
    return inspect.iscoroutinefunction(check) or inspect.iscoroutinefunction(
        getattr(check, "__call__", None)  # noqa: B004 - the method itself, not callable()
    )


def header_of(token: str | bytes) -> dict[str, Any]:
    """The JOSE header of a token that already passed ``parse``."""
    raw = token.encode("ascii") if isinstance(token, str) else bytes(token)
    return decode_object(raw.partition(b".")[0], "header")


def run_sync_check(check: Callable[..., object], token: str | bytes, claims: Claims) -> None:
    result = check(header_of(token), claims)
    if inspect.isawaitable(result):
        # Never awaited: close it, so that Python does not warn about it later.
        close = getattr(result, "close", None)
        if close is not None:
            close()
        raise ConfigurationError(
            f"check {check!r} returned an awaitable but is not an async function: "
            "make it an async def, or return None"
        )
    expect_none(check, result)


async def run_check(check: Callable[..., object], token: str | bytes, claims: Claims) -> None:
    result = check(header_of(token), claims)
    if inspect.isawaitable(result):
        result = await result
    expect_none(check, result)


def expect_none(check: Callable[..., object], result: object) -> None:
    if result is not None:
        raise ConfigurationError(
            f"check {check!r} returned {type(result).__name__}: a check returns None and "
            "raises TokenError or PermissionDenied to refuse"
        )


# is_revoked(claims): True refuses the token (RevokedTokenError), False lets it on.
IsRevoked: TypeAlias = Callable[[Claims], "Awaitable[bool] | bool"]


def run_sync_is_revoked(is_revoked: Callable[..., object], claims: Claims) -> None:
    result = is_revoked(claims)
    if inspect.isawaitable(result):
        close = getattr(result, "close", None)
        if close is not None:
            close()
        raise ConfigurationError(
            f"is_revoked {is_revoked!r} returned an awaitable but is not an async function: "
            "make it an async def, or return a bool"
        )
    refuse_if_revoked(is_revoked, result)


async def run_is_revoked(is_revoked: Callable[..., object], claims: Claims) -> None:
    result = is_revoked(claims)
    if inspect.isawaitable(result):
        result = await result
    refuse_if_revoked(is_revoked, result)


def refuse_if_revoked(is_revoked: Callable[..., object], result: object) -> None:
    if result is False:
        return
    if result is True:
        raise RevokedTokenError("expected a token that is not revoked, found a revoked one")
    # None (a forgotten return) or a truthy object must not pass for "not revoked".
    raise ConfigurationError(
        f"is_revoked {is_revoked!r} returned {type(result).__name__}: expected True (revoked) "
        "or False"
    )
