"""What a provisioning or membership run did (or, in a dry run, would do), group by group.

Reports are plain frozen data so that they can be logged, compared in tests and dumped
as JSON (``to_dict``) by a command-line front end.
"""

from __future__ import annotations

import enum
from collections import Counter
from dataclasses import dataclass
from typing import Any

__all__ = [
    "Change",
    "GroupOutcome",
    "GroupReport",
    "IdentityPoolReport",
    "MemberFailure",
    "MembershipReport",
    "ProgressEvent",
    "ProvisioningReport",
    "RateStats",
]


class GroupOutcome(str, enum.Enum):
    """What happened to one group."""

    CREATED = "created"
    """The Cognito group was created (its role may have been created or adopted)."""
    UPDATED = "updated"
    """The group existed; its role, trust policy, inline policy or attributes were rewritten."""
    UNCHANGED = "unchanged"
    """Everything already matched: no write call was made."""
    DELETED = "deleted"
    """``delete_groups`` removed the group, its role or both."""
    FAILED = "failed"
    """An AWS call failed; ``GroupReport.error`` says which and why."""

    def __str__(self) -> str:
        return self.value


@dataclass(frozen=True)
class Change:
    """One write call, made or (in a dry run) planned.

    ``action`` is the AWS API action (``CreateRole``, ``PutRolePolicy``, ``UpdateGroup``...),
    ``target`` the role, policy or group it acts on, ``detail`` why it is needed.
    """

    action: str
    target: str
    detail: str = ""

    def to_dict(self) -> dict[str, str]:
        return {"action": self.action, "target": self.target, "detail": self.detail}


@dataclass(frozen=True)
class GroupReport:
    """The outcome of one group."""

    group_name: str
    outcome: GroupOutcome
    role_name: str
    role_arn: str | None = None
    changes: tuple[Change, ...] = ()
    error: str | None = None
    error_code: str | None = None
    """The AWS error code of a failure (``AccessDenied``, ``LimitExceeded``...), if AWS gave one."""
    drift: tuple[str, ...] = ()
    """What the role holds beyond the document (other inline policies, attached managed
    policies, a permissions boundary not asked for), left in place: ``prune`` removes it."""

    @property
    def failed(self) -> bool:
        return self.outcome is GroupOutcome.FAILED

    def to_dict(self) -> dict[str, Any]:
        return {
            "group_name": self.group_name,
            "outcome": self.outcome.value,
            "role_name": self.role_name,
            "role_arn": self.role_arn,
            "changes": [c.to_dict() for c in self.changes],
            "drift": list(self.drift),
            "error": self.error,
            "error_code": self.error_code,
        }


@dataclass(frozen=True)
class IdentityPoolReport:
    """What became of the identity pool's role mapping for this user pool's providers.

    ``providers``: the identity pool's providers of this user pool
    (``cognito-idp.<region>.amazonaws.com/<pool>:<client>``). ``problem``: why the
    mapping could not be made (the pool is unknown, or does not list this user pool, so
    no identity can reach the roles); the groups are not failed for it.
    """

    identity_pool_id: str
    providers: tuple[str, ...] = ()
    changes: tuple[Change, ...] = ()
    problem: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "identity_pool_id": self.identity_pool_id,
            "providers": list(self.providers),
            "changes": [c.to_dict() for c in self.changes],
            "problem": self.problem,
        }


@dataclass(frozen=True)
class ProgressEvent:
    """A group's run moved on: ``step`` is ``"role"``, ``"policy"`` or ``"group"`` once that
    step is settled, then ``"done"`` with the group's ``report``."""

    group_name: str
    step: str
    report: GroupReport | None = None


@dataclass(frozen=True)
class RateStats:
    """What one service's limiter saw in a run."""

    service: str
    calls: int
    throttled: int
    waited: float
    """Seconds calls spent waiting for a slot, summed over calls."""
    rate: float | None
    """The rate at the end of the run (calls per second), None if never throttled."""

    def to_dict(self) -> dict[str, object]:
        return {
            "service": self.service,
            "calls": self.calls,
            "throttled": self.throttled,
            "waited": round(self.waited, 3),
            "rate": None if self.rate is None else round(self.rate, 2),
        }


@dataclass(frozen=True)
class ProvisioningReport:
    """Every group's outcome, in document order. ``dry_run`` reports list planned changes."""

    groups: tuple[GroupReport, ...]
    dry_run: bool = False
    identity_pool: IdentityPoolReport | None = None
    warnings: tuple[str, ...] = ()
    """Problems of the document that are not errors (groups sharing a precedence...)."""
    rates: tuple[RateStats, ...] = ()
    """Per AWS service: calls made, calls throttled, seconds waited for the rate limit."""

    @property
    def failed(self) -> tuple[GroupReport, ...]:
        return tuple(g for g in self.groups if g.failed)

    @property
    def ok(self) -> bool:
        return not self.failed

    @property
    def counts(self) -> dict[str, int]:
        """How many groups had each outcome; every outcome is present, zero or not."""
        seen = Counter(g.outcome for g in self.groups)
        return {outcome.value: seen[outcome] for outcome in GroupOutcome}

    @property
    def changes(self) -> tuple[Change, ...]:
        """Every change of every group, in document order."""
        return tuple(c for g in self.groups for c in g.changes)

    def __getitem__(self, group_name: str) -> GroupReport:
        for group in self.groups:
            if group.group_name == group_name:
                return group
        raise KeyError(group_name)

    @property
    def throttled_calls(self) -> int:
        return sum(r.throttled for r in self.rates)

    @property
    def waited(self) -> float:
        """Seconds calls waited for a rate-limit slot, summed over calls and services."""
        return sum(r.waited for r in self.rates)

    def summary(self) -> str:
        counts = ", ".join(f"{n} {name}" for name, n in self.counts.items() if n)
        prefix = "dry run: " if self.dry_run else ""
        return f"{prefix}{len(self.groups)} group(s): {counts or 'nothing to do'}"

    def rate_summary(self) -> str:
        """``N of M calls throttled, X s waited for the rate limit``, per service."""
        return "; ".join(
            f"{r.service}: {r.throttled} of {r.calls} calls throttled, {r.waited:.1f} s waited"
            for r in self.rates
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "dry_run": self.dry_run,
            "ok": self.ok,
            "counts": self.counts,
            "groups": [g.to_dict() for g in self.groups],
            "identity_pool": None if self.identity_pool is None else self.identity_pool.to_dict(),
            "warnings": list(self.warnings),
            "rates": [r.to_dict() for r in self.rates],
        }


@dataclass(frozen=True)
class MemberFailure:
    """A user whose membership change failed."""

    username: str
    error: str
    error_code: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"username": self.username, "error": self.error, "error_code": self.error_code}


@dataclass(frozen=True)
class MembershipReport:
    """The outcome of adding users to, or removing them from, one group."""

    group_name: str
    action: str  # "add" or "remove"
    succeeded: tuple[str, ...] = ()
    failed: tuple[MemberFailure, ...] = ()

    @property
    def ok(self) -> bool:
        return not self.failed

    def to_dict(self) -> dict[str, Any]:
        return {
            "group_name": self.group_name,
            "action": self.action,
            "ok": self.ok,
            "succeeded": list(self.succeeded),
            "failed": [f.to_dict() for f in self.failed],
        }
