"""The JWKS cache and fetch under faults, rotation, floods, concurrency and many event loops.

Most cases run twice: against respx (httpx mocked) and against a real HTTP server on
127.0.0.1 (``jwks_server.JWKSServer``). Both answer with the same ``Reply`` objects and
count the requests they get. Time in the cache is a fake clock; waits are on events.
"""

from __future__ import annotations

import asyncio
import functools
import gzip
import json
import logging
import threading
import traceback
import tracemalloc
import uuid
import warnings
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
import respx
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from joserfc.errors import SecurityWarning
from joserfc.jwk import ECKey, RSAKey
from jwks_server import MAX_HOLD, JWKSServer, Reply

from cognises.aio import Claims, CognitoVerifier, FetchOptions, JWKSCache
from cognises.aio._fetch import fetch_json
from cognises.aio._flight import Flight
from cognises.errors import ConfigurationError, JWKSError, UnknownKeyError
from cognises.testing._issuer import LocalIssuer, b64url

# --------------------------------------------------------------------------- fixtures


class FakeClock:
    def __init__(self, now: float = 1000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


class RespxJWKS:
    """The ``JWKSServer`` interface on top of respx: same replies, same counting."""

    kind = "respx"
    base = "https://jwks.respx.test"

    def __init__(self, router: respx.MockRouter) -> None:
        self.reply = Reply()
        self.script: list[Reply] = []
        self.paths: list[str] = []
        self._holds: list[threading.Event] = []
        self._lock = threading.Lock()
        router.route(host="jwks.respx.test").mock(side_effect=self._respond)

    def url(self, path: str = "/jwks.json") -> str:
        return f"{self.base}{path}"

    def count(self, path: str | None = None) -> int:
        with self._lock:
            return sum(1 for p in self.paths if path is None or p == path)

    async def _respond(self, request: httpx.Request) -> httpx.Response:
        with self._lock:
            reply = self.script.pop(0) if self.script else self.reply
            self.paths.append(request.url.path)
            if reply.hold is not None:
                self._holds.append(reply.hold)
        assert not reply.chunked
        assert reply.trickle is None
        assert reply.repeat == 1
        if reply.hold is not None:
            await asyncio.to_thread(reply.hold.wait, MAX_HOLD)
        return httpx.Response(reply.status, content=reply.body, headers=dict(reply.headers))

    def release(self) -> None:
        with self._lock:
            for hold in self._holds:
                hold.set()


Served = Any  # JWKSServer | RespxJWKS


@pytest.fixture
def server() -> Iterator[JWKSServer]:
    with JWKSServer() as server:
        yield server


@pytest.fixture(params=["respx", "server"])
def served(request: pytest.FixtureRequest) -> Iterator[Served]:
    if request.param == "respx":
        with respx.mock(assert_all_called=False) as router:
            backend = RespxJWKS(router)
            try:
                yield backend
            finally:
                backend.release()
    else:
        with JWKSServer() as server:
            yield server


@pytest.fixture(scope="module")
def issuer() -> LocalIssuer:
    """Shared by the module: never rotate it (tests that rotate make their own)."""
    return LocalIssuer()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


def make_verifier(
    issuer: LocalIssuer, url: str, cache: JWKSCache, **options: Any
) -> CognitoVerifier:
    options.setdefault("client_ids", issuer.client_id)
    return CognitoVerifier(
        issuer.region, issuer.user_pool_id, jwks_url=url, jwks_cache=cache, **options
    )


def verify(verifier: CognitoVerifier, token: str) -> Claims:
    return asyncio.run(verifier.verify(token))


def unknown_kid_token(issuer: LocalIssuer, kid: str | None = None) -> str:
    """A token under a kid no JWKS holds (never signature-checked: no key to check with)."""
    _, payload, signature = _base_token(issuer).split(".")
    header = b64url({"alg": "RS256", "kid": kid or uuid.uuid4().hex})
    return f"{header}.{payload}.{signature}"


@functools.cache
def _base_token(issuer: LocalIssuer) -> str:
    return issuer.token()


def watch_flight_waiters(
    monkeypatch: pytest.MonkeyPatch, n: int, reached: Callable[[], None]
) -> Callable[[], int]:
    """Call ``reached`` once ``n`` callers are waiting on someone else's fetch."""
    lock = threading.Lock()
    count = [0]
    real_wait = Flight.wait

    async def wait(self: Any) -> Any:
        with lock:
            count[0] += 1
            now = count[0]
        if now == n:
            reached()
        return await real_wait(self)

    monkeypatch.setattr(Flight, "wait", wait)
    return lambda: count[0]


def join_background_refreshes() -> None:
    for thread in threading.enumerate():
        if thread.name == "cognises-jwks":
            thread.join(MAX_HOLD)
            assert not thread.is_alive()


# --------------------------------------------------------------------------- fetch faults


@pytest.mark.parametrize("status", [500, 503, 404, 403, 204])
def test_http_error_status_is_a_jwks_error(served, issuer, status):
    served.reply = Reply.json(issuer.jwks(), status=status)
    cache = JWKSCache()
    verifier = make_verifier(issuer, served.url(), cache)
    with pytest.raises(JWKSError):
        verify(verifier, issuer.token())
    assert served.count() == 1
    assert cache.fetch_count(served.url()) == 1


@pytest.mark.parametrize(
    "body",
    [b"not json", b"{", b'{"keys": [}', b"\xff\xfe\x00", b"", b"<html>keys</html>"],
    ids=["text", "open-brace", "broken", "binary", "empty", "html"],
)
def test_invalid_json_is_a_jwks_error(served, issuer, body):
    served.reply = Reply(body=body, headers={"Content-Type": "application/json"})
    verifier = make_verifier(issuer, served.url(), JWKSCache())
    with pytest.raises(JWKSError):
        verify(verifier, issuer.token())
    assert served.count() == 1


def test_deeply_nested_json_is_a_jwks_error_and_starts_a_cooldown(served, issuer, clock):
    # 100 kB, well under the size cap, and deeper than any JSON parser will go.
    served.reply = Reply(body=b"[" * 100_000)
    cache = JWKSCache(clock=clock)
    verifier = make_verifier(issuer, served.url(), cache)
    with pytest.raises(JWKSError):
        verify(verifier, issuer.token())
    with pytest.raises(JWKSError):
        verify(verifier, issuer.token())
    assert cache.fetch_count(served.url()) == 1
    assert served.count() == 1


@pytest.mark.parametrize(
    "document",
    [[], "keys", 1, None, True, {"keys": {}}, {"keys": "x"}, {"keys": None}, {"no_keys": []}],
    ids=repr,
)
def test_document_not_a_key_set_is_a_jwks_error(served, issuer, document):
    served.reply = Reply.json(document)
    verifier = make_verifier(issuer, served.url(), JWKSCache())
    with pytest.raises(JWKSError):
        verify(verifier, issuer.token())


def test_empty_keys_is_a_jwks_error(served, issuer):
    served.reply = Reply.json({"keys": []})
    verifier = make_verifier(issuer, served.url(), JWKSCache())
    with pytest.raises(JWKSError):
        verify(verifier, issuer.token())
    with pytest.raises(JWKSError):
        asyncio.run(verifier.hydrate())


def test_too_many_keys_is_a_jwks_error(served, issuer):
    served.reply = Reply.json({"keys": issuer.jwks()["keys"] * 101})
    verifier = make_verifier(issuer, served.url(), JWKSCache())
    with pytest.raises(JWKSError):
        verify(verifier, issuer.token())


@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
def test_redirect_is_not_followed(served, issuer, status):
    served.reply = Reply(status=status, headers={"Location": served.url("/moved.json")})
    served.script = [served.reply]
    served.reply = Reply.json(issuer.jwks())  # what the target would have served
    verifier = make_verifier(issuer, served.url(), JWKSCache())
    with pytest.raises(JWKSError):
        verify(verifier, issuer.token())
    assert served.count("/jwks.json") == 1
    assert served.count("/moved.json") == 0


def test_over_the_cap_with_content_length(served, issuer):
    body = json.dumps({**issuer.jwks(), "padding": "x" * 4096}).encode()
    served.reply = Reply(body=body)

    def verifier_capped_at(max_bytes: int) -> CognitoVerifier:
        cache = JWKSCache(fetch=FetchOptions(max_bytes=max_bytes))
        return make_verifier(issuer, served.url(), cache)

    with pytest.raises(JWKSError):
        verify(verifier_capped_at(len(body) - 1), issuer.token())
    # Exactly at the cap is fine: the size alone refused it.
    assert verify(verifier_capped_at(len(body)), issuer.token()).sub
    assert served.count() == 2


@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
def test_over_the_cap_is_cut_off(server, issuer, chunked):
    block = b" " * 65536
    server.reply = Reply(body=block, repeat=512, chunked=chunked)  # 32 MiB
    cache = JWKSCache(fetch=FetchOptions(max_bytes=65536))
    verifier = make_verifier(issuer, server.url(), cache)
    with pytest.raises(JWKSError):
        verify(verifier, issuer.token())
    (record,) = server.records
    assert record.done.wait(MAX_HOLD)
    # The client hung up: the server could not send it all.
    assert not record.completed
    assert record.body_sent < record.body_size
    assert record.error is not None


def _peak_memory_of_fetch(url: str, options: FetchOptions) -> int:
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        with pytest.raises(JWKSError):
            asyncio.run(fetch_json(url, options))
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_compressed_body_is_capped_on_what_it_expands_to(server):
    # 16 MiB of zeros gzip to ~16 kB: the cap is on the JWKS, not on the wire. Reading
    # must stop near the cap, not first inflate megabytes in one go.
    options = FetchOptions(max_bytes=65536)
    server.reply = Reply(body=b"0" * 65536, repeat=256, chunked=True)
    with pytest.raises(JWKSError):  # warm up: imports, the shared TLS context
        asyncio.run(fetch_json(server.url(), options))
    limit = 4 * 1024 * 1024
    # Control: the same 16 MiB, uncompressed, is cut off well under the limit.
    assert _peak_memory_of_fetch(server.url(), options) < limit
    bomb = gzip.compress(b"0" * (16 * 1024 * 1024), compresslevel=9)
    server.reply = Reply(body=bomb, headers={"Content-Encoding": "gzip"})
    peak = _peak_memory_of_fetch(server.url(), options)
    assert peak < limit, f"peak {peak / 1e6:.1f} MB for a 64 KiB cap"


def test_slow_trickle_past_the_deadline_is_a_jwks_error(server, issuer):
    # One byte every 50 ms never trips a per-read timeout; only the overall deadline can.
    server.reply = Reply(body=b" " * 10_000, trickle=0.05)
    cache = JWKSCache(fetch=FetchOptions(timeout=0.5))
    verifier = make_verifier(issuer, server.url(), cache)
    with pytest.raises(JWKSError):
        verify(verifier, issuer.token())
    (record,) = server.records
    assert record.done.wait(MAX_HOLD)
    assert not record.completed


def test_server_that_never_answers_is_a_jwks_error(server, issuer):
    server.reply = Reply.json(issuer.jwks(), hold=threading.Event())
    verifier = make_verifier(issuer, server.url(), JWKSCache(fetch=FetchOptions(timeout=0.5)))
    with pytest.raises(JWKSError):
        verify(verifier, issuer.token())
    assert server.count() == 1


@pytest.mark.parametrize(
    "error",
    [httpx.ReadTimeout, httpx.ConnectTimeout, httpx.ConnectError, httpx.RemoteProtocolError],
)
def test_transport_errors_are_jwks_errors(issuer, error):
    url = "https://jwks.respx.test/jwks.json"
    with respx.mock(assert_all_called=True) as router:
        router.get(url).mock(side_effect=error("boom"))
        verifier = make_verifier(issuer, url, JWKSCache())
        with pytest.raises(JWKSError):
            verify(verifier, issuer.token())


def test_connection_refused_is_a_jwks_error(issuer):
    with JWKSServer() as closed:
        url = closed.url()
    verifier = make_verifier(issuer, url, JWKSCache())
    with pytest.raises(JWKSError):
        verify(verifier, issuer.token())


# --------------------------------------------------------------------------- keys in the set


def _rsa_jwk(key: rsa.RSAPrivateKey, kid: str, **extra: Any) -> dict[str, Any]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SecurityWarning)  # joserfc on a 1024-bit key
        jwk = RSAKey.import_key(key.public_key()).as_dict(private=False)
    return {**jwk, "kid": kid, **extra}


