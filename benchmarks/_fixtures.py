"""What several parts share: one local issuer and its signed tokens, made once per run."""

from __future__ import annotations

import functools

from cognises.testing import LocalIssuer

__all__ = ["GROUPS", "POOL", "issuer", "tokens"]

POOL = "us-east-1_BENCH0001"
GROUPS = ["admins", "editors"]


@functools.cache
def issuer() -> LocalIssuer:
    return LocalIssuer(user_pool_id=POOL, client_id="benchclient000000000000000")


@functools.cache
def tokens(count: int) -> tuple[str, ...]:
    """``count`` distinct Cognito-shaped ID tokens, each for another user, valid for an hour."""
    local = issuer()
    return tuple(local.token(username=f"user{i:05d}", groups=GROUPS) for i in range(count))
