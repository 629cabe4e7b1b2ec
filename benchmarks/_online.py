"""Part 1b: the online check (issue 16), cache hit against the local path, and a miss.

One real access token of a moto user pool, sent again and again in new string objects:
the local path is a result-cache hit; with ``online_check`` it is that plus the online
answer's lookup. A miss is a ``GetUser`` to the moto server on loopback (in this process,
so its own CPU shares the GIL): a floor for what a miss costs against Cognito, which adds
the network's round trip.
"""

from __future__ import annotations

import uuid

import boto3

from benchmarks._table import Row
from benchmarks._timing import fresh_copies, interleaved, per_call
from cognises.sync import CognitoVerifier, OnlineCheck
from cognises.testing import MotoEmulator
from cognises.testing._cognito import create_pool, create_user, log_in

CHUNK = 200
ROUNDS = 60
MISSES = 20


class _Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def run() -> list[Row]:
    with MotoEmulator() as moto:
        cognito = boto3.client("cognito-idp", **moto.client_kwargs())
        pool = create_pool(cognito, f"bench-online-{uuid.uuid4().hex[:6]}")
        create_user(cognito, pool, "bench")
        token = log_in(cognito, pool, "bench")["AccessToken"]
        clock = _Clock()
        online = OnlineCheck(ttl=60, endpoint_url=moto.endpoint, clock=clock)

        def verifier(**options: object) -> CognitoVerifier:
            made = CognitoVerifier(
                moto.region,
                pool.user_pool_id,
                client_ids=pool.client_id,
                token_use="access",
                jwks_url=moto.jwks_url(pool.user_pool_id),
                **options,  # type: ignore[arg-type]
            )
            for _ in range(2):  # keys fetched; the second admits it to the result cache
                made.verify(token)
            return made

        local, checked = verifier(), verifier(online_check=online)
        runs = ROUNDS + 2
        local_hits = fresh_copies([[token] * CHUNK] * runs)
        online_hits = fresh_copies([[token] * CHUNK] * runs)

        def local_hit() -> None:
            for each in next(local_hits):
                local.verify(each)

        def online_hit() -> None:
            for each in next(online_hits):
                checked.verify(each)

        times = interleaved(
            {"local": local_hit, "online": online_hit}, CHUNK, rounds=ROUNDS, warmup=2
        )
        calls = moto.revocation.calls if moto.revocation is not None else []
        before = calls.count("GetUser")

        def misses() -> None:
            for _ in range(MISSES):
                clock.now += 61  # every answer stale: each verify asks Cognito
                checked.verify(token)

        miss = per_call(misses, MISSES, repeats=3)
        asked = calls.count("GetUser") - before
    extra = times["online"] - times["local"]
    part = "1b online check"
    return [
        Row(
            part,
            "local path, result cache hit (access token)",
            f"{times['local'] * 1e6:.2f} µs",
            "",
            None,
        ),
        Row(
            part,
            "online check, cache hit (same token, answer cached)",
            f"{times['online'] * 1e6:.2f} µs ({extra * 1e6:+.2f} µs)",
            "≤ 2 µs over local",
            extra <= 2e-6,
        ),
        Row(
            part,
            "online check, miss (GetUser to moto on loopback)",
            f"{miss * 1e3:.2f} ms; {asked} GetUser for {3 * MISSES} misses",
            "shown",
            None,
        ),
    ]