def _sign_with(issuer: LocalIssuer, key: rsa.RSAPrivateKey, kid: str) -> str:
    return issuer.sign(issuer.claims(), header={"alg": "RS256", "kid": kid}, key=key)


@pytest.fixture(scope="module")
def other_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture(scope="module")
def small_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=1024)


def _bad_entries(other: rsa.RSAPrivateKey, small: rsa.RSAPrivateKey) -> dict[str, Any]:
    ec_key = ec.generate_private_key(ec.SECP256R1())
    ec_jwk = {**ECKey.import_key(ec_key.public_key()).as_dict(private=False), "kid": "bad"}
    good = _rsa_jwk(other, "bad")
    return {
        "non-rsa": (ec_jwk, None, "kty"),
        "oct": ({"kty": "oct", "k": b64url(b"secret"), "kid": "bad"}, None, "kty"),
        "use-enc": ({**good, "use": "enc"}, other, "use"),
        "alg-hs256": ({**good, "alg": "HS256"}, other, "alg"),
        "alg-rs512": ({**good, "alg": "RS512"}, other, "alg"),
        "under-2048-bits": (_rsa_jwk(small, "bad"), small, "bits"),
        "n-not-a-string": ({**good, "n": 12345}, other, "n and e"),
        "n-not-base64": ({**good, "n": "!!!!"}, other, "RSA public key"),
        "kid-missing": ({k: v for k, v in good.items() if k != "kid"}, None, "kid"),
        "not-an-object": ("a key", None, "JSON object"),
    }


