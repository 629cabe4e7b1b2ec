"""Async views on Flask's loop-per-request model, and key fetches that stall nobody else."""

from __future__ import annotations

import logging
import threading
from typing import Any

import httpx
import pytest
from flask import Flask
from flask_support import bearer, serve
from jwks_server import JWKSServer, Reply

from cognises.aio import JWKSCache
from cognises.flask import login_check
from cognises.testing import LocalIssuer, use_local_issuer


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_300_async_requests_in_a_row_with_key_fetches_on_many_loops(caplog):
    caplog.set_level(logging.WARNING)
    issuer = LocalIssuer(user_pool_id="us-east-1_Async300x")
    clock = FakeClock()
    with JWKSServer() as server:
        server.reply = Reply.json(issuer.jwks())
        app = Flask(__name__)
        app.config.update(
            TESTING=True,
            COGNISES_JWKS_CACHE=JWKSCache(clock=clock),
        )

        @app.route("/view")
        @login_check(
            issuer.region, issuer.user_pool_id, client_ids=issuer.client_id, jwks_url=server.url()
        )
        async def view(response: dict[str, Any]) -> str:
            return str(response["claims"]["jti"])

        client = app.test_client()
        for i in range(300):
            if i and i % 10 == 0:
                # A new key, served after the cooldown: the next request fetches it on the
                # event loop Flask made for that request, which is then closed.
                issuer.rotate()
                server.reply = Reply.json(issuer.jwks())
                clock.now += 11
            claims = issuer.claims()
            response = client.get("/view", headers=bearer(issuer.sign(claims)))
            assert response.status_code == 200, (i, response.get_json())
            assert response.get_data(as_text=True) == claims["jti"]
        assert server.count() == 30
    # asyncio reports loop misuse ("Event loop is closed", tasks destroyed while pending)
    # through logging rather than exceptions.
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING] == []


def test_sync_and_async_views_share_keys_across_the_portal_and_view_loops():
    issuer = LocalIssuer(user_pool_id="us-east-1_Mixed0001")
    clock = FakeClock()
    with JWKSServer() as server:
        server.reply = Reply.json(issuer.jwks())
        app = Flask(__name__)
        app.config.update(
            TESTING=True,
            COGNISES_REGION=issuer.region,
            COGNISES_USER_POOL_ID=issuer.user_pool_id,
            COGNISES_JWKS_URL=server.url(),
            COGNISES_JWKS_CACHE=JWKSCache(clock=clock),
        )

        @app.route("/sync")
        @login_check()
        def sync_view(response: dict[str, Any]) -> str:
            return "sync"

        @app.route("/async")
        @login_check()
        async def async_view(response: dict[str, Any]) -> str:
            return "async"

        client = app.test_client()
        for i in range(40):
            # Every third request brings a new key, so both kinds of view fetch keys.
            if i % 3 == 0:
                issuer.rotate()
                server.reply = Reply.json(issuer.jwks())
                clock.now += 11
            path = "/sync" if i % 2 else "/async"
            response = client.get(path, headers=bearer(issuer.token()))
            assert response.status_code == 200
            assert response.get_data(as_text=True) == path[1:]
        assert server.count() == 14


@pytest.mark.parametrize("kind", ["sync", "async"])
def test_a_key_fetch_stalls_only_the_requests_that_need_it(kind):
    cached = LocalIssuer(user_pool_id="us-east-1_Cached001")
    remote = LocalIssuer(user_pool_id="us-east-1_Remote001")
    release = threading.Event()
    with JWKSServer() as server:
        server.reply = Reply.json(remote.jwks(), hold=release)
        app = Flask(__name__)
        protect_cached = login_check(cached.region, cached.user_pool_id)
        protect_remote = login_check(remote.region, remote.user_pool_id, jwks_url=server.url())

        if kind == "sync":

            @app.route("/cached")
            @protect_cached
            def cached_view(response: dict[str, Any]) -> str:
                return "cached"

            @app.route("/remote")
            @protect_remote
            def remote_view(response: dict[str, Any]) -> str:
                return "remote"

        else:

            @app.route("/cached")
            @protect_cached
            async def cached_view(response: dict[str, Any]) -> str:
                return "cached"

            @app.route("/remote")
            @protect_remote
            async def remote_view(response: dict[str, Any]) -> str:
                return "remote"

        use_local_issuer(app, cached)
        with serve(app) as base, httpx.Client(base_url=base, timeout=30) as http:
            slow: list[httpx.Response] = []
            waiting = threading.Thread(
                target=lambda: slow.append(http.get("/remote", headers=bearer(remote.token())))
            )
            waiting.start()
            try:
                assert server.wait_for_requests(1)
                # The remote pool's fetch is held open; the cached pool is served meanwhile.
                for _ in range(5):
                    fast = http.get("/cached", headers=bearer(cached.token()))
                    assert (fast.status_code, fast.text) == (200, "cached")
                assert slow == []
            finally:
                release.set()
                waiting.join()
        assert (slow[0].status_code, slow[0].text) == (200, "remote")
        assert server.count() == 1
