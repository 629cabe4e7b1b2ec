"""Group and scope checks on verified claims, for any framework."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from cognises._claims import is_machine, scope_list
from cognises.errors import ConfigurationError, PermissionDenied

__all__ = ["require_groups", "require_scopes", "scope_set"]


def require_groups(claims: Mapping[str, Any], *, any_of: Iterable[str]) -> None:
    """Raise ``PermissionDenied`` unless the user is in at least one of ``any_of``.

    A machine token (client credentials) is in no group, and is refused saying so.
    """
    wanted = [any_of] if isinstance(any_of, str) else list(any_of)
    if is_machine(claims):
        raise PermissionDenied(
            f"expected a user in one of {sorted(wanted)}, found a machine token "
            "(client credentials), which has no groups"
        )
    groups = claims.get("cognito:groups")
    # Only a list counts: ``in`` on a string would match substrings ("admin" in "sysadmins").
    if not isinstance(groups, (list, tuple)):
        groups = ()
    if not any(group in groups for group in wanted):
        raise PermissionDenied(f"expected membership of one of {sorted(wanted)}, found none")


def require_scopes(
    claims: Mapping[str, Any],
    *,
    all_of: str | Iterable[str] = (),
    any_of: str | Iterable[str] = (),
) -> None:
    """Raise ``PermissionDenied`` unless the token holds every scope of ``all_of`` and, when
    ``any_of`` is given, at least one of ``any_of``.

    Scopes are the access token's ``scope`` claim, split on ASCII spaces only; a token
    without one holds none. A string names one scope.
    """
    every, some = scope_set(all_of, "all_of"), scope_set(any_of, "any_of")
    if not every and not some:
        raise ConfigurationError("require_scopes: expected all_of or any_of, found neither")
    held = set(scope_list(claims))
    missing = every - held
    if missing:
        raise PermissionDenied(
            f"expected the scopes {sorted(every)}, found a token without {sorted(missing)}"
        )
    if some and held.isdisjoint(some):
        raise PermissionDenied(f"expected one of the scopes {sorted(some)}, found none")


def scope_set(scopes: str | Iterable[str], where: str) -> frozenset[str]:
    """Required scopes as a set, each checked against RFC 6749's grammar of a scope."""
    wanted = [scopes] if isinstance(scopes, str) else list(scopes)
    for scope in wanted:
        if not isinstance(scope, str) or not scope or not all(_scope_char(c) for c in scope):
            raise ConfigurationError(
                f"{where}: expected scopes of printable ASCII without spaces, quotes or "
                f"backslashes (RFC 6749), found {scope!r}"
            )
    return frozenset(wanted)


def _scope_char(char: str) -> bool:
    # scope-token = 1*( %x21 / %x23-5B / %x5D-7E )
    return "!" <= char <= "~" and char not in '"\\'