@pytest.mark.parametrize(
    "case",
    [
        "non-rsa",
        "oct",
        "use-enc",
        "alg-hs256",
        "alg-rs512",
        "under-2048-bits",
        "n-not-a-string",
        "n-not-base64",
        "kid-missing",
        "not-an-object",
    ],
)
def test_unusable_keys_are_skipped_with_a_warning(
    served, issuer, other_key, small_key, caplog, case
):
    caplog.set_level(logging.WARNING, logger="cognises.jwks")
    entry, signer, reason = _bad_entries(other_key, small_key)[case]
    served.reply = Reply.json({"keys": [entry, *issuer.jwks()["keys"]]})
    verifier = make_verifier(issuer, served.url(), JWKSCache())
    assert verify(verifier, issuer.token()).sub  # the good key still works
    if signer is not None:
        with pytest.raises(UnknownKeyError):
            verify(verifier, _sign_with(issuer, signer, "bad"))
    logged = [
        r.getMessage()
        for r in caplog.records
        if r.levelno == logging.WARNING and r.name == "cognises.jwks"
    ]
    assert len(logged) == 1, logged
    assert reason in logged[0]
    assert served.url() in logged[0]


def test_duplicate_kids_are_skipped_with_a_warning(served, issuer, other_key, caplog):
    caplog.set_level(logging.WARNING, logger="cognises.jwks")
    third = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    served.reply = Reply.json(
        {
            "keys": [
                _rsa_jwk(other_key, "dup"),
                *issuer.jwks()["keys"],
                _rsa_jwk(third, "dup"),
                _rsa_jwk(other_key, "dup"),
            ]
        }
    )
    verifier = make_verifier(issuer, served.url(), JWKSCache())
    assert verify(verifier, issuer.token()).sub
    # Neither key may be used under the ambiguous kid.
    for key in (other_key, third):
        with pytest.raises(UnknownKeyError):
            verify(verifier, _sign_with(issuer, key, "dup"))
    assert any("more than one key" in r.getMessage() for r in caplog.records)


