"""A user's groups as the user pool has them now, not as their token was issued with.

A token keeps ``cognito:groups`` until it is refreshed (up to a day for an ID token), so a
user removed from a group keeps its rights until then. ``LiveGroups`` asks the pool
(``AdminListGroupsForUser``, every page) and keeps the answer per user for ``ttl``
seconds: a removal takes effect within ``ttl``, at one call per user per ``ttl`` (single
flight, across threads and event loops). The call is signed: the service needs AWS
credentials allowing ``cognito-idp:AdminListGroupsForUser`` on the pool.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable

from cognises._claims import Claims
from cognises.aio._credential_cache import put
from cognises.aio._flight import Flights
from cognises.aio._online import check_freshness_options
from cognises.aio._request_calls import Meaning, call, client
from cognises.errors import AWSUnavailableError, ConfigurationError, PermissionDenied

__all__ = ["LiveGroups", "LiveGroupsCore", "name_set", "require_live"]

log = logging.getLogger("cognises")

_MAX_PAGES = 100  # 60 groups a page: far more groups than a pool may give one user


def _no_user(code: str, message: str) -> BaseException:
    return _UserGone(message)


class _UserGone(Exception):
    pass


_LIST: dict[str, Meaning] = {"UserNotFoundException": _no_user}


class LiveGroupsCore:
    """The current groups of a pool's users, each kept ``ttl`` seconds.

    ``region``, ``user_pool_id``: the pool. ``fail_open``: when the pool cannot be asked,
    fall back to the token's own ``cognito:groups`` with a WARNING (kept for a few seconds)
    instead of raising ``AWSUnavailableError``. ``size``: users remembered. ``endpoint_url``:
    Cognito's endpoint (a local emulator). ``clock``: monotonic seconds (for tests).
    """

    def __init__(
        self,
        region: str,
        user_pool_id: str,
        *,
        ttl: float = 60.0,
        fail_open: bool = False,
        size: int = 4096,
        endpoint_url: str | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        check_freshness_options(ttl, size, "LiveGroups")
        self.region = region
        self.user_pool_id = user_pool_id
        self.ttl = float(ttl)
        self.fail_open = bool(fail_open)
        self.size = size
        self.endpoint_url = endpoint_url
        self._clock = clock
        self._lock = threading.Lock()
        self._groups: OrderedDict[str, tuple[float, frozenset[str]]] = OrderedDict()
        self._flights = Flights()

    def __repr__(self) -> str:
        return f"LiveGroups({self.region!r}, {self.user_pool_id!r}, ttl={self.ttl!r})"

    def __len__(self) -> int:
        return len(self._groups)

    def cached(self, username: str) -> frozenset[str] | None:
        """The user's groups while the answer is fresh, else None. Never does I/O."""
        with self._lock:
            found = self._groups.get(username)
            if found is None:
                return None
            if self._clock() >= found[0]:
                del self._groups[username]
                return None
            self._groups.move_to_end(username)
            return found[1]

    async def current(self, claims: Claims) -> frozenset[str]:
        """The groups the token's user is in now (asking the pool unless cached)."""
        username = claims.username
        if not isinstance(username, str) or not username:
            raise PermissionDenied(
                "expected a token naming its user (cognito:username or username) for its "
                "live groups, found none (a machine token has no groups)"
            )

        async def ask() -> frozenset[str]:
            held, groups = await self._ask(username, claims)
            with self._lock:
                put(self._groups, username, (self._clock() + held, groups), self.size)
            return groups

        return await self._flights.run(username, ask, found=lambda: self.cached(username))

    async def _ask(self, username: str, claims: Claims) -> tuple[float, frozenset[str]]:
        groups: set[str] = set()
        try:
            async with client(
                "cognito-idp", region=self.region, endpoint_url=self.endpoint_url, signed=True
            ) as cognito:
                params = {"UserPoolId": self.user_pool_id, "Username": username, "Limit": 60}
                for _ in range(_MAX_PAGES):
                    page = await call(cognito.admin_list_groups_for_user, _LIST, **params)
                    groups.update(
                        g["GroupName"] for g in page.get("Groups", ()) if "GroupName" in g
                    )
                    token = page.get("NextToken")
                    if not token:
                        break
                    params["NextToken"] = token
                else:
                    raise ConfigurationError(
                        f"AdminListGroupsForUser: expected at most {_MAX_PAGES} pages of "
                        f"groups, found more for one user of {self.user_pool_id}"
                    )
        except _UserGone:
            return self.ttl, frozenset()
        except AWSUnavailableError as exc:
            if not self.fail_open:
                raise
            log.warning("live groups unavailable, using the token's groups (fail_open): %s", exc)
            return min(self.ttl, exc.retry_after), frozenset(claims.groups)
        return self.ttl, frozenset(groups)

    def clear(self) -> None:
        with self._lock:
            self._groups.clear()


def require_live(groups: frozenset[str], any_of: frozenset[str]) -> None:
    if groups.isdisjoint(any_of):
        raise PermissionDenied(
            f"expected the user to be in one of the groups {sorted(any_of)} now, found "
            f"{len(groups)} current group(s), none of them"
        )


class LiveGroups(LiveGroupsCore):
    __doc__ = LiveGroupsCore.__doc__

    async def of(self, claims: Claims) -> frozenset[str]:
        """The groups the verified token's user is in now (``Claims.groups``: the token's)."""
        return await self.current(claims)

    async def require(self, claims: Claims, *, any_of: str | Iterable[str]) -> None:
        """Raise ``PermissionDenied`` unless the user is in one of ``any_of`` now."""
        require_live(await self.current(claims), name_set(any_of))


def name_set(names: str | Iterable[str]) -> frozenset[str]:
    wanted = frozenset([names] if isinstance(names, str) else names)
    if not wanted or not all(isinstance(n, str) and n for n in wanted):
        raise ConfigurationError(f"expected group names, found {sorted(map(repr, wanted))}")
    return wanted
