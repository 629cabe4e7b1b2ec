"""Part 4: key fetches. Cold start under concurrency, and a flood of unknown kids.

The keys are served by a real HTTP server on 127.0.0.1 (stdlib, in a thread) that counts
every request; the verifier fetches them the way it would from Cognito.
"""

from __future__ import annotations

import asyncio
import json
import math
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from benchmarks._fixtures import issuer, tokens
from benchmarks._table import Row
from cognises.aio import CognitoVerifier, JWKSCache
from cognises.errors import UnknownKeyError
from cognises.testing._issuer import b64url

COLD = 1000
FLOOD = 10_000
WAVES = 20  # the flood comes in waves of FLOOD / WAVES concurrent verifications
WAVE_GAP = 3.0  # simulated seconds between waves
COOLDOWN = 10.0  # JWKSCache's default
SERVE_DELAY = 0.02  # seconds the server takes per answer, so that callers overlap


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def do_GET(self) -> None:
        self.server.count()
        time.sleep(self.server.delay)
        body = self.server.body
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        pass


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, document: Any, *, delay: float = SERVE_DELAY) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.body = json.dumps(document).encode()
        self.delay = delay
        self.requests = 0
        self._lock = threading.Lock()

    def count(self) -> None:
        with self._lock:
            self.requests += 1

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/.well-known/jwks.json"


class _Clock:
    """The cache's clock, moved by hand: the flood spans minutes in a fraction of a second."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def _verifier(url: str, cache: JWKSCache) -> CognitoVerifier:
    local = issuer()
    return CognitoVerifier(
        local.region,
        local.user_pool_id,
        client_ids=local.client_id,
        token_use="id",
        jwks_url=url,
        jwks_cache=cache,
    )


def _unknown_kid_tokens(count: int) -> list[str]:
    """Well-formed tokens whose kids the pool never published, each kid different."""
    _, payload, signature = tokens(1)[0].split(".")
    return [
        f"{b64url({'kid': uuid.uuid4().hex, 'alg': 'RS256'})}.{payload}.{signature}"
        for _ in range(count)
    ]


async def _cold(url: str, cold_tokens: list[str]) -> tuple[int, float]:
    cache = JWKSCache()
    verifier = _verifier(url, cache)
    start = time.perf_counter()
    results = await asyncio.gather(*(verifier.verify(token) for token in cold_tokens))
    elapsed = time.perf_counter() - start
    if not all(claims.sub for claims in results):
        raise AssertionError("a cold verification failed")
    return cache.fetch_count(url), elapsed


async def _flood(url: str, flood_tokens: list[str]) -> tuple[int, float, float]:
    clock = _Clock()
    cache = JWKSCache(cooldown=COOLDOWN, clock=clock)
    verifier = _verifier(url, cache)
    await verifier.hydrate()  # the app's start: one fetch
    size = len(flood_tokens) // WAVES
    start = time.perf_counter()
    for wave in range(WAVES):
        clock.now += WAVE_GAP
        chunk = flood_tokens[wave * size : (wave + 1) * size]
        outcomes = await asyncio.gather(
            *(verifier.verify(token) for token in chunk), return_exceptions=True
        )
        if not all(isinstance(outcome, UnknownKeyError) for outcome in outcomes):
            raise AssertionError("an unknown kid was not refused as such")
    elapsed = time.perf_counter() - start
    return cache.fetch_count(url) - 1, clock.now, elapsed


def run(quick: bool = False) -> list[Row]:  # fast enough as it is
    local = issuer()
    cold_tokens = list(tokens(COLD))
    flood_tokens = _unknown_kid_tokens(FLOOD)
    server = _Server(local.jwks())
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        cold_fetches, cold_elapsed = asyncio.run(_cold(server.url, cold_tokens))
        cold_seen = server.requests
        flood_fetches, span, flood_elapsed = asyncio.run(_flood(server.url, flood_tokens))
        flood_seen = server.requests - cold_seen - 1
    finally:
        server.shutdown()
        server.server_close()
        thread.join()

    bound = math.ceil(span / COOLDOWN)
    part = "4 JWKS"
    return [
        Row(
            part,
            f"{COLD:,} concurrent verifications, cold cache",
            f"{cold_fetches} fetch (server saw {cold_seen}); all verified in {cold_elapsed:.2f} s",
            "exactly 1 fetch",
            cold_fetches == cold_seen == 1,
        ),
        Row(
            part,
            f"{FLOOD:,} unknown kids in {WAVES} waves over {span:.0f} s (simulated clock), "
            f"cooldown {COOLDOWN:g} s",
            f"{flood_fetches} fetches (server saw {flood_seen}); "
            f"{flood_elapsed / FLOOD * 1e6:.0f} µs per refusal",
            f"≤ 1 per cooldown (≤ {bound})",
            flood_fetches == flood_seen and flood_fetches <= bound,
        ),
    ]