def test_parsing_a_key_set_emits_no_python_warnings(issuer, small_key):
    # Key sets are untrusted input: a weak key is skipped and logged, not turned into a
    # warning (which -W error, as in this project's own tests, makes an exception).
    document = {"keys": [_rsa_jwk(small_key, "small"), *issuer.jwks()["keys"]]}
    cache = JWKSCache()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        cache.load("https://jwks.example.test/jwks.json", document)
    assert [str(w.message) for w in caught] == []
    assert cache.current("https://jwks.example.test/jwks.json", issuer.kid) is not None
    assert cache.current("https://jwks.example.test/jwks.json", "small") is None


def test_only_unusable_keys_is_a_jwks_error(served, issuer, other_key, small_key):
    entries = [entry for entry, _, _ in _bad_entries(other_key, small_key).values()]
    served.reply = Reply.json({"keys": entries})
    verifier = make_verifier(issuer, served.url(), JWKSCache())
    with pytest.raises(JWKSError):
        verify(verifier, issuer.token())


# --------------------------------------------------------------------------- rotation and floods


def test_key_rotation(served, clock):
    issuer = LocalIssuer()
    served.reply = Reply.json(issuer.jwks())
    cache = JWKSCache(clock=clock)
    verifier = make_verifier(issuer, served.url(), cache)
    old_token = issuer.token()
    assert verify(verifier, old_token).sub
    assert cache.fetch_count(served.url()) == 1

    issuer.rotate()  # new kid appears, the old one is removed
    served.reply = Reply.json(issuer.jwks())
    new_token = issuer.token()
    clock.advance(cache.cooldown)
    assert verify(verifier, new_token).sub  # unknown kid: one refetch
    assert cache.fetch_count(served.url()) == 2
    with pytest.raises(UnknownKeyError):
        verify(verifier, old_token)  # was in the result cache; its key is gone
    assert verify(verifier, new_token).sub
    assert cache.fetch_count(served.url()) == 2
    assert served.count() == 2


