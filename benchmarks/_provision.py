"""Part 5: provisioning, at full speed and at AWS's rate limits.

**No limit.** 60 groups with 100 ms of latency per AWS call: ``create_update`` with
concurrency 16 against the same with concurrency 1. Each group makes its calls in order:
CreateRole, then PutRolePolicy (it needs the role), then CreateGroup (it needs the role's
ARN, and waits for the policy so that no group ever points at a role without it); one
ListGroups for the whole pool comes first, and the identity pool's calls overlap the
groups (DescribeIdentityPool, GetIdentityPoolRoles, SetIdentityPoolRoles, in order,
beside the first wave). So concurrency 1 makes every group call one after another, the
seed's way, and the ideal with concurrency 16 is ceil(60 / 16) waves x 3 calls x 100 ms.
Both runs start from a new user pool (and identity pool) and new group names, so both
make the same 184 calls.

**At the limits.** 300 groups against a moto whose ``FaultInjector`` throttles writes
beyond 20 a second for IAM and 30 a second for Cognito (token buckets, answering
``Throttling`` / ``TooManyRequestsException`` as AWS does), with botocore's own retries
off so that every throttle reaches cognises: 600 IAM writes at 20/s make 30 s the least
time the limits allow. The run must fail no group, take at most 1.25x that, and have
fewer than 10% of its calls throttled.

moto runs in a separate process (``_moto_process``), so that its own CPU time per call
is not taken from the client.
"""

from __future__ import annotations

import asyncio
import math
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from benchmarks._table import Row
from cognises.aio import aws_clients, create_update

GROUPS = 60
CONCURRENCY = 16
LATENCY = 0.1
CALLS_PER_GROUP = 3
TARGET = 8.0
IDEAL_TARGET = 1.25

LIMITED_GROUPS = 300
LIMITS = {"iam": 20.0, "cognito-idp": 30.0}
# --quick: the same calls, less waiting and fewer groups under the limits.
QUICK_LATENCY = 0.02
QUICK_LIMITED_GROUPS = 30
THROTTLED_TARGET = 0.10


def _document(prefix: str, count: int = GROUPS) -> list[dict[str, Any]]:
    return [
        {
            "group_name": f"{prefix}-g{i:03d}",
            "group_policy": {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Action": "s3:GetObject",
                        "Resource": f"arn:aws:s3:::bench/{prefix}-g{i:03d}/*",
                    }
                ],
            },
            "created": "false",
            "allowed_functions": ["view"],
        }
        for i in range(count)
    ]


def _session() -> Any:
    import aioboto3

    return aioboto3.Session(
        region_name="us-east-1", aws_access_key_id="testing", aws_secret_access_key="testing"
    )


async def _pools(cognito: Any, identity: Any) -> tuple[str, str]:
    """A new user pool and an identity pool that lists it (with one app client)."""
    pool_id: str = (await cognito.create_user_pool(PoolName=f"bench{uuid.uuid4().hex[:8]}"))[
        "UserPool"
    ]["Id"]
    client = await cognito.create_user_pool_client(UserPoolId=pool_id, ClientName="bench")
    identity_pool = await identity.create_identity_pool(
        IdentityPoolName=f"bench{uuid.uuid4().hex[:8]}",
        AllowUnauthenticatedIdentities=False,
        CognitoIdentityProviders=[
            {
                "ProviderName": f"cognito-idp.us-east-1.amazonaws.com/{pool_id}",
                "ClientId": client["UserPoolClient"]["ClientId"],
            }
        ],
    )
    return pool_id, identity_pool["IdentityPoolId"]


async def _runs(endpoint: str, plan: list[int]) -> list[float]:
    seconds = []
    session = _session()
    async with (
        aws_clients(session, endpoint_url=endpoint) as (iam, cognito),
        session.client("cognito-identity", endpoint_url=endpoint) as identity,
    ):
        for concurrency in plan:
            pool_id, identity_pool = await _pools(cognito, identity)
            doc = _document(f"b{uuid.uuid4().hex[:8]}")
            start = time.perf_counter()
            report = await create_update(
                doc,
                iam,
                cognito,
                pool_id,
                identity_pool_id=identity_pool,
                identity_client=identity,
                concurrency=concurrency,
            )
            seconds.append(time.perf_counter() - start)
            pool = report.identity_pool
            if len(report.groups) != GROUPS or not report.ok or pool is None or pool.problem:
                raise AssertionError(f"provisioning failed: {report.summary()}, {pool}")
    return seconds


