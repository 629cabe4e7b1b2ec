"""The blocking ``LiveGroups``: cached answers on the caller's thread, the pool asked on the
shared event loop."""

from __future__ import annotations

import functools
from collections.abc import Iterable

from cognises._claims import Claims
from cognises.aio._live_groups import LiveGroupsCore, name_set, require_live
from cognises.sync._portal import call

__all__ = ["LiveGroups"]


class LiveGroups(LiveGroupsCore):
    __doc__ = LiveGroupsCore.__doc__

    def of(self, claims: Claims) -> frozenset[str]:
        """The groups the verified token's user is in now (``Claims.groups``: the token's)."""
        username = claims.username
        found = self.cached(username) if isinstance(username, str) else None
        if found is not None:
            return found
        return call(functools.partial(self.current, claims))

    def require(self, claims: Claims, *, any_of: str | Iterable[str]) -> None:
        """Raise ``PermissionDenied`` unless the user is in one of ``any_of`` now."""
        require_live(self.of(claims), name_set(any_of))
