"""Load: a real Flask server under 8 client threads x 500 requests, every answer checked.

werkzeug's threaded server on 127.0.0.1 serves sync and async views, plain and
group-protected. The pool's keys come from a real JWKS server on 127.0.0.1, so the fetch
count is what went over the wire. The clients send a fixed mix of valid tokens (with and
without the group), expired ones, forged ones (signed by another key under the pool's
kid) and none, in the header or the cookie. All eight threads start together on a cold
cache. Expected: no 5xx, every status and body as the mix says, each view called exactly
once per accepted request, and the key set fetched exactly once.

Part of the normal suite: 4,000 requests take a few seconds.
"""

from __future__ import annotations

import threading
from collections import Counter
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from flask import Flask, jsonify
from flask_support import serve
from jwks_server import JWKSServer, Reply

from cognises.aio import JWKSCache
from cognises.flask import current_claims, login_check, permission_required
from cognises.testing import LocalIssuer

THREADS = 8
REQUESTS_PER_THREAD = 500
PATHS = ["/sync", "/async", "/sync-admin", "/async-admin"]
KINDS = ["admin", "member", "expired", "forged", "missing"]


@dataclass(frozen=True)
class Expected:
    status: int
    body: dict[str, Any]


class ViewCalls:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.counts: Counter[str] = Counter()

    def add(self, path: str) -> None:
        with self._lock:
            self.counts[path] += 1


def make_app(issuer: LocalIssuer, jwks_url: str, cache: JWKSCache, calls: ViewCalls) -> Flask:
    app = Flask(__name__)
    app.config.update(
        COGNISES_REGION=issuer.region,
        COGNISES_USER_POOL_ID=issuer.user_pool_id,
        COGNISES_CLIENT_IDS=issuer.client_id,
        COGNISES_JWKS_URL=jwks_url,
        COGNISES_JWKS_CACHE=cache,
    )

    def answer(path: str) -> Any:
        calls.add(path)
        return jsonify(view=path, user=current_claims.username, groups=current_claims.groups)

    for path in PATHS:
        is_async = path.startswith("/async")

        if is_async:

            async def view(path: str = path) -> Any:
                return answer(path)

        else:

            def view(path: str = path) -> Any:  # type: ignore[misc]
                return answer(path)

        wrapped: Any = view
        if path.endswith("-admin"):
            wrapped = permission_required(groups=["admins"])(wrapped)
        wrapped = login_check(pass_response=False)(wrapped)
        app.add_url_rule(path, endpoint=path, view_func=wrapped)
    return app


def expected_answer(kind: str, path: str) -> Expected:
    if kind in ("admin", "member"):
        if kind == "member" and path.endswith("-admin"):
            return Expected(403, {"message": "Forbidden access", "status": 403})
        groups = ["admins", "staff"] if kind == "admin" else ["staff"]
        return Expected(200, {"view": path, "user": kind, "groups": groups})
    message = {
        "expired": "token has expired",
        "forged": "token is invalid",
        "missing": "token is missing",
    }[kind]
    return Expected(401, {"message": message, "status": 401})


@pytest.fixture(scope="module")
def issuer() -> LocalIssuer:
    return LocalIssuer(region="sa-east-1", user_pool_id="sa-east-1_LoadTest1", client_id="load")


def test_8_threads_x_500_requests_all_answered_right_with_one_jwks_fetch(issuer):
    wrong_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    # Several tokens of each kind, so that not every request is a result-cache hit.
    tokens: dict[str, list[str]] = {
        "admin": [issuer.token(username="admin", groups=["admins", "staff"]) for _ in range(5)],
        "member": [issuer.token(username="member", groups=["staff"]) for _ in range(5)],
        "expired": [issuer.token(username="expired", expires_in=-3600) for _ in range(5)],
        "forged": [
            issuer.sign(issuer.claims(username="admin", groups=["admins"]), key=wrong_key)
            for _ in range(5)
        ],
    }
    calls = ViewCalls()
    cache = JWKSCache()
    start = threading.Barrier(THREADS)
    problems: list[str] = []
    statuses: Counter[int] = Counter()
    expected_calls: Counter[str] = Counter()
    lock = threading.Lock()

    def client_thread(number: int, base: str) -> None:
        seen: Counter[int] = Counter()
        wanted_calls: Counter[str] = Counter()
        mine: list[str] = []
        with httpx.Client(base_url=base, timeout=30, trust_env=False) as client:
            start.wait(timeout=30)
            for i in range(REQUESTS_PER_THREAD):
                kind = KINDS[(number + i) % len(KINDS)]
                path = PATHS[(number * 3 + i // len(KINDS)) % len(PATHS)]
                headers: dict[str, str] = {}
                if kind != "missing":
                    token = tokens[kind][i % len(tokens[kind])]
                    if i % 2:
                        headers["Authorization"] = f"Bearer {token}"
                    else:
                        headers["Cookie"] = f"token_cookie={token}"
                want = expected_answer(kind, path)
                try:
                    response = client.get(path, headers=headers)
                except httpx.HTTPError as exc:
                    mine.append(f"{number}/{i} {kind} {path}: {type(exc).__name__}: {exc}")
                    continue
                seen[response.status_code] += 1
                if want.status == 200:
                    wanted_calls[path] += 1
                got = (response.status_code, response.json())
                if got != (want.status, want.body):
                    mine.append(f"{number}/{i} {kind} {path}: expected {want}, found {got}")
                elif want.status == 401 and "WWW-Authenticate" not in response.headers:
                    mine.append(f"{number}/{i} {kind} {path}: 401 without WWW-Authenticate")
        with lock:
            problems.extend(mine)
            statuses.update(seen)
            expected_calls.update(wanted_calls)

    with JWKSServer() as jwks:
        jwks.reply = Reply.json(issuer.jwks())
        app = make_app(issuer, jwks.url(), cache, calls)
        with serve(app, quiet=True) as base:
            threads = [
                threading.Thread(target=client_thread, args=(n, base), name=f"load-{n}")
                for n in range(THREADS)
            ]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join(timeout=110)
            assert not any(thread.is_alive() for thread in threads)
        fetches = jwks.count()

    assert problems[:10] == []
    assert sum(statuses.values()) == THREADS * REQUESTS_PER_THREAD
    assert not [status for status in statuses if status >= 500]
    assert set(statuses) == {200, 401, 403}
    # Each accepted request called its view once; no refused one called any.
    assert calls.counts == expected_calls
    assert fetches == 1
    assert cache.fetch_count(jwks.url()) == 1
