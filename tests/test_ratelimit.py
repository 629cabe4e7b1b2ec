"""Bulk runs at AWS's rate limits: the emulator's token buckets, and cognises' adaptive
per-service rate that keeps a run just under them (``cognises.aio._ratelimit``)."""

from __future__ import annotations

from collections import Counter

import anyio
import pytest
from provision_support import FAST_RETRY, assert_converged, clients, document, new_pool, unique

from cognises._report import ProgressEvent
from cognises.aio import create_update
from cognises.aio._ratelimit import AdaptiveRate
from cognises.testing._emulator import FaultInjector, MotoEmulator

pytestmark = pytest.mark.anyio

IDENTITY_POOL = "us-east-1:0a1b2c3d-0000-4000-8000-123456789abc"


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


async def test_the_emulator_throttles_writes_beyond_its_rate_like_aws(
    moto_server: MotoEmulator, faults: FaultInjector
) -> None:
    async with clients(moto_server) as (iam, cognito):
        pool_id = await new_pool(cognito)
        # One call's burst and next to no refill: the count does not depend on timing.
        faults.reset(rate_limits={"iam": 0.001, "cognito-idp": 0.001})
        codes: list[str] = []

        async def write(call: object) -> None:
            try:
                await call  # type: ignore[misc]
            except Exception as exc:
                codes.append(exc.response["Error"]["Code"])  # type: ignore[attr-defined]

        async with anyio.create_task_group() as burst:
            for i in range(6):
                burst.start_soon(
                    write, iam.create_role(RoleName=unique("rl"), AssumeRolePolicyDocument="{}")
                )
                burst.start_soon(write, cognito.create_group(GroupName=f"g{i}", UserPoolId=pool_id))
        # Reads are not limited.
        for _ in range(5):
            await iam.list_roles(MaxItems=1)

    assert Counter(codes) == {"Throttling": 5, "TooManyRequestsException": 5}
    assert [c.action for c in faults.calls if c.throttled].count("CreateRole") == 5
    assert not any(c.throttled for c in faults.calls if c.action == "ListRoles")


async def test_a_run_under_the_limits_converges_and_reports_its_throttling(
    moto_server: MotoEmulator, faults: FaultInjector
) -> None:
    prefix = unique()
    doc = document(prefix, 40)
    async with clients(moto_server) as (iam, cognito):
        pool_id = await new_pool(cognito)
        faults.reset(rate_limits={"iam": 20.0, "cognito-idp": 30.0})
        # Each progress event, with how many calls the emulator had seen by then.
        moved: list[tuple[ProgressEvent, int]] = []

        report = await create_update(
            doc,
            iam,
            cognito,
            pool_id,
            identity_pool_id=IDENTITY_POOL,
            retry=FAST_RETRY,
            on_progress=lambda event: moved.append((event, len(faults.calls))),
        )

        assert report.ok
        # The progress keeps moving while calls are throttled: every group reports each
        # step as it settles, the first before the last throttled call is served, and
        # groups finish along the run, not all at its end.
        for group in report.groups:
            steps = [e.step for e, _ in moved if e.group_name == group.group_name]
            assert steps == ["role", "policy", "group", "done"]
        last_throttled = max(i for i, c in enumerate(faults.calls) if c.throttled)
        assert min(seen for _, seen in moved) <= last_throttled
        assert min(seen for e, seen in moved if e.step == "done") < len(faults.calls) // 2
        # Every write succeeded once; the throttled ones were repeated, not doubled.
        assert Counter(faults.actions(writes_only=True)) == {
            "CreateRole": 40,
            "PutRolePolicy": 40,
            "CreateGroup": 40,
        }
        throttled = Counter(c.service for c in faults.calls if c.throttled)
        assert throttled["iam"] > 0, "80 IAM writes at once must meet the 20/s bucket"
        stats = {r.service: r for r in report.rates}
        served = Counter(c.service for c in faults.calls)
        for service in ("iam", "cognito-idp"):
            assert stats[service].calls == served[service]
            assert stats[service].throttled == throttled[service]
        assert report.throttled_calls == sum(throttled.values())
        assert stats["iam"].rate is not None  # throttled once, the limiter took over
        assert stats["iam"].waited > 0
        assert "iam: " in report.rate_summary()
        assert report.to_dict()["rates"][1]["throttled"] == throttled["iam"]
        faults.rate_limits = {}
        await assert_converged(iam, cognito, pool_id, doc, prefix)


async def test_the_rate_is_unlimited_until_throttled_then_aimd() -> None:
    rate = AdaptiveRate("iam")
    for _ in range(10):
        await rate.acquire()
        rate.succeeded()
    assert rate.rate is None
    assert rate.waited == 0

    rate.was_throttled()
    # Just under what the service let through in the last second: 10 calls.
    assert rate.rate == pytest.approx(7.0)
    rate.was_throttled()  # the calls already in flight: no second cut yet
    assert rate.rate == pytest.approx(7.0)
    assert rate.throttled == 2

    rate.succeeded()
    assert rate.rate == pytest.approx(7.0 + 0.5 / 7.0)
    await rate.acquire()
    await rate.acquire()  # the second waits its turn, one slot after the first
    assert rate.waited > 0
    assert rate.stats().calls == 12
