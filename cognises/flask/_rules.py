"""The rules ``permission_required`` combines: groups, a group document, roles, scopes.

Each raises ``PermissionDenied`` to refuse; the decorator runs them in order, then the
view's own check, and every one must pass.
"""

from __future__ import annotations

import logging
import weakref
from collections.abc import Callable
from typing import Any

from flask import Flask, Request, current_app
from werkzeug.routing import Rule as URLRule

from cognises._claims import Claims, is_machine
from cognises._permissions import require_groups, require_roles, require_scopes
from cognises.errors import PermissionDenied
from cognises.flask._endpoints import rules_of, warn_shared_names
from cognises.flask._state import state_for

__all__ = ["Allows", "HasRole", "MemberOf", "Rule", "Scopes", "ViewCheck"]

log = logging.getLogger("cognises.flask")

# check(claims, request): a view's own rule, def or async def.
ViewCheck = Callable[[Claims, Any], Any]


class Rule:
    """One kind of rule of ``permission_required``: raises ``PermissionDenied`` to refuse."""

    scope: str | None = None  # the scopes to name in the 403's challenge
    by_view = False  # whether the rule is named after the view (see Allows)

    def check(self, claims: Claims, request: Request) -> None:
        raise NotImplementedError


class MemberOf(Rule):
    def __init__(self, wanted: frozenset[str]) -> None:
        self.wanted = wanted

    def check(self, claims: Claims, request: Request) -> None:
        require_groups(claims, any_of=self.wanted)


class HasRole(Rule):
    def __init__(self, wanted: frozenset[str]) -> None:
        self.wanted = wanted

    def check(self, claims: Claims, request: Request) -> None:
        require_roles(claims, any_of=self.wanted)


class Scopes(Rule):
    def __init__(self, every: frozenset[str], some: frozenset[str]) -> None:
        self.every, self.some = every, some
        self.scope = " ".join([*sorted(every), *sorted(some - every)])

    def check(self, claims: Claims, request: Request) -> None:
        require_scopes(claims, all_of=self.every, any_of=self.some)


# What Allows learnt of one URL rule: the rule (weakly: apps come and go, in tests by the
# hundred), the groups allowed under it, and what a refusal says was expected.
_Learnt = tuple["weakref.ref[URLRule]", frozenset[str], str]
_MAX_LEARNT = 4096


class Allows(Rule):
    """The groups whose ``allowed_functions`` name the view; see ``permission_required``."""

    def __init__(
        self, table: dict[str, frozenset[str]], permission: str | None, view_name: str
    ) -> None:
        self.table = table
        self.name = permission or view_name
        # Named after the view (not by permission=): an endpoint name also allows it.
        self.by_view = permission is None
        self.bare_groups = _allowing(table, self.name)
        self._expected = f"expected a group whose allowed_functions hold {self.name!r}"
        self._learnt: dict[int, _Learnt] = {}
        qualified = "." + self.name
        if not self.bare_groups and not (
            self.by_view and any(f.endswith(qualified) for fs in table.values() for f in fs)
        ):
            log.warning(
                "no group of the group document allows %r: every request to it will be "
                "refused with 403",
                self.name,
            )

    def check(self, claims: Claims, request: Request) -> None:
        if is_machine(claims):
            raise PermissionDenied(
                f"{self._expected}, found a machine token (client credentials), which has no groups"
            )
        # Any of the user's groups may allow it; a group the document lacks allows nothing.
        allowed, expected = self.bare_groups, self._expected
        if self.by_view:
            rule = request.url_rule
            if rule is not None:
                learnt = self._learnt.get(id(rule))
                if learnt is None or learnt[0]() is not rule:
                    learnt = self._learn(rule)
                _, allowed, expected = learnt
        for group in claims.groups:
            if group in allowed:
                return
        raise PermissionDenied(expected)

    def _learn(self, rule: URLRule) -> _Learnt:
        """The groups allowed under ``rule``: by the view's name, or by its endpoint.

        The endpoint counts only when it serves this very view: a view called from
        another view's request must not be allowed by that other endpoint's name.
        """
        app: Flask = current_app._get_current_object()  # type: ignore[attr-defined]
        warn_shared_names(app, state_for(app))
        endpoint = rule.endpoint
        allowed, expected = self.bare_groups, self._expected
        if endpoint != self.name and any(
            r is self for r in rules_of(app.view_functions.get(endpoint))
        ):
            allowed = allowed | _allowing(self.table, endpoint)
            expected = f"{expected} or {endpoint!r}"
        if len(self._learnt) >= _MAX_LEARNT:
            self._learnt.clear()
        learnt: _Learnt = (weakref.ref(rule), allowed, expected)
        self._learnt[id(rule)] = learnt
        return learnt


def _allowing(table: dict[str, frozenset[str]], name: str) -> frozenset[str]:
    return frozenset(group for group, allowed in table.items() if name in allowed)
