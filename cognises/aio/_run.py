"""What every step of a provisioning run shares: the clients, the options, the rate
limiters, and the one way to make a read or a write call (planned only, in a dry run)."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from cognises._report import Change, GroupOutcome, GroupReport, ProgressEvent
from cognises.aio._aws import AWSCallError, call
from cognises.aio._ratelimit import RunRates
from cognises.aio._retry import RetryPolicy

__all__ = ["DEFAULT_ROLE_PATH", "NotOwned", "Progress", "Run", "failed", "guarded"]

logger = logging.getLogger("cognises.aio")

DEFAULT_ROLE_PATH = "/cognises/"

IAM = "iam"
COGNITO = "cognito-idp"
IDENTITY = "cognito-identity"


class NotOwned(Exception):
    """A role that cognises may not touch: it fails its group, with the way out."""


@dataclass
class Run:
    iam: Any
    cognito: Any
    pool_id: str
    retry: RetryPolicy
    dry_run: bool = False
    trust: dict[str, Any] = field(default_factory=dict)
    identity: Any = None
    adopt: bool = False
    prune: bool = False
    permissions_boundary: str | None = None
    role_path: str = DEFAULT_ROLE_PATH
    on_progress: Callable[[ProgressEvent], None] | None = None
    existing: dict[str, dict[str, Any]] = field(default_factory=dict)
    rates: RunRates = field(default_factory=RunRates)

    def notify(self, event: ProgressEvent) -> None:
        if self.on_progress is None:
            return
        try:
            self.on_progress(event)
        except Exception:
            # A broken progress display must not fail the group it reports on.
            logger.exception("on_progress callback failed for group %r", event.group_name)

    async def read(
        self, service: str, method: Callable[..., Awaitable[dict[str, Any]]], **params: Any
    ) -> dict[str, Any]:
        return await call(method, retry=self.retry, limiter=self.rates[service], **params)

    async def write(
        self,
        progress: Progress,
        change: Change,
        service: str,
        method: Callable[..., Awaitable[dict[str, Any]]],
        *,
        propagating_role: bool = False,
        **params: Any,
    ) -> dict[str, Any] | None:
        """Make one write call, or in a dry run only plan it; either way record the change.

        A change is recorded once made, so a failed group's report lists only what was done.
        """
        if self.dry_run:
            progress.changes.append(change)
            return None
        response = await call(
            method,
            retry=self.retry,
            propagating_role=propagating_role,
            limiter=self.rates[service],
            **params,
        )
        progress.changes.append(change)
        logger.info("%s %s", change.action, change.target)
        return response


@dataclass
class Progress:
    """What one group's run has done so far: kept when a later call fails."""

    changes: list[Change] = field(default_factory=list)
    drift: list[str] = field(default_factory=list)
    role_arn: str | None = None
    role_name: str | None = None


async def guarded(
    name: str, role_name: str, work: Callable[[Progress], Awaitable[GroupReport]]
) -> GroupReport:
    # One group's failure must not cancel the others: every exception (but not
    # cancellation, which is a BaseException) becomes this group's failed report.
    progress = Progress(role_name=role_name)
    try:
        report: GroupReport = await work(progress)
    except AWSCallError as exc:
        logger.warning("group %r failed: %s", name, exc)
        return failed(name, progress, exc.summary, exc.code)
    except NotOwned as exc:
        logger.warning("group %r failed: %s", name, exc)
        return failed(name, progress, str(exc))
    except Exception as exc:
        logger.exception("unexpected error while provisioning group %r", name)
        return failed(name, progress, f"unexpected {type(exc).__name__}: {exc}")
    return report


def failed(name: str, progress: Progress, error: str, code: str | None = None) -> GroupReport:
    return GroupReport(
        group_name=name,
        outcome=GroupOutcome.FAILED,
        role_name=progress.role_name or "",
        role_arn=progress.role_arn,
        changes=tuple(progress.changes),
        error=f"group {name!r}: {error}",
        error_code=code,
        drift=tuple(progress.drift),
    )
