"""Revocation and freshness in Flask: the ``COGNISES_*`` keys, and the live groups of a view.

``COGNISES_IS_REVOKED`` (or ``Cognises.revocation_loader``) and ``COGNISES_ONLINE_CHECK``
go to every verifier of the app; ``permission_required(..., live=True)`` asks the pool for
the user's current groups (``COGNISES_LIVE_GROUPS_TTL``). Cognito unreachable answers 503
unless ``COGNISES_FAIL_OPEN`` is True (then a WARNING, and the token's own answer).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from flask import Flask, current_app

from cognises._claims import Claims
from cognises._hook import IsRevoked
from cognises.aio._online import OnlineCheck
from cognises.errors import ConfigurationError
from cognises.flask._current import Auth
from cognises.sync._live_groups import LiveGroups

__all__ = [
    "Freshness",
    "check_freshness",
    "freshness_of",
    "live_claims",
    "live_claims_async",
    "live_groups_for",
]

DEFAULT_TTL = 60.0


@dataclass(frozen=True)
class Freshness:
    """What an app's config says of revocation and freshness."""

    is_revoked: IsRevoked | None
    online_check: OnlineCheck | None
    live_groups_ttl: float
    live_groups: LiveGroups | None
    fail_open: bool
    endpoint_url: str | None


def check_freshness(config: Mapping[str, Any]) -> None:
    """Check the keys of this module that are set (for ``check_config``)."""
    freshness_of(config, None)


def freshness_of(config: Mapping[str, Any], loader: IsRevoked | None) -> Freshness:
    """The app's settings; ``loader``: the one ``Cognises.revocation_loader`` registered."""
    is_revoked = config.get("COGNISES_IS_REVOKED")
    if is_revoked is not None and not callable(is_revoked):
        raise ConfigurationError(
            f"COGNISES_IS_REVOKED: expected a function of the claims, found {is_revoked!r}"
        )
    if is_revoked is not None and loader is not None and is_revoked is not loader:
        raise ConfigurationError(
            "COGNISES_IS_REVOKED and Cognises.revocation_loader are both set: expected one"
        )
    fail_open = _bool(config, "COGNISES_FAIL_OPEN", False)
    endpoint = config.get("COGNISES_COGNITO_ENDPOINT_URL")
    if endpoint is not None and (not isinstance(endpoint, str) or not endpoint):
        raise ConfigurationError(
            f"COGNISES_COGNITO_ENDPOINT_URL: expected a URL, found {endpoint!r}"
        )
    online = config.get("COGNISES_ONLINE_CHECK", False)
    if isinstance(online, bool):
        ttl = _ttl(config, "COGNISES_ONLINE_CHECK_TTL")
        online = (
            OnlineCheck(ttl=ttl, fail_open=fail_open, endpoint_url=endpoint) if online else None
        )
    elif not isinstance(online, OnlineCheck):
        raise ConfigurationError(
            f"COGNISES_ONLINE_CHECK: expected True, False or an OnlineCheck, found {online!r}"
        )
    live = config.get("COGNISES_LIVE_GROUPS")
    if live is not None and not isinstance(live, LiveGroups):
        raise ConfigurationError(
            f"COGNISES_LIVE_GROUPS: expected a cognises.sync.LiveGroups, found {live!r}"
        )
    return Freshness(
        is_revoked=is_revoked if is_revoked is not None else loader,
        online_check=online,
        live_groups_ttl=_ttl(config, "COGNISES_LIVE_GROUPS_TTL"),
        live_groups=live,
        fail_open=fail_open,
        endpoint_url=endpoint,
    )


def live_groups_for(auth: Auth, freshness: Callable[[], Freshness]) -> LiveGroups:
    """The app's ``LiveGroups`` for the pool that issued the request's token."""
    from cognises.flask._aws_session import _pool_verifier
    from cognises.flask._state import state_for

    verifier = _pool_verifier(auth)
    if verifier is None:
        raise ConfigurationError(
            "permission_required(live=True): expected the request's token to come from a "
            "user pool's verifier, found none"
        )
    app: Flask = current_app._get_current_object()  # type: ignore[attr-defined]
    settings = freshness()
    given = settings.live_groups
    if given is not None:
        if (given.region, given.user_pool_id) != (verifier.region, verifier.user_pool_id):
            raise ConfigurationError(
                f"COGNISES_LIVE_GROUPS: expected one of pool {verifier.user_pool_id!r}, the "
                f"token's, found one of {given.user_pool_id!r}"
            )
        return given
    return state_for(app).memo(
        ("live-groups", verifier.region, verifier.user_pool_id),
        lambda: LiveGroups(
            verifier.region,
            verifier.user_pool_id,
            ttl=settings.live_groups_ttl,
            fail_open=settings.fail_open,
            endpoint_url=settings.endpoint_url,
        ),
    )


def _ttl(config: Mapping[str, Any], key: str) -> float:
    value = config.get(key, DEFAULT_TTL)
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ConfigurationError(f"{key}: expected seconds (a number > 0), found {value!r}")
    if not (math.isfinite(value) and value > 0):
        raise ConfigurationError(f"{key}: expected seconds (a number > 0), found {value!r}")
    return float(value)


def _bool(config: Mapping[str, Any], key: str, default: bool) -> bool:
    value = config.get(key, default)
    if not isinstance(value, bool):
        raise ConfigurationError(f"{key}: expected True or False, found {value!r}")
    return value


def live_claims(auth: Auth) -> Claims:
    """The request's claims with the user's current groups in place of the token's."""
    return _with_groups(auth.claims, _live(auth).of(auth.claims))


async def live_claims_async(auth: Auth) -> Claims:
    """``live_claims`` on the view's own event loop."""
    return _with_groups(auth.claims, await _live(auth).current(auth.claims))


def _live(auth: Auth) -> LiveGroups:
    from cognises.flask._state import state_for

    app: Flask = current_app._get_current_object()  # type: ignore[attr-defined]
    return live_groups_for(auth, lambda: state_for(app).freshness(app.config))


def _with_groups(claims: Claims, groups: frozenset[str]) -> Claims:
    # For the rules only: the view's current_claims keep the token's own groups.
    return Claims._adopt({**claims.to_dict(), "cognito:groups": sorted(groups)})
