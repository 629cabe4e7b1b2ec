"""JWKS faults that tests/test_jwks.py leaves out.

test_jwks.py already covers: error statuses, invalid JSON, redirects (301 to 308, never
followed), bodies over the cap (with and without Content-Length, compressed), a body
trickled past the deadline, a server that never answers, https-or-loopback URLs, duplicate
kids, non-RSA, ``use: enc``, foreign ``alg`` and under-2048-bit keys, the failure
cooldown and the outage behaviour. This file adds:

- URLs that try to look like loopback to one parser and like another host to the fetcher;
  the Flask config path keeps the https rule;
- a status line and headers trickled a byte at a time (the deadline, not a per-read
  timeout, must end it), and a response header of a megabyte;
- absurd key sizes and exponents, an encryption key sharing its kid with a signing key,
  attacker-sized kids and key types in the log;
- one cache shared by two pools: a key of one pool never verifies a token for the other.
"""

from __future__ import annotations

import asyncio
import base64
import ipaddress
import itertools
import logging
import socket
import threading
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from flask import Flask
from joserfc.jwk import RSAKey
from jwks_server import MAX_HOLD, JWKSServer, Reply

from cognises.aio import CognitoVerifier, FetchOptions, JWKSCache
from cognises.errors import (
    ConfigurationError,
    InvalidIssuerError,
    InvalidSignatureError,
    JWKSError,
    UnknownKeyError,
)
from cognises.flask import login_check
from cognises.testing._issuer import LocalIssuer, b64url


@pytest.fixture(scope="module")
def issuer() -> LocalIssuer:
    return LocalIssuer(region="ap-south-1", user_pool_id="ap-south-1_JwksFault", client_id="jf")


@pytest.fixture
def server() -> Iterator[JWKSServer]:
    with JWKSServer() as server:
        yield server


def make_verifier(issuer: LocalIssuer, url: str, cache: JWKSCache, **options: Any) -> Any:
    return CognitoVerifier(
        issuer.region,
        issuer.user_pool_id,
        client_ids=issuer.client_id,
        jwks_url=url,
        jwks_cache=cache,
        **options,
    )


def verify(verifier: CognitoVerifier, token: str) -> Any:
    return asyncio.run(verifier.verify(token))


def warnings_of(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [
        r.getMessage()
        for r in caplog.records
        if r.name == "cognises.jwks" and r.levelno == logging.WARNING
    ]


# --------------------------------------------------------------------------- URLs


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


SCHEMES = ["http", "HTTP", "https", "ftp", "file", ""]
SEPARATORS = ["://", ":\\\\", ":/", ":///"]
USERINFO = [
    "",
    "user@",
    "user:pw@",
    "evil.example@",
    "evil.example\\@",
    "evil.example%2F@",
    "evil.example;@",
    "127.0.0.1@",
    "[::1]@",
    "127.0.0.1:80@",
]
HOSTS = [
    "127.0.0.1",
    "127.9.9.9",
    "localhost",
    "[::1]",
    "evil.example",
    "127.0.0.1.evil.example",
    "0x7f000001",
    "2130706433",
    "localhost.",
    "[::ffff:127.0.0.1]",
    "127.0.0.1%00.evil.example",
]
PORTS = ["", ":8080", ":0x50"]
TAILS = ["/jwks.json", "", "#@evil.example/", "?@evil.example/", "\\@evil.example/", "/@evil"]


def test_an_accepted_insecure_url_is_one_the_fetcher_sends_to_loopback(issuer):
    # Parser differentials: a URL the https-or-loopback rule reads as loopback must be one
    # httpx (which makes the request) also sends to loopback. Every combination below.
    cache = JWKSCache()
    accepted_http: list[str] = []
    for parts in itertools.product(SCHEMES, SEPARATORS, USERINFO, HOSTS, PORTS, TAILS):
        url = "".join(parts)
        try:
            make_verifier(issuer, url, cache)
        except ConfigurationError:
            continue
        try:
            target = httpx.URL(url)
        except httpx.InvalidURL:
            continue  # the fetch would fail: a JWKSError, never a request elsewhere
        if target.scheme == "http":
            accepted_http.append(url)
            assert _is_loopback(target.host), f"{url!r} accepted, but httpx sends it to {target}"
        else:
            assert target.scheme == "https", url
    # The rule is not simply refusing everything.
    assert "http://127.0.0.1:8080/jwks.json" in accepted_http
    assert len(accepted_http) > 100


@pytest.mark.parametrize("url", ["http://[::1/jwks.json", "https://[jwks.example.com/jwks.json"])
def test_a_malformed_jwks_url_is_a_configuration_error(issuer, url):
    # The URL parser's own ValueError must not escape: callers catch CognisesError.
    with pytest.raises(ConfigurationError):
        make_verifier(issuer, url, JWKSCache())


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:99999/jwks.json",
        "http://127.0.0.1:0x50/jwks.json",
        "https://jwks.example.com:-1/jwks.json",
    ],
)
def test_a_jwks_url_with_an_impossible_port_is_refused_at_construction(issuer, url):
    # Accepted, it would turn every request into a 503 until the config is fixed.
    with pytest.raises(ConfigurationError):
        make_verifier(issuer, url, JWKSCache())


