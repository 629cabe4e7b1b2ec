"""What a verifier runs after its built-in checks: ``is_revoked``, the online check, ``check``.

All of it runs on every verification, result-cache hits included: a token cached as good
may be revoked since. ``run_now`` does what needs no awaiting, on the caller's thread (the
hot path); it answers False when something must be awaited (an async hook, or an online
check whose answer is not cached), and then ``run`` does it all on an event loop.
"""

from __future__ import annotations

from cognises._claims import Claims
from cognises._hook import (
    Check,
    IsRevoked,
    is_async,
    run_check,
    run_is_revoked,
    run_sync_check,
    run_sync_is_revoked,
)
from cognises.aio._online import OnlineCheck
from cognises.errors import ConfigurationError

__all__ = ["AfterChecks", "after_checks"]


class AfterChecks:
    """The hooks of one verifier; made only when it has one (see ``after_checks``)."""

    def __init__(
        self,
        *,
        is_revoked: IsRevoked | None,
        online: OnlineCheck | None,
        check: Check | None,
        region: str,
    ) -> None:
        self.is_revoked = is_revoked
        self.online = online
        self.check = check
        self.region = region
        self.always_await = is_async(is_revoked) or is_async(check)

    def run_now(self, token: str | bytes, claims: Claims) -> bool:
        """Run every hook here and return True; or False, having run none: await ``run``."""
        if self.always_await:
            return False
        online = self.online
        if online is not None and not online.known(token):
            return False
        if self.is_revoked is not None:
            run_sync_is_revoked(self.is_revoked, claims)
        if self.check is not None:
            run_sync_check(self.check, token, claims)
        return True

    async def run(self, token: str | bytes, claims: Claims) -> None:
        if self.is_revoked is not None:
            await run_is_revoked(self.is_revoked, claims)
        if self.online is not None:
            await self.online.ensure(token, region=self.region)
        if self.check is not None:
            await run_check(self.check, token, claims)


def after_checks(
    *,
    is_revoked: IsRevoked | None,
    online: OnlineCheck | None,
    check: Check | None,
    region: str,
    token_use: str | None,
) -> AfterChecks | None:
    """The verifier's hooks, checked; None when it has none (the hot path then skips them)."""
    for name, hook in (("check", check), ("is_revoked", is_revoked)):
        if hook is not None and not callable(hook):
            raise ConfigurationError(f"expected {name} to be callable, found {hook!r}")
    if online is not None:
        if not isinstance(online, OnlineCheck):
            raise ConfigurationError(f"expected online_check an OnlineCheck, found {online!r}")
        if token_use != "access":
            raise ConfigurationError(
                "expected token_use 'access' with online_check (Cognito's GetUser takes the "
                f"access token), found {token_use!r}"
            )
    if is_revoked is None and online is None and check is None:
        return None
    return AfterChecks(is_revoked=is_revoked, online=online, check=check, region=region)
