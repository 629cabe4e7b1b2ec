"""The rules ``permission_required`` combines: groups, a group document, scopes.

Each raises ``PermissionDenied`` to refuse; the decorator runs them in order, then the
view's own check, and every one must pass.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from cognises._claims import Claims, is_machine
from cognises._permissions import require_groups, require_scopes
from cognises.errors import PermissionDenied

__all__ = ["Allows", "MemberOf", "Rule", "Scopes", "ViewCheck"]

log = logging.getLogger("cognises.flask")

# check(claims, request): a view's own rule, def or async def.
ViewCheck = Callable[[Claims, Any], Any]


class Rule:
    """One kind of rule of ``permission_required``: raises ``PermissionDenied`` to refuse."""

    scope: str | None = None  # the scopes to name in the 403's challenge

    def check(self, claims: Claims) -> None:
        raise NotImplementedError


class MemberOf(Rule):
    def __init__(self, wanted: frozenset[str]) -> None:
        self.wanted = wanted

    def check(self, claims: Claims) -> None:
        require_groups(claims, any_of=self.wanted)


class Allows(Rule):
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
        if is_machine(claims):
            raise PermissionDenied(
                f"expected a user in a group whose allowed_functions hold "
                f"{self.permission!r}, found a machine token (client credentials), which "
                "has no groups"
            )
        # Any of the user's groups may allow it; a group the document lacks allows nothing.
        if not any(self.permission in self.table.get(g, ()) for g in claims.groups):
            raise PermissionDenied(
                f"expected a group whose allowed_functions hold {self.permission!r}"
            )


class Scopes(Rule):
    def __init__(self, every: frozenset[str], some: frozenset[str]) -> None:
        self.every, self.some = every, some
        self.scope = " ".join([*sorted(every), *sorted(some - every)])

    def check(self, claims: Claims) -> None:
        require_scopes(claims, all_of=self.every, any_of=self.some)