def test_a_url_with_userinfo_tricks_is_fetched_from_the_host_it_was_checked_for(server, issuer):
    server.reply = Reply.json(issuer.jwks())
    url = f"http://evil.example\\@127.0.0.1:{server.port}/jwks.json"
    verifier = make_verifier(issuer, url, JWKSCache())
    assert verify(verifier, issuer.token()).sub
    assert server.count("/jwks.json") == 1


def test_the_flask_config_keeps_the_https_rule(issuer):
    app = Flask(__name__)
    app.config.update(
        TESTING=True,
        COGNISES_REGION=issuer.region,
        COGNISES_USER_POOL_ID=issuer.user_pool_id,
        COGNISES_CLIENT_IDS=issuer.client_id,
        COGNISES_JWKS_URL="http://jwks.example.com/jwks.json",
    )
    called = []

    @app.route("/")
    @login_check()
    def view(response: Any) -> str:
        called.append(response)
        return "ok"

    with pytest.raises(ConfigurationError, match="https"):
        app.test_client().get("/", headers={"Authorization": f"Bearer {issuer.token()}"})
    assert called == []


# --------------------------------------------------------------------------- hostile servers


class SlowHeaders:
    """A server that answers each request with a status line and headers sent one byte at a
    time, ``interval`` seconds apart, and records whether the client hung up on it."""

    def __init__(self, interval: float) -> None:
        self.interval = interval
        self.response = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n" + (
            b"X-Slow: " + b"a" * 10_000 + b"\r\n\r\n{}"
        )
        self.sent = 0
        self.requests = 0
        self.hung_up = threading.Event()
        self._stop = threading.Event()
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def url(self) -> str:
        return f"http://127.0.0.1:{self._listener.getsockname()[1]}/jwks.json"

    def _serve(self) -> None:
        try:
            connection, _ = self._listener.accept()
        except OSError:  # closed before anyone came
            return
        with connection:
            connection.recv(65536)
            self.requests += 1
            for index in range(len(self.response)):
                if self._stop.wait(self.interval):
                    return
                try:
                    connection.sendall(self.response[index : index + 1])
                except OSError:
                    self.hung_up.set()
                    return
                self.sent += 1

    def close(self) -> None:
        self._stop.set()
        self._listener.close()
        self._thread.join(MAX_HOLD)


def test_a_status_line_and_headers_trickled_hit_the_deadline(issuer):
    # A byte every 20 ms never trips a per-read timeout: only the overall deadline can.
    slow = SlowHeaders(interval=0.02)
    try:
        cache = JWKSCache(fetch=FetchOptions(timeout=0.5, connect_timeout=0.5))
        verifier = make_verifier(issuer, slow.url(), cache)
        with pytest.raises(JWKSError, match=r"within 0\.5s"):
            verify(verifier, issuer.token())
        assert slow.requests == 1
        # The client went away; the server found out on one of its next writes.
        assert slow.hung_up.wait(MAX_HOLD)
        assert slow.sent < len(slow.response)
    finally:
        slow.close()