def test_new_kid_within_the_cooldown_waits_for_the_next_window(served, clock):
    issuer = LocalIssuer()
    served.reply = Reply.json(issuer.jwks())
    cache = JWKSCache(clock=clock)
    verifier = make_verifier(issuer, served.url(), cache)
    assert verify(verifier, issuer.token()).sub
    issuer.add_key("second")
    served.reply = Reply.json(issuer.jwks())
    token = issuer.sign(issuer.claims(), kid="second")
    clock.advance(cache.cooldown - 0.001)
    with pytest.raises(UnknownKeyError):
        verify(verifier, token)
    assert cache.fetch_count(served.url()) == 1
    clock.advance(0.001)
    assert verify(verifier, token).sub
    assert cache.fetch_count(served.url()) == 2


def test_unknown_kid_flood(served, issuer, clock):
    served.reply = Reply.json(issuer.jwks())
    cache = JWKSCache(clock=clock)
    verifier = make_verifier(issuer, served.url(), cache)
    url = served.url()

    async def flood(n: int) -> list[BaseException | Claims]:
        tokens = [unknown_kid_token(issuer) for _ in range(n)]
        return await asyncio.gather(*(verifier.verify(t) for t in tokens), return_exceptions=True)

    # 1,000 cold, concurrent, all unknown: one fetch between them.
    results = asyncio.run(flood(1000))
    assert all(isinstance(r, UnknownKeyError) for r in results)
    assert cache.fetch_count(url) == 1
    # 1,000 more within the cooldown: none fetches.
    clock.advance(cache.cooldown / 2)
    results = asyncio.run(flood(1000))
    assert all(isinstance(r, UnknownKeyError) for r in results)
    assert cache.fetch_count(url) == 1
    # After the cooldown: exactly one more fetch for the next flood.
    clock.advance(cache.cooldown / 2)
    results = asyncio.run(flood(1000))
    assert all(isinstance(r, UnknownKeyError) for r in results)
    assert cache.fetch_count(url) == 2
    assert served.count() == 2
    # Known kids were never disturbed.
    assert verify(verifier, issuer.token()).sub
    assert cache.fetch_count(url) == 2


# --------------------------------------------------------------------------- concurrency


def test_concurrent_cold_verifications_share_one_fetch(served, issuer, monkeypatch):
    n = 100
    hold = threading.Event()
    # The fetch answers only once the other 99 are waiting on it.
    waiters = watch_flight_waiters(monkeypatch, n - 1, hold.set)
    served.reply = Reply.json(issuer.jwks(), hold=hold)
    cache = JWKSCache()
    verifier = make_verifier(issuer, served.url(), cache)
    tokens = [issuer.token(username=f"user{i}") for i in range(n)]

    async def main() -> list[Claims]:
        return await asyncio.gather(*(verifier.verify(t) for t in tokens))

    results = asyncio.run(main())
    assert [c.username for c in results] == [f"user{i}" for i in range(n)]
    assert waiters() == n - 1
    assert cache.fetch_count(served.url()) == 1
    assert served.count() == 1


def test_concurrent_cold_verifications_from_threads_share_one_fetch(served, issuer, monkeypatch):
    n = 8
    hold = threading.Event()
    waiters = watch_flight_waiters(monkeypatch, n - 1, hold.set)
    served.reply = Reply.json(issuer.jwks(), hold=hold)
    cache = JWKSCache()
    verifier = make_verifier(issuer, served.url(), cache)
    tokens = [issuer.token(username=f"user{i}") for i in range(n)]
    results: dict[int, Any] = {}
    start = threading.Barrier(n)

    def worker(i: int) -> None:
        start.wait(MAX_HOLD)
        try:
            results[i] = asyncio.run(verifier.verify(tokens[i])).username
        except BaseException as exc:  # report it to the test thread
            results[i] = exc

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(n)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(MAX_HOLD * 2)
        assert not thread.is_alive()
    assert results == {i: f"user{i}" for i in range(n)}
    assert waiters() == n - 1
    assert cache.fetch_count(served.url()) == 1
    assert served.count() == 1


def test_one_cache_many_event_loops_in_a_row(server, issuer, clock):
    server.reply = Reply.json(issuer.jwks())
    cache = JWKSCache(clock=clock)
    verifier = make_verifier(issuer, server.url(), cache)
    other = make_verifier(issuer, server.url(), cache, token_use="access")
    url = server.url()

    async def one_loop(i: int) -> None:
        if i:
            await verifier.hydrate()  # a fetch on this loop
            clock.advance(cache.cooldown)
            with pytest.raises(UnknownKeyError):
                await verifier.verify(unknown_kid_token(issuer))  # and another
        assert (await verifier.verify(issuer.token())).token_use == "id"
        assert (await other.verify(issuer.token(token_use="access"))).token_use == "access"

    for i in range(5):
        asyncio.run(one_loop(i))
        assert cache.fetch_count(url) == 1 + 2 * i
    assert server.count() == 9


