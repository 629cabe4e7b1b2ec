"""Group checks on verified claims, for any framework."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from cognises.errors import PermissionDenied

__all__ = ["require_groups", "require_roles", "role_matches"]


def require_groups(claims: Mapping[str, Any], *, any_of: Iterable[str]) -> None:
    """Raise ``PermissionDenied`` unless the user is in at least one of ``any_of``."""
    wanted = [any_of] if isinstance(any_of, str) else list(any_of)
    groups = claims.get("cognito:groups")
    # Only a list counts: ``in`` on a string would match substrings ("admin" in "sysadmins").
    if not isinstance(groups, (list, tuple)):
        groups = ()
    if not any(group in groups for group in wanted):
        raise PermissionDenied(f"expected membership of one of {sorted(wanted)}, found none")


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
