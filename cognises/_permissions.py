"""Group and scope checks on verified claims, for any framework."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from cognises._claims import is_machine, scope_list
from cognises._show import show
from cognises.errors import ConfigurationError, PermissionDenied

__all__ = ["require_groups", "require_roles", "require_scopes", "role_matches", "scope_set"]


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
        # Both sides, shortened: the groups are the user's, but a message that says only
        # "found none" to a user in admins (when nobody was wanted) hides the mistake.
        held = show(sorted(g for g in groups if isinstance(g, str)), 200) if groups else "none"
        raise PermissionDenied(
            f"expected membership of one of {show(sorted(wanted), 200)}, found the user in {held}"
        )


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


def role_matches(wanted: str, role_arn: str) -> bool:
    """Whether ``role_arn`` is the role ``wanted`` names: its whole ARN, or its name.

    A role's name is the ARN's last path segment (``arn:aws:iam::1:role/team/admins`` is
    ``admins``). A wanted value holding a colon is an ARN and must match exactly.
    """
    if ":" in wanted:
        return wanted == role_arn
    return role_arn.rpartition(":")[2].startswith("role/") and role_arn.rpartition("/")[2] == wanted


def require_roles(claims: Mapping[str, Any], *, any_of: Iterable[str]) -> None:
    """Raise ``PermissionDenied`` unless one of the token's ``cognito:roles`` is in ``any_of``.

    Roles are given as ARNs or as role names. Only ID tokens carry ``cognito:roles``.
    """
    wanted = [any_of] if isinstance(any_of, str) else list(any_of)
    roles = claims.get("cognito:roles")
    if not isinstance(roles, (list, tuple)):
        if claims.get("token_use") == "access":
            raise PermissionDenied(
                f"expected one of the roles {sorted(wanted)}, found an access token, which "
                "carries no cognito:roles: authorize roles with the user's ID token"
            )
        roles = ()
    if not any(isinstance(r, str) and role_matches(w, r) for w in wanted for r in roles):
        raise PermissionDenied(
            f"expected one of the roles {sorted(wanted)}, found {len(roles)} role(s) in the token"
        )