def test_concurrent_fetches_from_many_loops_in_a_row(server, issuer):
    # Each loop has its own cold cache share: leader and waiters on a loop that then closes.
    cache = JWKSCache()
    server.reply = Reply.json(issuer.jwks())
    for i in range(5):
        url = server.url(f"/pool{i}/jwks.json")
        verifier = make_verifier(issuer, url, cache)

        async def main(verifier: CognitoVerifier = verifier) -> list[Claims]:
            return await asyncio.gather(*(verifier.verify(issuer.token()) for _ in range(20)))

        assert len(asyncio.run(main())) == 20
        assert cache.fetch_count(url) == 1
    assert server.count() == 5


# --------------------------------------------------------------------------- ttl and failures


def _signer(issuer: LocalIssuer) -> Callable[[], str]:
    """Fresh tokens (never from the result cache) by the issuer's current key, kept
    even after the issuer rotates it out."""
    kid, key = issuer.kid, issuer.keys[issuer.kid]
    return lambda: issuer.sign(issuer.claims(username=uuid.uuid4().hex), kid=kid, key=key)


def test_stale_keys_are_served_while_a_background_refresh_runs(server, clock):
    issuer = LocalIssuer()
    old_token = _signer(issuer)
    server.reply = Reply.json(issuer.jwks())
    cache = JWKSCache(ttl=60, clock=clock)
    verifier = make_verifier(issuer, server.url(), cache)
    asyncio.run(verifier.hydrate())
    assert cache.fetch_count(server.url()) == 1

    issuer.rotate()
    hold = threading.Event()
    server.script = [Reply.json(issuer.jwks(), hold=hold)]
    server.reply = Reply.json(issuer.jwks())
    new_token = issuer.token()

    clock.advance(61)
    try:
        # Stale: served at once; the refresh it starts is held at the server.
        assert verifier.verify_cached(old_token()) is not None
        assert server.wait_for_requests(2)
        assert not server.records[1].done.is_set()  # the refresh is still in flight
        # While the refresh runs, stale keys are still served and no second one starts.
        assert verifier.verify_cached(old_token()) is not None
        assert verify(verifier, old_token()).sub
        assert cache.fetch_count(server.url()) == 2
        assert not server.records[1].done.is_set()
    finally:
        hold.set()
    join_background_refreshes()
    assert server.count() == 2
    # The refresh brought the rotated set: the new kid needs no fetch, the old one is gone.
    assert verifier.verify_cached(new_token) is not None
    with pytest.raises(UnknownKeyError):
        verifier.verify_cached(old_token())
    assert cache.fetch_count(server.url()) == 2


def test_failed_refresh_keeps_serving_cached_keys(server, issuer, clock, caplog):
    caplog.set_level(logging.WARNING, logger="cognises.jwks")
    token = _signer(issuer)
    server.reply = Reply.json(issuer.jwks())
    cache = JWKSCache(ttl=60, clock=clock)
    verifier = make_verifier(issuer, server.url(), cache)
    asyncio.run(verifier.hydrate())

    server.script = [Reply(status=500)]
    clock.advance(61)
    assert verifier.verify_cached(token()) is not None  # starts the refresh
    join_background_refreshes()
    assert server.count() == 2
    assert any("still serving" in r.getMessage() for r in caplog.records)
    # Still served, by verify and verify_cached; no retry within the cooldown.
    assert verifier.verify_cached(token()) is not None
    assert verify(verifier, token()).sub
    assert cache.fetch_count(server.url()) == 2
    # A kid the failed refresh could not bring is an unknown kid, not a JWKS outage.
    with pytest.raises(UnknownKeyError):
        verify(verifier, unknown_kid_token(issuer))
    assert cache.fetch_count(server.url()) == 2
    # After the cooldown the next verify retries in the background, and succeeds.
    clock.advance(cache.cooldown)
    assert verifier.verify_cached(token()) is not None
    join_background_refreshes()
    assert cache.fetch_count(server.url()) == 3
    # Fresh again: no further refresh.
    clock.advance(cache.cooldown)
    assert verifier.verify_cached(token()) is not None
    join_background_refreshes()
    assert cache.fetch_count(server.url()) == 3
    assert server.count() == 3


