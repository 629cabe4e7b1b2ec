"""Group checks on verified claims, for any framework."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from cognises.errors import PermissionDenied

__all__ = ["require_groups"]


def require_groups(claims: Mapping[str, Any], *, any_of: Iterable[str]) -> None:
    """Raise ``PermissionDenied`` unless the user is in at least one of ``any_of``."""
    wanted = [any_of] if isinstance(any_of, str) else list(any_of)
    groups = claims.get("cognito:groups")
    # Only a list counts: ``in`` on a string would match substrings ("admin" in "sysadmins").
    if not isinstance(groups, (list, tuple)):
        groups = ()
    if not any(group in groups for group in wanted):
        raise PermissionDenied(f"expected membership of one of {sorted(wanted)}, found none")
