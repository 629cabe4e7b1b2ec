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
    "MemberFailure",
    "MembershipReport",
    "ProgressEvent",
    "ProvisioningReport",
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
            "error": self.error,
            "error_code": self.error_code,
        }


@dataclass(frozen=True)
class ProgressEvent:
    """A group's run moved on: ``step`` is ``"role"``, ``"policy"`` or ``"group"`` once that
    step is settled, then ``"done"`` with the group's ``report``."""

    group_name: str
    step: str
    report: GroupReport | None = None


@dataclass(frozen=True)
class ProvisioningReport:
    """Every group's outcome, in document order. ``dry_run`` reports list planned changes."""

    groups: tuple[GroupReport, ...]
    dry_run: bool = False

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

    def summary(self) -> str:
        counts = ", ".join(f"{n} {name}" for name, n in self.counts.items() if n)
        prefix = "dry run: " if self.dry_run else ""
        return f"{prefix}{len(self.groups)} group(s): {counts or 'nothing to do'}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "dry_run": self.dry_run,
            "ok": self.ok,
            "counts": self.counts,
            "groups": [g.to_dict() for g in self.groups],
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
