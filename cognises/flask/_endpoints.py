"""The endpoints a ``permission_required`` view is served under, and names they share.

``permission_required`` runs at decoration, before any route exists, so it learns its
endpoints only from requests (``request.url_rule``). A view's wrappers carry their
permission rule in ``PERMISSION_MARK``; ``functools.wraps`` copies it outward and sets
``__wrapped__``, so the rules of an endpoint are found by walking from the function Flask
registered down to the view.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from flask import Flask

    from cognises.flask._state import AppState

__all__ = ["PERMISSION_MARK", "rules_of", "warn_shared_names"]

log = logging.getLogger("cognises.flask")

PERMISSION_MARK = "_cognises_permission"
# Far deeper than any real stack of decorators; a bound on a chain we did not build.
_MAX_WRAPPERS = 64


def rules_of(view: object) -> list[Any]:
    """The permission rules along ``view``'s chain of wrappers, outermost first, each once."""
    found: list[Any] = []
    for _ in range(_MAX_WRAPPERS):
        if view is None:
            break
        rule = getattr(view, "__dict__", {}).get(PERMISSION_MARK)
        if rule is not None and not any(rule is seen for seen in found):
            found.append(rule)
        view = getattr(view, "__wrapped__", None)
    return found


def warn_shared_names(app: Flask, state: AppState) -> None:
    """Warn, once per app, of each bare permission name that several endpoints answer to.

    A group whose ``allowed_functions`` hold ``delete`` may use every view named
    ``delete``: ``posts.delete`` and ``users.delete`` alike. Flask refuses new routes once
    an app has served a request, so one look at its views finds every such pair.
    """
    if state.permission_names_checked:
        return
    state.permission_names_checked = True
    endpoints: dict[str, set[str]] = {}
    for endpoint, view in list(app.view_functions.items()):
        for rule in rules_of(view):
            if rule.by_view and rule.bare_groups:
                endpoints.setdefault(rule.name, set()).add(endpoint)
    for name, shared in sorted(endpoints.items()):
        if len(shared) > 1:
            names = sorted(shared)
            log.warning(
                "permission %r (a view name in allowed_functions) lets the same groups use "
                "endpoints %s; to allow one of them only, list its endpoint (such as %r) "
                "instead",
                name,
                ", ".join(names),
                names[0],
            )
