"""Part 5: provisioning 60 groups with 100 ms of latency per AWS call.

``create_update`` with concurrency 16 against the same ``create_update`` with
concurrency 1. Each group makes its calls in order (CreateRole, PutRolePolicy,
CreateGroup; one ListGroups first for the whole pool), so concurrency 1 makes every call
one after another: the seed's way, one call at a time. Both runs start from a new user
pool and new group names, so both make the same 181 calls.

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
from typing import Any

from benchmarks._table import Row
from cognises.aio import aws_clients, create_update

GROUPS = 60
CONCURRENCY = 16
LATENCY = 0.1
QUICK_LATENCY = 0.02  # --quick: the same calls, less waiting
CALLS_PER_GROUP = 3
TARGET = 8.0
IDENTITY_POOL = "us-east-1:00000000-0000-4000-8000-000000000000"


def _document(prefix: str) -> list[dict[str, Any]]:
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
        for i in range(GROUPS)
    ]


async def _runs(endpoint: str, plan: list[int]) -> list[float]:
    import aioboto3

    session = aioboto3.Session(
        region_name="us-east-1", aws_access_key_id="testing", aws_secret_access_key="testing"
    )
    seconds = []
    async with aws_clients(session, endpoint_url=endpoint) as (iam, cognito):
        for concurrency in plan:
            pool = await cognito.create_user_pool(PoolName=f"bench{uuid.uuid4().hex[:8]}")
            doc = _document(f"b{uuid.uuid4().hex[:8]}")
            start = time.perf_counter()
            report = await create_update(
                doc,
                iam,
                cognito,
                pool["UserPool"]["Id"],
                identity_pool_id=IDENTITY_POOL,
                concurrency=concurrency,
            )
            seconds.append(time.perf_counter() - start)
            if len(report.groups) != GROUPS or not report.ok:
                raise AssertionError(f"provisioning failed: {report.summary()}")
    return seconds


def run(quick: bool = False) -> list[Row]:
    latency = QUICK_LATENCY if quick else LATENCY
    moto = subprocess.Popen(
        [sys.executable, "-m", "benchmarks._moto_process", str(latency)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert moto.stdout is not None
        endpoint = moto.stdout.readline().strip()
        if not endpoint.startswith("http://127.0.0.1:"):
            raise RuntimeError(f"the moto process did not start: {endpoint!r}")
        # Two concurrent runs (the better one counts, as everywhere in this benchmark),
        # then the one-call-at-a-time run.
        fast_a, fast_b, slow = asyncio.run(_runs(endpoint, [CONCURRENCY, CONCURRENCY, 1]))
    finally:
        assert moto.stdin is not None
        moto.stdin.close()
        moto.wait(timeout=30)
    fast = min(fast_a, fast_b)
    speedup = slow / fast
    ideal = math.ceil(GROUPS / CONCURRENCY) * CALLS_PER_GROUP * latency
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
            "",
            None,
        ),
    ]