def test_failure_cooldown(served, issuer, clock):
    served.reply = Reply(status=500)
    cache = JWKSCache(clock=clock)
    verifier = make_verifier(issuer, served.url(), cache)
    with pytest.raises(JWKSError):
        verify(verifier, issuer.token())
    # Right after a failed cold fetch: refused at once, without a new fetch.
    with pytest.raises(JWKSError):
        verify(verifier, issuer.token())
    with pytest.raises(JWKSError):
        verifier.verify_cached(issuer.token())
    assert cache.fetch_count(served.url()) == 1
    assert served.count() == 1
    assert 0 < cache.retry_after(served.url()) <= cache.cooldown
    # After the cooldown, one new fetch.
    served.reply = Reply.json(issuer.jwks())
    clock.advance(cache.cooldown)
    assert cache.retry_after(served.url()) == 0
    assert verify(verifier, issuer.token()).sub
    assert cache.fetch_count(served.url()) == 2
    assert served.count() == 2


def test_errors_raised_during_the_failure_cooldown_do_not_pile_up(served, issuer, clock):
    # Within the cooldown every request gets the stored failure. Raising one exception
    # object again and again grows its traceback (and keeps every frame, with its
    # token, alive) until the next fetch.
    served.reply = Reply(status=500)
    verifier = make_verifier(issuer, served.url(), JWKSCache(clock=clock))
    depths = []
    for _ in range(20):
        with pytest.raises(JWKSError) as info:
            verify(verifier, issuer.token())
        depths.append(len(traceback.extract_tb(info.value.__traceback__)))
    assert depths[-1] == depths[1], depths


def test_jwks_error_only_when_no_usable_key(served, issuer, clock):
    served.reply = Reply(status=500)
    cache = JWKSCache(clock=clock)
    verifier = make_verifier(issuer, served.url(), cache)
    with pytest.raises(JWKSError):  # nothing cached, fetch failed
        verify(verifier, issuer.token())
    served.reply = Reply.json(issuer.jwks())
    clock.advance(cache.cooldown)
    asyncio.run(verifier.hydrate())
    served.reply = Reply(status=500)
    clock.advance(cache.cooldown)
    # Keys are cached: a failed refetch for an unknown kid is that kid's problem.
    with pytest.raises(UnknownKeyError):
        verify(verifier, unknown_kid_token(issuer))
    assert cache.fetch_count(served.url()) == 3
    assert verify(verifier, issuer.token()).sub
    # An explicit refresh does report the failure.
    with pytest.raises(JWKSError):
        asyncio.run(verifier.hydrate())


# --------------------------------------------------------------------------- cancellation


def test_cancelled_leader_hands_over_to_a_waiter(server, issuer, monkeypatch):
    hold = threading.Event()  # never set: the first fetch only ends by cancellation
    waiting = threading.Event()
    watch_flight_waiters(monkeypatch, 1, waiting.set)
    server.script = [Reply.json(issuer.jwks(), hold=hold)]
    server.reply = Reply.json(issuer.jwks())
    cache = JWKSCache()
    verifier = make_verifier(issuer, server.url(), cache)

    async def main() -> Claims:
        leader = asyncio.create_task(verifier.verify(issuer.token()))
        assert await asyncio.to_thread(server.wait_for_requests, 1)
        follower = asyncio.create_task(verifier.verify(issuer.token(username="follower")))
        assert await asyncio.to_thread(waiting.wait, MAX_HOLD)
        leader.cancel()
        with pytest.raises(asyncio.CancelledError):
            await leader
        return await asyncio.wait_for(follower, MAX_HOLD)

    assert asyncio.run(main()).username == "follower"
    assert cache.fetch_count(server.url()) == 2
    assert server.count() == 2


def test_cancelled_leader_hands_over_to_a_waiter_on_another_thread(server, issuer, monkeypatch):
    hold = threading.Event()
    waiting = threading.Event()
    watch_flight_waiters(monkeypatch, 1, waiting.set)
    server.script = [Reply.json(issuer.jwks(), hold=hold)]
    server.reply = Reply.json(issuer.jwks())
    cache = JWKSCache()
    verifier = make_verifier(issuer, server.url(), cache)
    result: list[Any] = []

    def follower() -> None:
        try:
            result.append(asyncio.run(verifier.verify(issuer.token(username="other"))))
        except BaseException as exc:
            result.append(exc)

    thread = threading.Thread(target=follower)

    async def main() -> None:
        leader = asyncio.create_task(verifier.verify(issuer.token()))
        assert await asyncio.to_thread(server.wait_for_requests, 1)
        thread.start()
        assert await asyncio.to_thread(waiting.wait, MAX_HOLD)
        leader.cancel()
        with pytest.raises(asyncio.CancelledError):
            await leader

    asyncio.run(main())
    thread.join(MAX_HOLD)
    assert not thread.is_alive()
    assert [getattr(r, "username", r) for r in result] == ["other"]
    assert cache.fetch_count(server.url()) == 2


