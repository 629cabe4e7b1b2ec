"""Retrying AWS calls that failed for a reason that time cures.

Two reasons qualify. Throttling: retried with exponential backoff and full jitter (each
wait is uniform between zero and the exponential bound), so that many concurrent groups
that were throttled together do not come back together. And a role that IAM has created
but not yet propagated to Cognito: ``CreateGroup`` or ``UpdateGroup`` then answers
``InvalidParameterException`` about the role, which clears within seconds.

Both retries are bounded in attempts and in total time, so a run never hangs on a
service that keeps refusing.
"""

from __future__ import annotations

import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TypeVar

import anyio

from cognises.errors import ConfigurationError

__all__ = ["THROTTLING_CODES", "RetryPolicy", "is_role_propagation_error", "retrying"]

T = TypeVar("T")

THROTTLING_CODES = frozenset(
    {"Throttling", "ThrottlingException", "TooManyRequestsException", "RequestLimitExceeded"}
)

# Jitter is for spreading load, not for secrecy.
_jitter = random.Random()  # noqa: S311


@dataclass(frozen=True)
class RetryPolicy:
    """How long to keep retrying throttled calls and not-yet-propagated roles."""

    max_attempts: int = 8
    """Attempts per call when throttled, the first one included."""
    base_delay: float = 0.1
    """Seconds: the bound of the first backoff; it doubles with each attempt."""
    max_delay: float = 5.0
    """Seconds: no single backoff is longer than this."""
    max_total: float = 60.0
    """Seconds: no retry starts once the call has been retried for this long."""
    propagation_delay: float = 1.0
    """Seconds between attempts while a new role propagates."""
    propagation_timeout: float = 20.0
    """Seconds: how long a new role may take to become usable by Cognito."""

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ConfigurationError(
                f"max_attempts: expected at least 1, found {self.max_attempts}"
            )
        for name in (
            "base_delay",
            "max_delay",
            "max_total",
            "propagation_delay",
            "propagation_timeout",
        ):
            if getattr(self, name) < 0:
                raise ConfigurationError(
                    f"{name}: expected zero or more seconds, found {getattr(self, name)}"
                )

    def backoff(self, attempt: int) -> float:
        """The wait after failed attempt number ``attempt`` (1-based): full jitter."""
        bound = min(self.max_delay, self.base_delay * 2 ** (attempt - 1))
        return _jitter.uniform(0, bound)


def is_role_propagation_error(code: str | None, message: str) -> bool:
    """Whether Cognito refused a role ARN that IAM may not have propagated yet."""
    return code == "InvalidParameterException" and "role" in message.lower()


async def retrying(
    attempt: Callable[[], Awaitable[T]],
    *,
    policy: RetryPolicy,
    should_retry: Callable[[BaseException], str | None],
) -> T:
    """Await ``attempt()`` until it succeeds or ``policy`` gives up; then re-raise.

    ``should_retry`` classifies a failure: ``"throttled"``, ``"propagation"`` or ``None``
    (not retryable). Each kind has its own budget.
    """
    started = anyio.current_time()
    throttled = 0
    while True:
        try:
            return await attempt()
        except Exception as exc:
            kind = should_retry(exc)
            elapsed = anyio.current_time() - started
            if kind == "throttled":
                throttled += 1
                delay = policy.backoff(throttled)
                if throttled >= policy.max_attempts or elapsed + delay > policy.max_total:
                    raise
            elif kind == "propagation":
                delay = policy.propagation_delay
                if elapsed + delay > policy.propagation_timeout:
                    raise
            else:
                raise
        await anyio.sleep(delay)
