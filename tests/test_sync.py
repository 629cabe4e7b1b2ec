"""The blocking facade: one portal, hot path on the caller's thread, safe inside a loop."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import textwrap
import threading

import httpx
import pytest
import respx

import cognises
from cognises import sync
from cognises.errors import ConfigurationError, InvalidSignatureError
from cognises.sync import _portal
from cognises.testing._issuer import LocalIssuer

URL = "https://jwks.sync.test/keys"


@pytest.fixture
def issuer() -> LocalIssuer:
    return LocalIssuer()


@pytest.fixture
def jwks(issuer: LocalIssuer):
    with respx.mock(assert_all_called=False) as router:
        yield router.get(URL).mock(return_value=httpx.Response(200, json=issuer.jwks()))


def _verifier(issuer: LocalIssuer, **options) -> sync.CognitoVerifier:
    return sync.CognitoVerifier(
        issuer.region, issuer.user_pool_id, client_ids=issuer.client_id, jwks_url=URL, **options
    )


def test_top_level_names_are_the_sync_ones():
    assert cognises.CognitoVerifier is sync.CognitoVerifier
    assert "create_update" in cognises.__all__
    assert cognises.__all__ == sorted(cognises.__all__)


def test_sixteen_threads_on_a_cold_cache_make_one_fetch(issuer, jwks):
    verifier = _verifier(issuer, cache_size=0)
    tokens = [issuer.token(username=f"user{i}", groups=["g"]) for i in range(20)]
    errors: list[BaseException] = []
    results: list[int] = []
    start = threading.Barrier(16)

    def work() -> None:
        start.wait()
        done = 0
        try:
            for i in range(200):
                claims = verifier.verify(tokens[i % len(tokens)])
                done += claims.groups == ["g"]
        except BaseException as exc:
            errors.append(exc)
        results.append(done)

    threads = [threading.Thread(target=work) for _ in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert results == [200] * 16
    assert jwks.call_count == 1
    assert verifier.jwks_cache.fetch_count(URL) == 1


def test_hot_path_does_not_touch_the_portal(issuer, jwks, monkeypatch):
    verifier = _verifier(issuer)
    verifier.hydrate()

    def refuse(func):
        raise AssertionError("the portal was used on the hot path")

    monkeypatch.setattr("cognises.sync._verifier.call", refuse)
    for _ in range(3):
        assert verifier.verify(issuer.token()).username == "alice"


def test_sync_verify_rejects_like_the_async_one(issuer, jwks):
    verifier = _verifier(issuer)
    other = LocalIssuer()
    forged = issuer.sign(issuer.claims(), key=other.keys[other.kid])
    with pytest.raises(InvalidSignatureError):
        verifier.verify(forged)


def test_inside_a_running_loop_the_hot_path_works_and_a_fetch_fails_clearly(issuer, jwks):
    cold = _verifier(issuer)
    warm = _verifier(issuer)
    warm.hydrate()
    outcome: dict[str, object] = {}

    async def inside_loop() -> None:
        outcome["warm"] = warm.verify(issuer.token()).username
        try:
            cold.verify(issuer.token())
        except ConfigurationError as exc:
            outcome["cold"] = str(exc)

    # Guard against a deadlock: the loop runs in a thread we can time out on.
    runner = threading.Thread(target=asyncio.run, args=(inside_loop(),), daemon=True)
    runner.start()
    runner.join(timeout=30)
    assert not runner.is_alive(), "sync call inside a running loop deadlocked"
    assert outcome["warm"] == "alice"
    assert "cognises.aio" in str(outcome["cold"])


def test_portal_is_made_once_and_shared(issuer, jwks):
    verifier = _verifier(issuer)
    verifier.hydrate()
    first = _portal._get()
    seen: list[object] = []
    threads = [threading.Thread(target=lambda: seen.append(_portal._get())) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert all(portal is first for portal in seen)


SCRIPT = textwrap.dedent(
    """
    import json, threading, warnings
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
    warnings.simplefilter("error")
    from cognises.sync import CognitoVerifier
    from cognises.testing._issuer import LocalIssuer

    issuer = LocalIssuer()
    body = json.dumps(issuer.jwks()).encode()
    hits = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            hits.append(self.path)
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}/jwks.json"
    verifier = CognitoVerifier(issuer.region, issuer.user_pool_id,
                               client_ids=issuer.client_id, jwks_url=url)
    for _ in range(300):
        verifier.hydrate()
    assert verifier.verify(issuer.token()).username == "alice"
    server.shutdown()
    print("fetches", len(hits))
    """
)


def test_portal_survives_many_calls_and_closes_cleanly_at_exit():
    result = subprocess.run(
        [sys.executable, "-W", "error", "-X", "dev", "-c", SCRIPT],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "fetches 300"
    for bad in ("Event loop is closed", "Unclosed", "Task was destroyed", "Traceback"):
        assert bad not in result.stderr
