"""A client-side rate per AWS service that adapts to throttling, shared by a whole run.

IAM and Cognito throttle control-plane calls per account and Region, at a rate AWS does
not publish for IAM and that Cognito lists per category of operations. Retrying throttled
calls with backoff alone turns a run of hundreds of groups into a retry storm: every
task keeps sending as fast as it can and most calls bounce. So every call of a run first
takes a slot from its service's ``AdaptiveRate``:

- Until the service throttles, there is no limit at all (a run that AWS lets through at
  full speed pays nothing).
- At the first throttle, the rate is set just under what the service really let through
  in the last second; after that it is AIMD: each throttle cuts it by ``_DECREASE`` (at
  most one cut per ``_COOLDOWN``, since the calls already in flight were sent at the old
  rate), each successful call raises it so that it grows by ``_INCREASE`` calls per
  second every second. It hovers just under the service's limit.

Why ours and not botocore's ``adaptive`` retry mode: that limiter lives inside each
client, and cognises is handed clients made by the caller (boto3 or aioboto3, any retry
configuration); it cannot be turned on for them, would not be shared between the IAM
and Cognito limits we want kept apart, and does not say how often it throttled or how
long calls waited, which the report must show. It also retries on its own, which would
hide throttling from ``_retry``'s bounded budget.
"""

from __future__ import annotations

from collections import deque

import anyio

from cognises._report import RateStats

__all__ = ["AdaptiveRate", "RunRates"]

_DECREASE = 0.7
_INCREASE = 0.5  # calls per second, per second
_MIN_RATE = 0.5
_COOLDOWN = 1.0  # seconds between two cuts
_WINDOW = 1.0  # seconds of successes that measure the first rate


class AdaptiveRate:
    """One service's rate. Lives on one event loop: made per run, never shared across runs."""

    def __init__(self, service: str) -> None:
        self.service = service
        self.rate: float | None = None
        self.calls = 0
        self.throttled = 0
        self.waited = 0.0
        self._next_slot = 0.0
        self._last_cut = float("-inf")
        self._recent: deque[float] = deque()

    async def acquire(self) -> None:
        """Wait for this call's slot; slots are handed out in order, one per 1/rate."""
        self.calls += 1
        if self.rate is None:
            return
        now = anyio.current_time()
        slot = max(now, self._next_slot)
        self._next_slot = slot + 1.0 / self.rate
        if slot > now:
            self.waited += slot - now
            await anyio.sleep(slot - now)

    def succeeded(self) -> None:
        now = anyio.current_time()
        self._recent.append(now)
        while self._recent and self._recent[0] < now - _WINDOW:
            self._recent.popleft()
        if self.rate is not None:
            self.rate += _INCREASE / self.rate

    def was_throttled(self) -> None:
        self.throttled += 1
        now = anyio.current_time()
        if now - self._last_cut < _COOLDOWN:
            return
        self._last_cut = now
        if self.rate is None:
            let_through = sum(1 for t in self._recent if t >= now - _WINDOW) / _WINDOW
            self.rate = max(_MIN_RATE, let_through * _DECREASE)
        else:
            self.rate = max(_MIN_RATE, self.rate * _DECREASE)
        # Slots promised at the old rate would keep the old pace for a while.
        self._next_slot = min(self._next_slot, now + 1.0 / self.rate)

    def stats(self) -> RateStats:
        return RateStats(self.service, self.calls, self.throttled, self.waited, self.rate)


class RunRates:
    """The limiters of one run, one per service, made on first use."""

    def __init__(self) -> None:
        self._by_service: dict[str, AdaptiveRate] = {}

    def __getitem__(self, service: str) -> AdaptiveRate:
        limiter = self._by_service.get(service)
        if limiter is None:
            limiter = self._by_service[service] = AdaptiveRate(service)
        return limiter

    def stats(self) -> tuple[RateStats, ...]:
        return tuple(self._by_service[s].stats() for s in sorted(self._by_service))