def test_cancelled_leader_starts_no_cooldown(server, issuer, clock):
    hold = threading.Event()
    server.script = [Reply.json(issuer.jwks(), hold=hold)]
    server.reply = Reply.json(issuer.jwks())
    cache = JWKSCache(clock=clock)
    verifier = make_verifier(issuer, server.url(), cache)

    async def main() -> None:
        leader = asyncio.create_task(verifier.verify(issuer.token()))
        assert await asyncio.to_thread(server.wait_for_requests, 1)
        leader.cancel()
        with pytest.raises(asyncio.CancelledError):
            await leader

    asyncio.run(main())
    assert cache.retry_after(server.url()) == 0
    # The clock has not moved: a cooldown would refuse this at once.
    assert verify(verifier, issuer.token()).sub
    assert cache.fetch_count(server.url()) == 2
    assert server.count() == 2


# --------------------------------------------------------------------------- configuration


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8080/jwks.json",
        "http://127.1.2.3/jwks.json",
        "http://localhost:9000/jwks.json",
        "http://[::1]:9000/jwks.json",
        "https://example.com/jwks.json",
    ],
)
def test_secure_or_loopback_jwks_urls_are_accepted(issuer, url):
    assert make_verifier(issuer, url, JWKSCache()).jwks_url == url


@pytest.mark.parametrize(
    "url",
    [
        "http://example.com/jwks.json",
        "http://10.0.0.1/jwks.json",
        "http://localhost.example.com/jwks.json",
        "http://127.0.0.1.nip.io/jwks.json",
        "ftp://127.0.0.1/jwks.json",
        "file:///etc/jwks.json",
        "//example.com/jwks.json",
        "example.com/jwks.json",
    ],
)
def test_insecure_jwks_urls_are_refused(issuer, url):
    with pytest.raises(ConfigurationError):
        make_verifier(issuer, url, JWKSCache())


def test_insecure_jwks_url_allowed_when_asked(issuer):
    url = "http://example.com/jwks.json"
    verifier = make_verifier(issuer, url, JWKSCache(), allow_insecure_jwks_url=True)
    assert verifier.jwks_url == url
    with pytest.raises(ConfigurationError):
        make_verifier(
            issuer, "ftp://example.com/jwks.json", JWKSCache(), allow_insecure_jwks_url=True
        )


def test_default_jwks_url_is_the_pools(issuer):
    expected = f"{issuer.issuer}/.well-known/jwks.json"
    with respx.mock(assert_all_called=True) as router:
        route = router.get(expected).respond(json=issuer.jwks())
        verifier = CognitoVerifier(
            issuer.region, issuer.user_pool_id, client_ids=issuer.client_id, jwks_cache=JWKSCache()
        )
        assert verifier.jwks_url == expected
        assert verify(verifier, issuer.token()).sub
        assert route.call_count == 1


# --------------------------------------------------------------------------- hydrate


def test_hydrate_fetches_once_and_verify_then_needs_no_fetch(served, issuer):
    served.reply = Reply.json(issuer.jwks())
    cache = JWKSCache()
    verifier = make_verifier(issuer, served.url(), cache)
    token = issuer.token()
    assert verifier.verify_cached(token) is None  # cold: needs a fetch, and made none
    assert cache.fetch_count(served.url()) == 0
    asyncio.run(verifier.hydrate())
    assert cache.fetch_count(served.url()) == 1
    assert verifier.verify_cached(token) is not None
    assert verify(verifier, issuer.token()).sub
    assert cache.fetch_count(served.url()) == 1
    assert served.count() == 1


def test_one_cache_serves_several_verifiers(served, issuer):
    served.reply = Reply.json(issuer.jwks())
    cache = JWKSCache()
    ids = make_verifier(issuer, served.url(), cache, token_use="id")
    access = make_verifier(issuer, served.url(), cache, token_use="access")
    asyncio.run(ids.hydrate())
    assert verify(access, issuer.token(token_use="access")).token_use == "access"
    assert verify(ids, issuer.token()).token_use == "id"
    assert cache.fetch_count(served.url()) == 1