async def _limited_run(endpoint: str, groups: int) -> tuple[float, Any]:
    from aiobotocore.config import AioConfig

    # botocore's retries off: every throttle reaches cognises' limiter and is counted.
    config = AioConfig(
        retries={"total_max_attempts": 1, "mode": "standard"}, max_pool_connections=50
    )
    session = _session()
    async with (
        aws_clients(session, endpoint_url=endpoint, config=config) as (iam, cognito),
        session.client("cognito-identity", endpoint_url=endpoint, config=config) as identity,
    ):
        pool_id, identity_pool = await _pools(cognito, identity)
        doc = _document(f"r{uuid.uuid4().hex[:8]}", groups)
        start = time.perf_counter()
        try:
            report = await create_update(
                doc,
                iam,
                cognito,
                pool_id,
                identity_pool_id=identity_pool,
                identity_client=identity,
                concurrency=CONCURRENCY,
            )
        except Exception as exc:
            report = getattr(exc, "report", None)
            if report is None:
                raise
        return time.perf_counter() - start, report


@contextmanager
def _moto(*args: str) -> Iterator[str]:
    moto = subprocess.Popen(
        [sys.executable, "-m", "benchmarks._moto_process", *args],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert moto.stdout is not None
        endpoint = moto.stdout.readline().strip()
        if not endpoint.startswith("http://127.0.0.1:"):
            raise RuntimeError(f"the moto process did not start: {endpoint!r}")
        yield endpoint
    finally:
        assert moto.stdin is not None
        moto.stdin.close()
        moto.wait(timeout=30)


def run(quick: bool = False) -> list[Row]:
    latency = QUICK_LATENCY if quick else LATENCY
    limited_groups = QUICK_LIMITED_GROUPS if quick else LIMITED_GROUPS
    writes = {"iam": 2 * limited_groups, "cognito-idp": limited_groups}
    with _moto(str(latency)) as endpoint:
        # Two concurrent runs (the better one counts, as everywhere in this benchmark),
        # then the one-call-at-a-time run.
        fast_a, fast_b, slow = asyncio.run(_runs(endpoint, [CONCURRENCY, CONCURRENCY, 1]))
    with _moto("0", *(f"{service}={rate:g}" for service, rate in LIMITS.items())) as endpoint:
        limited, report = asyncio.run(_limited_run(endpoint, limited_groups))
    fast = min(fast_a, fast_b)
    speedup = slow / fast
    ideal = math.ceil(GROUPS / CONCURRENCY) * CALLS_PER_GROUP * latency
    floor = max(writes[s] / LIMITS[s] for s in LIMITS)
    calls = sum(r.calls for r in report.rates)
    throttled = report.throttled_calls
    part = "5 provisioning"
    return [
        Row(
            part,
            f"{GROUPS} groups, {latency * 1000:.0f} ms per call: concurrency {CONCURRENCY} "
            "vs one call at a time",
            f"{speedup:.1f}× faster ({fast:.2f} s vs {slow:.2f} s)",
            f"≥ {TARGET:g}×",
            speedup >= TARGET,
        ),
        Row(
            part,
            f"against the ideal ceil({GROUPS}/{CONCURRENCY}) × {CALLS_PER_GROUP} × "
            f"{latency * 1000:.0f} ms = {ideal:.2f} s",
            f"{fast / ideal:.2f}× the ideal",
            f"≤ {IDEAL_TARGET:g}×",
            fast / ideal <= IDEAL_TARGET,
        ),
        Row(
            part,
            f"{limited_groups} groups under {LIMITS['iam']:g} IAM / {LIMITS['cognito-idp']:g} "
            f"Cognito writes/s: time against writes / rate = {floor:.0f} s",
            f"{limited / floor:.2f}× ({limited:.1f} s), {len(report.failed)} failed groups",
            f"≤ {IDEAL_TARGET:g}×, 0 failed",
            limited / floor <= IDEAL_TARGET and report.ok,
        ),
        Row(
            part,
            "the same run: throttled calls (cognises' adaptive rate per service)",
            f"{throttled / max(calls, 1):.1%} ({throttled} of {calls}; "
            f"{report.waited:.0f} s waited in all)",
            f"< {THROTTLED_TARGET:.0%}",
            throttled / max(calls, 1) < THROTTLED_TARGET,
        ),
    ]