def test_a_megabyte_response_header_is_a_jwks_error(server, issuer):
    server.reply = Reply.json(issuer.jwks(), headers={"X-Huge": "a" * 1_000_000})
    verifier = make_verifier(issuer, server.url(), JWKSCache())
    with pytest.raises(JWKSError):
        verify(verifier, issuer.token())
    (record,) = server.records
    assert record.done.wait(MAX_HOLD)


# --------------------------------------------------------------------------- absurd keys


def _int_b64(value: int) -> str:
    return b64url(value.to_bytes(max(1, (value.bit_length() + 7) // 8), "big"))


def _with(issuer: LocalIssuer, kid: str, **members: str) -> dict[str, Any]:
    return {**issuer.jwks()["keys"][0], "kid": kid, **members}


@pytest.mark.parametrize(
    ("bits", "usable"),
    [
        (2047, False),
        (2048, True),
        (8192, True),
        (8193, False),
        (16384, False),
        (1_500_000, False),  # ~190 kB of n: under the body cap, far over any key size
    ],
)
def test_absurd_key_sizes_are_skipped_with_the_size_logged(server, issuer, caplog, bits, usable):
    caplog.set_level(logging.WARNING, logger="cognises.jwks")
    modulus = (1 << (bits - 1)) | 1  # an odd number of exactly that many bits
    entry = _with(issuer, "sized", n=_int_b64(modulus))
    server.reply = Reply.json({"keys": [entry, *issuer.jwks()["keys"]]})
    cache = JWKSCache()
    verifier = make_verifier(issuer, server.url(), cache)
    assert verify(verifier, issuer.token()).sub  # the good key works either way
    assert (cache.current(server.url(), "sized") is not None) is usable
    logged = warnings_of(caplog)
    if usable:
        assert logged == []
    else:
        assert len(logged) == 1
        assert f"found {bits}" in logged[0]
        assert len(logged[0]) < 500


@pytest.mark.parametrize(
    "exponent",
    [
        pytest.param("", id="empty"),
        pytest.param(_int_b64(0), id="0"),
        pytest.param(_int_b64(1), id="1"),
        pytest.param(_int_b64(2), id="2"),
        pytest.param(_int_b64(65536), id="even"),
        pytest.param(_int_b64((1 << 4096) + 1), id="4097-bits"),
        pytest.param("AQAB==", id="padded"),
        pytest.param("A QAB", id="space"),
    ],
)
def test_absurd_exponents_are_skipped_with_a_reason(server, issuer, caplog, exponent):
    caplog.set_level(logging.WARNING, logger="cognises.jwks")
    server.reply = Reply.json(
        {"keys": [_with(issuer, "odd-e", e=exponent), *issuer.jwks()["keys"]]}
    )
    cache = JWKSCache()
    verifier = make_verifier(issuer, server.url(), cache)
    assert verify(verifier, issuer.token()).sub
    assert cache.current(server.url(), "odd-e") is None
    [message] = warnings_of(caplog)
    assert "not an RSA public key" in message


@pytest.fixture(scope="module")
def key_3072() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=3072)


def _jwk_of(key: rsa.RSAPrivateKey, kid: str, **members: str) -> dict[str, Any]:
    return {**RSAKey.import_key(key.public_key()).as_dict(private=False), "kid": kid, **members}


@pytest.mark.parametrize(
    ("exponent", "usable"),
    [
        pytest.param(1, False, id="1"),
        pytest.param(3, True, id="3"),
        pytest.param(65536, False, id="even"),
        pytest.param(65537, True, id="65537"),
        pytest.param(2**32 - 1, True, id="2**32-1"),
        pytest.param(2**32, False, id="2**32"),
        pytest.param(2**32 + 1, False, id="2**32+1"),
        # The costly one: a valid public key (e < n) that makes each check ~200x slower.
        pytest.param((1 << 3070) | 1, False, id="3071-bits"),
        pytest.param((1 << 3071) - 1, False, id="3071-bits-all-ones"),
    ],
)
def test_only_odd_exponents_from_3_to_2_32_are_used(
    server, issuer, key_3072, caplog, exponent, usable
):
    caplog.set_level(logging.WARNING, logger="cognises.jwks")
    # n of a real 3072-bit key, e made by hand: what cryptography itself would import.
    entry = _jwk_of(key_3072, "costly", e=_int_b64(exponent))
    server.reply = Reply.json({"keys": [entry, *issuer.jwks()["keys"]]})
    cache = JWKSCache()
    verifier = make_verifier(issuer, server.url(), cache)
    assert verify(verifier, issuer.token()).sub  # the others stay usable
    assert (cache.current(server.url(), "costly") is not None) is usable
    logged = warnings_of(caplog)
    if usable:
        assert logged == []
    else:
        [message] = logged
        assert "expected an odd public exponent from 3 to 2**32 - 1" in message
        assert len(message) < 300
        # A token under that kid is refused as unknown, without any RSA work on it.
        with pytest.raises(UnknownKeyError):
            verify(verifier, issuer.sign(issuer.claims(), kid="costly", key=key_3072))


def test_a_key_with_exponent_3_verifies(server, issuer):
    small_e = rsa.generate_private_key(public_exponent=3, key_size=2048)
    server.reply = Reply.json({"keys": [_jwk_of(small_e, "e3"), *issuer.jwks()["keys"]]})
    verifier = make_verifier(issuer, server.url(), JWKSCache())
    assert verify(verifier, issuer.sign(issuer.claims(), kid="e3", key=small_e)).sub


# --------------------------------------------------------------------------- one kid, twice


def test_the_same_key_listed_twice_under_its_kid_is_one_key(server, issuer, caplog):
    caplog.set_level(logging.WARNING, logger="cognises.jwks")
    good = issuer.jwks()["keys"][0]
    # Identical; the same numbers written otherwise (zero octets in front of n); the same
    # key without its optional members.
    padded_n = b64url(b"\x00" + base64.urlsafe_b64decode(good["n"] + "=="))
    bare = {k: good[k] for k in ("kty", "kid", "n", "e")}
    server.reply = Reply.json({"keys": [good, dict(good), {**good, "n": padded_n}, bare]})
    cache = JWKSCache()
    verifier = make_verifier(issuer, server.url(), cache)
    assert verify(verifier, issuer.token()).sub
    assert warnings_of(caplog) == []


def test_different_keys_under_one_kid_are_ambiguous_whatever_else_repeats(server, issuer, caplog):
    caplog.set_level(logging.WARNING, logger="cognises.jwks")
    good = issuer.jwks()["keys"][0]
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    impostor = _jwk_of(other, good["kid"])
    for order in ([good, good, impostor], [good, impostor, good], [impostor, good, good]):
        caplog.clear()
        server.reply = Reply.json({"keys": order})
        verifier = make_verifier(issuer, server.url(), JWKSCache())
        with pytest.raises(JWKSError, match="found none"):
            verify(verifier, issuer.token())
        with pytest.raises(JWKSError):
            verify(verifier, issuer.sign(issuer.claims(), key=other))
        [message] = warnings_of(caplog)
        assert "more than one key" in message


def test_an_encryption_key_sharing_a_kid_never_verifies(server, issuer):
    # RFC 7517 lets keys of different use share a kid. The signing key is used; the
    # encryption key never is, so a token made with its private half is refused.
    enc_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    enc_entry = {
        **RSAKey.import_key(enc_key.public_key()).as_dict(private=False),
        "kid": issuer.kid,
        "use": "enc",
        "alg": "RSA-OAEP",
    }
    for order in ([enc_entry, *issuer.jwks()["keys"]], [*issuer.jwks()["keys"], enc_entry]):
        server.reply = Reply.json({"keys": order})
        verifier = make_verifier(issuer, server.url(), JWKSCache())
        assert verify(verifier, issuer.token()).sub
        forged = issuer.sign(issuer.claims(), key=enc_key)
        with pytest.raises(InvalidSignatureError):
            verify(verifier, forged)


def test_attacker_sized_kids_and_key_types_are_logged_briefly(server, issuer, caplog):
    caplog.set_level(logging.WARNING, logger="cognises.jwks")
    huge = "k" * 60_000  # three of these stay under the body cap
    good = issuer.jwks()["keys"][0]
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    duplicate = {**RSAKey.import_key(other.public_key()).as_dict(private=False), "kid": huge}
    # Another key under the same long kid: ambiguous, so logged.
    twin = {**good, "kid": huge}
    server.reply = Reply.json(
        {"keys": [duplicate, twin, {**good, "kid": "t", "kty": "R" * 60_000}, good]}
    )
    verifier = make_verifier(issuer, server.url(), JWKSCache())
    assert verify(verifier, issuer.token()).sub
    logged = warnings_of(caplog)
    assert len(logged) == 2
    assert all(len(message) < 500 for message in logged), [len(m) for m in logged]


# --------------------------------------------------------------------------- one cache, two pools


def test_a_shared_cache_never_lends_one_pools_key_to_another():
    # Both pools publish a key under the same kid; a token of one pool, or signed with its
    # key while claiming the other pool, never passes the other pool's verifier.
    shared_kid = "same-kid-in-both-pools"
    pool_a = LocalIssuer(region="us-east-1", user_pool_id="us-east-1_PoolAaaaa", client_id="c")
    pool_b = LocalIssuer(region="us-east-1", user_pool_id="us-east-1_PoolBbbbb", client_id="c")
    for pool in (pool_a, pool_b):
        pool.keys = {shared_kid: pool.keys[pool.kid]}
        pool.kid = shared_kid
    a_only = pool_a.add_key("only-in-pool-a")
    cache = JWKSCache(clock=lambda: 0.0)  # frozen: unknown kids are refused, never fetched
    urls = {"a": "https://a.example/jwks.json", "b": "https://b.example/jwks.json"}
    cache.load(urls["a"], pool_a.jwks())
    cache.load(urls["b"], pool_b.jwks())
    verifier_a = make_verifier(pool_a, urls["a"], cache)
    verifier_b = make_verifier(pool_b, urls["b"], cache)

    assert verify(verifier_a, pool_a.token()).sub
    assert verify(verifier_b, pool_b.token()).sub
    # Pool A's own token: B checks it with B's key under that kid, and refuses it.
    with pytest.raises(InvalidSignatureError):
        verify(verifier_b, pool_a.token())
    # Even if B held A's key, A's issuer would give it away.
    with pytest.raises(InvalidIssuerError):
        verify(make_verifier(pool_b, urls["a"], cache), pool_a.token())
    # Pool A's key, pool B's claims, the kid both pools use: B checks with its own key.
    forged = pool_a.sign(pool_b.claims(), kid=shared_kid)
    with pytest.raises(InvalidSignatureError):
        verify(verifier_b, forged)
    # A kid only pool A publishes is unknown to pool B.
    with pytest.raises(UnknownKeyError):
        verify(verifier_b, pool_a.sign(pool_b.claims(), kid=a_only))
    assert cache.fetch_count(urls["a"]) == cache.fetch_count(urls["b"]) == 0


def test_modulus_with_leading_zero_octets_is_the_same_key(server, issuer):
    # Not an absurd size: zero octets in front do not change the number, or its bit count.
    good = issuer.jwks()["keys"][0]
    padded_n = b64url(b"\x00" * 3 + base64.urlsafe_b64decode(good["n"] + "=="))
    server.reply = Reply.json({"keys": [{**good, "n": padded_n}]})
    verifier = make_verifier(issuer, server.url(), JWKSCache())
    assert verify(verifier, issuer.token()).sub
