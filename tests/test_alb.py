"""``AlbVerifier``: the ALB's ``x-amzn-oidc-data`` token, its key fetch, and every way to forge it.

Keys come from a real HTTP server on 127.0.0.1: ``LocalAlb.serve()`` for the ALB's own
behaviour, ``JWKSServer`` (tests/jwks_server.py) for a key server that misbehaves.
"""

from __future__ import annotations

import asyncio
import base64
import json
import random
import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from fuzz_support import B64URL, all_bit_flips
from hypothesis import given, settings
from hypothesis import strategies as st
from jwks_server import MAX_HOLD, JWKSServer, Reply

from cognises import aio, sync
from cognises._alb import decode_padded
from cognises.aio import AlbKeyCache, AlbVerifier, CognitoVerifier
from cognises.aio._alb_verifier import alb_key_url
from cognises.aio._flight import Flight
from cognises.errors import (
    ClaimError,
    ConfigurationError,
    ExpiredTokenError,
    InvalidAudienceError,
    InvalidClaimTypeError,
    InvalidHeaderError,
    InvalidIssuerError,
    InvalidSignatureError,
    JWKSError,
    MalformedTokenError,
    MissingClaimError,
    TokenError,
    UnknownKeyError,
)
from cognises.testing import AlbKeyServer, LocalAlb, LocalIssuer
from cognises.testing._alb import b64url_padded

# --------------------------------------------------------------------------- fixtures


class FakeClock:
    def __init__(self, now: float = 1000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def alb() -> LocalAlb:
    return LocalAlb()


@pytest.fixture
def keys(alb: LocalAlb) -> Iterator[AlbKeyServer]:
    with alb.serve() as server:
        yield server


@pytest.fixture
def server() -> Iterator[JWKSServer]:
    with JWKSServer() as served:
        yield served


def make(alb: LocalAlb, key_url: str, **options: Any) -> AlbVerifier:
    defaults: dict[str, Any] = {
        "alb_arns": alb.arn,
        "client_ids": alb.client_id,
        "issuer": alb.issuer,
        "key_url": key_url,
    }
    return AlbVerifier(alb.region, **{**defaults, **options})


def verify(verifier: AlbVerifier, token: str) -> Any:
    return asyncio.run(verifier.verify(token))


def pem_reply(alb: LocalAlb, kid: str | None = None, **options: Any) -> Reply:
    return Reply(body=alb.pem(kid), headers={"Content-Type": "text/plain"}, **options)


def segments(token: str) -> list[str]:
    return token.split(".")


def padded_token(alb: LocalAlb) -> str:
    """A token whose header and payload both need padding (neither a multiple of 3 bytes)."""
    for i in range(12):
        token = alb.token(extra={"n": "x" * i})
        header, payload, _ = segments(token)
        if header.endswith("=") and payload.endswith("="):
            return token
    raise AssertionError("no padded token made")


# --------------------------------------------------------------------------- happy paths


def test_verifies_an_alb_token_and_fetches_its_key_once(alb, keys):
    verifier = make(alb, keys.key_url)
    token = alb.token(username="bob", email="bob@example.com")
    assert token.split(".")[2].endswith("==")  # 64 bytes: the ALB's padding is there
    claims = verify(verifier, token)
    assert (claims.sub, claims.username, claims.email) == (
        alb.claims(username="bob")["sub"],
        "bob",
        "bob@example.com",
    )
    assert claims.groups == []
    assert claims.token_use is None
    assert claims.client_id is None
    exp = json.loads(base64.urlsafe_b64decode(token.split(".")[0]))["exp"]
    assert claims.expires_at.timestamp() == exp
    assert "bob" not in repr(claims)
    # The second token with that kid needs no fetch, and verifies on the caller's thread.
    assert verifier.verify_cached(alb.token()) is not None
    assert keys.requests == [f"/{alb.kid}"]


def test_exp_comes_from_the_header_when_the_payload_has_none(alb, keys):
    token = alb.token(expires_in=60)
    exp = json.loads(base64.urlsafe_b64decode(token.split(".")[0]))["exp"]
    assert verify(make(alb, keys.key_url), token)["exp"] == exp


def test_sync_verifier_verifies_on_the_callers_thread_once_the_key_is_cached(alb, keys):
    verifier = sync.AlbVerifier(
        alb.region, alb_arns=[alb.arn], client_ids=alb.client_id, key_url=keys.key_url
    )
    assert verifier.verify_cached(alb.token()) is None  # cold: needs a fetch
    assert verifier.verify(alb.token(username="carol")).username == "carol"
    assert verifier.verify_cached(alb.token(username="dave")).username == "dave"
    assert len(keys.requests) == 1


def test_a_new_kid_is_fetched_when_the_alb_rotates(alb, keys):
    verifier = make(alb, keys.key_url)
    assert verify(verifier, alb.token()).sub
    alb.kid = alb.add_key()
    assert verify(verifier, alb.token()).sub
    assert len(keys.requests) == 2
    assert verifier.key_cache.fetches == 2


def test_leeway_lets_a_token_just_past_exp_through(alb, keys):
    assert verify(make(alb, keys.key_url, leeway=30), alb.token(expires_in=-10)).sub
    with pytest.raises(ExpiredTokenError):
        verify(make(alb, keys.key_url, leeway=5), alb.token(expires_in=-10))


def test_client_and_issuer_checks_are_off_unless_asked_for(alb, keys):
    other = LocalAlb(client_id="someone-else", issuer="https://elsewhere.example")
    other.keys = alb.keys
    other.kid = alb.kid
    other.arn = alb.arn
    loose = make(alb, keys.key_url, client_ids=None, issuer=None)
    assert verify(loose, other.token()).sub


def test_key_cache_load_serves_a_shipped_key_without_a_fetch(alb, server):
    cache = AlbKeyCache(server.url("/{kid}"))
    cache.load(alb.kid, alb.pem().decode())
    verifier = make(alb, server.url("/{kid}"), key_cache=cache)
    assert verifier.verify_cached(alb.token()) is not None
    assert server.count() == 0


# --------------------------------------------------------------------------- header


@pytest.mark.parametrize("alg", ["RS256", "HS256", "none", "ES384", "es256", None])
def test_any_alg_but_es256_is_refused_before_a_fetch(alb, keys, alg):
    header = {k: v for k, v in alb.header().items() if k != "alg" or alg is not None}
    if alg is not None:
        header["alg"] = alg
    with pytest.raises(InvalidHeaderError, match="expected alg 'ES256'"):
        verify(make(alb, keys.key_url), alb.sign(alb.claims(), header=header))
    assert keys.requests == []


def test_hs256_signed_with_the_public_key_as_secret_is_refused(alb, keys):
    import hashlib
    import hmac

    header = {**alb.header(), "alg": "HS256"}
    signing_input = f"{b64url_padded(header)}.{b64url_padded(alb.claims())}"
    mac = hmac.new(alb.pem(), signing_input.encode(), hashlib.sha256).digest()
    with pytest.raises(InvalidHeaderError):
        verify(make(alb, keys.key_url), f"{signing_input}.{b64url_padded(mac)}")


def test_alg_none_with_an_empty_signature_is_refused(alb, keys):
    header = {**alb.header(), "alg": "none"}
    token = f"{b64url_padded(header)}.{b64url_padded(alb.claims())}."
    with pytest.raises(InvalidHeaderError):
        verify(make(alb, keys.key_url), token)


def test_a_valid_signature_by_the_key_of_another_kid_is_refused(alb, keys):
    other_kid = alb.add_key()
    # Signed by other_kid's key (which the server publishes), under the first kid.
    token = alb.sign(alb.claims(), header=alb.header(kid=alb.kid), key=alb.keys[other_kid])
    verifier = make(alb, keys.key_url)
    with pytest.raises(InvalidSignatureError, match="does not match"):
        verify(verifier, token)
    # The same signature under its own kid passes: the refusal was about the kid.
    assert verify(verifier, alb.sign(alb.claims(), header=alb.header(kid=other_kid))).sub


@pytest.mark.parametrize(
    "signer",
    [
        "arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/app/other/0123456789abcdef",
        "PREFIX",  # replaced below by a prefix of the right ARN
        "SUFFIXED",  # the right ARN with more after it
        "UPPER",  # the right ARN in another case
        "",
        ["a list"],
    ],
)
def test_a_wrong_signer_is_refused_before_a_fetch(alb, keys, signer):
    signer = {"PREFIX": alb.arn[:-1], "SUFFIXED": alb.arn + "0", "UPPER": alb.arn.upper()}.get(
        signer if isinstance(signer, str) else "", signer
    )
    token = alb.sign(alb.claims(), header={**alb.header(), "signer": signer})
    with pytest.raises(InvalidHeaderError, match="signer"):
        verify(make(alb, keys.key_url), token)
    assert keys.requests == []


def test_a_missing_signer_is_refused(alb, keys):
    header = {k: v for k, v in alb.header().items() if k != "signer"}
    with pytest.raises(InvalidHeaderError, match="expected signer to be an ALB's ARN, found none"):
        verify(make(alb, keys.key_url), alb.sign(alb.claims(), header=header))


def test_one_of_several_albs_may_sign(alb, keys):
    other = "arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/app/b/1"
    assert verify(make(alb, keys.key_url, alb_arns=[other, alb.arn]), alb.token()).sub


def test_expired_is_refused_before_a_fetch(alb, keys):
    with pytest.raises(ExpiredTokenError, match="expected exp after"):
        verify(make(alb, keys.key_url), alb.token(expires_in=-60))
    assert keys.requests == []


@pytest.mark.parametrize(
    ("exp", "error"),
    [
        (None, MissingClaimError),
        ("1999999999", InvalidClaimTypeError),
        (True, InvalidClaimTypeError),
        (1.5e9, InvalidClaimTypeError),
        (10**12, InvalidClaimTypeError),
    ],
)
def test_header_exp_must_be_an_integer_time(alb, keys, exp, error):
    header = {k: v for k, v in alb.header().items() if k != "exp"}
    if exp is not None:
        header["exp"] = exp
    with pytest.raises(error) as caught:
        verify(make(alb, keys.key_url), alb.sign(alb.claims(), header=header))
    assert caught.value.claim == "exp"


def test_another_client_is_refused(alb, keys):
    token = alb.token(header={"client": "another-client"})
    with pytest.raises(InvalidAudienceError, match="expected client to be one of") as caught:
        verify(make(alb, keys.key_url), token)
    assert caught.value.claim == "client"
    header = {k: v for k, v in alb.header().items() if k != "client"}
    with pytest.raises(InvalidAudienceError, match="found none"):
        verify(make(alb, keys.key_url), alb.sign(alb.claims(), header=header))


def test_another_issuer_is_refused(alb, keys):
    token = alb.token(header={"iss": "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_OTHER"})
    with pytest.raises(InvalidIssuerError):
        verify(make(alb, keys.key_url), token)


@pytest.mark.parametrize("field", ["jwk", "jku", "x5u", "x5c", "crit"])
def test_key_bearing_headers_are_refused(alb, keys, field):
    token = alb.token(header={field: "https://attacker.example/key"})
    with pytest.raises(InvalidHeaderError, match="key-bearing"):
        verify(make(alb, keys.key_url), token)


@pytest.mark.parametrize(
    "kid",
    [
        "../secret",
        "..",
        "a/b",
        "%2F",
        "..%2Fx",
        "k?x=1",
        "k#frag",
        "k.pem",
        "k id",
        "k\\x",
        "",
        "k" * 129,
        7,
        None,
        "ké",
    ],
)
def test_a_kid_that_could_change_the_key_url_is_refused_before_any_fetch(alb, server, kid):
    header = {**alb.header(), "kid": kid}
    token = alb.sign(alb.claims(), header=header, key=alb.keys[alb.kid])
    with pytest.raises(InvalidHeaderError, match="expected kid"):
        verify(make(alb, server.url("/keys/{kid}")), token)
    assert server.count() == 0


# --------------------------------------------------------------------------- encoding


def test_padding_removed_from_the_signature_is_refused(alb, keys):
    verifier = make(alb, keys.key_url)
    header, payload, signature = segments(alb.token())
    assert signature.endswith("==")
    with pytest.raises(MalformedTokenError, match="padded to a multiple of 4"):
        verify(verifier, f"{header}.{payload}.{signature.rstrip('=')}")
    # The same signature with its padding verifies: only the spelling was refused.
    assert verify(verifier, f"{header}.{payload}.{signature}").sub


@pytest.mark.parametrize("index", [0, 1, 2])
@pytest.mark.parametrize("change", ["removed", "doubled", "one more", "one less", "inside"])
def test_padding_changed_in_any_segment_is_refused(alb, keys, index, change):
    parts = segments(padded_token(alb))
    seg = parts[index]
    body, pad = seg.rstrip("="), seg[len(seg.rstrip("=")) :]
    assert pad
    parts[index] = {
        "removed": body,
        "doubled": body + pad * 2,
        "one more": seg + "=",
        "one less": seg[:-1],
        "inside": body[:4] + "=" + body[4:] + pad,
    }[change]
    with pytest.raises(MalformedTokenError):
        verify(make(alb, keys.key_url), ".".join(parts))


def test_non_canonical_last_character_is_refused(alb, keys):
    header, payload, signature = segments(alb.token())
    # 64 bytes: 21 whole groups, then one byte in two characters, four bits unused.
    last = signature[-3]
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    changed = alphabet[alphabet.index(last) | 1]
    assert changed != last
    bad = f"{header}.{payload}.{signature[:-3]}{changed}=="
    with pytest.raises(MalformedTokenError, match="canonical"):
        verify(make(alb, keys.key_url), bad)


@pytest.mark.parametrize("char", ["+", "/", " ", "*"])
def test_standard_base64_characters_are_refused(alb, keys, char):
    header, payload, signature = segments(alb.token())
    bad = f"{header}.{payload}.{signature[:5]}{char}{signature[6:]}"
    with pytest.raises(MalformedTokenError):
        verify(make(alb, keys.key_url), bad)


def test_decode_padded_takes_exactly_the_canonical_padded_form():
    for size in range(1, 40):
        data = random.Random(size).randbytes(size)
        encoded = base64.urlsafe_b64encode(data)
        assert decode_padded(encoded, "x") == data
        body = encoded.rstrip(b"=")
        if body != encoded:
            with pytest.raises(MalformedTokenError):
                decode_padded(body, "x")
        with pytest.raises(MalformedTokenError):
            decode_padded(encoded + b"====", "x")
    with pytest.raises(MalformedTokenError):
        decode_padded(b"", "x")
    with pytest.raises(MalformedTokenError):
        decode_padded(b"A===", "x")


def test_a_der_signature_is_refused(alb, keys):
    header = alb.header()
    signing_input = f"{b64url_padded(header)}.{b64url_padded(alb.claims())}"
    der = alb.keys[alb.kid].sign(signing_input.encode(), ec.ECDSA(hashes.SHA256()))
    with pytest.raises(InvalidSignatureError, match=r"64 bytes \(r \|\| s\), found 7\d bytes"):
        verify(make(alb, keys.key_url), f"{signing_input}.{b64url_padded(der)}")


@pytest.mark.parametrize("size", [0, 32, 63, 65, 96])
def test_a_signature_of_the_wrong_length_is_refused(alb, keys, size):
    header, payload, _ = segments(alb.token())
    token = f"{header}.{payload}.{b64url_padded(bytes(size))}" if size else f"{header}.{payload}."
    with pytest.raises((InvalidSignatureError, MalformedTokenError)):
        verify(make(alb, keys.key_url), token)


def test_r_and_s_swapped_or_zero_do_not_verify(alb, keys):
    header, payload, signature = segments(alb.token())
    raw = base64.urlsafe_b64decode(signature)
    verifier = make(alb, keys.key_url)
    for changed in (raw[32:] + raw[:32], bytes(64), raw[:32] + bytes(32)):
        with pytest.raises(InvalidSignatureError):
            verify(verifier, f"{header}.{payload}.{b64url_padded(changed)}")


def test_a_changed_payload_does_not_verify(alb, keys):
    header, _, signature = segments(alb.token())
    payload = b64url_padded(alb.claims(username="admin"))
    with pytest.raises(InvalidSignatureError):
        verify(make(alb, keys.key_url), f"{header}.{payload}.{signature}")


@pytest.mark.parametrize(
    "token",
    ["", "a.b", "a.b.c.d", "x" * 20000, "é.é.é", b"\xff.a.b", 42, None],
)
def test_malformed_tokens_are_refused(alb, keys, token):
    with pytest.raises(MalformedTokenError):
        verify(make(alb, keys.key_url), token)


def test_mutated_tokens_raise_only_token_errors(alb, keys):
    verifier = make(alb, keys.key_url)
    token = alb.token()
    verify(verifier, token)
    rng = random.Random(17)
    chars = 'ABCxyz019-_=.+/ {}"é'
    for _ in range(400):
        mutated = list(token)
        for _ in range(rng.randint(1, 3)):
            mutated[rng.randrange(len(mutated))] = rng.choice(chars)
        candidate = "".join(mutated)
        if candidate == token:
            continue
        with pytest.raises(TokenError):
            verify(verifier, candidate)


@pytest.mark.parametrize(
    ("extra", "error"),
    [
        ({"sub": 5}, InvalidClaimTypeError),
        ({"email": ["a"]}, InvalidClaimTypeError),
        ({"cognito:groups": "admins"}, InvalidClaimTypeError),
        ({"cognito:groups": [1]}, InvalidClaimTypeError),
        ({"exp": "soon"}, InvalidClaimTypeError),
        ({"scope": 3}, InvalidClaimTypeError),
    ],
)
def test_payload_claims_the_accessors_read_are_type_checked(alb, keys, extra, error):
    with pytest.raises(error):
        verify(make(alb, keys.key_url), alb.token(extra=extra))


def test_a_payload_without_sub_is_refused(alb, keys):
    token = alb.sign({"email": "x@example.com"})
    with pytest.raises(MissingClaimError):
        verify(make(alb, keys.key_url), token)


def test_a_payload_that_is_not_an_object_is_refused(alb, keys):
    with pytest.raises(MalformedTokenError, match="JSON object"):
        verify(make(alb, keys.key_url), alb.sign(b"[1, 2]"))


# --------------------------------------------------------------------------- key fetch


def test_a_key_url_that_redirects_is_not_followed(alb, server):
    server.reply = Reply(status=302, headers={"Location": server.url("/elsewhere")})
    with pytest.raises(JWKSError, match=r"expected HTTP 200 .* found 302"):
        verify(make(alb, server.url("/{kid}")), alb.token())
    assert [r.path for r in server.records] == [f"/{alb.kid}"]


def test_a_huge_key_body_is_cut_off(alb, server):
    server.reply = Reply(body=b"A" * 4096, repeat=1024, chunked=True)
    with pytest.raises(JWKSError, match="at most 8192 bytes"):
        verify(make(alb, server.url("/{kid}")), alb.token())
    assert not server.records[0].completed


def test_a_huge_declared_length_is_refused_before_reading(alb, server):
    server.reply = Reply(body=b"A" * 100_000)
    with pytest.raises(JWKSError, match="found 100000"):
        verify(make(alb, server.url("/{kid}")), alb.token())


@pytest.mark.parametrize(
    "body",
    [
        b"not a key",
        b"-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n",
        ec.generate_private_key(ec.SECP384R1())
        .public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo),
        rsa.generate_private_key(public_exponent=65537, key_size=2048)
        .public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo),
    ],
    ids=["text", "bad-pem", "p384", "rsa"],
)
def test_anything_but_a_p256_pem_key_is_refused(alb, server, body):
    server.reply = Reply(body=body)
    with pytest.raises(JWKSError, match="expected a"):
        verify(make(alb, server.url("/{kid}")), alb.token())


def test_an_unknown_kid_is_a_token_error_and_not_refetched_within_the_cooldown(alb, keys):
    clock = FakeClock()
    verifier = make(alb, keys.key_url, key_cache=AlbKeyCache(keys.key_url, clock=clock))
    stranger = alb.sign(alb.claims(), header=alb.header(kid="no-such-kid"), key=alb.keys[alb.kid])
    for _ in range(3):
        with pytest.raises(UnknownKeyError, match="expected a kid the ALB published"):
            verify(verifier, stranger)
    assert keys.requests == ["/no-such-kid"]
    clock.now += verifier.key_cache.cooldown
    with pytest.raises(UnknownKeyError):
        verify(verifier, stranger)
    assert len(keys.requests) == 2


def test_an_outage_is_a_jwks_error_not_retried_within_the_cooldown(alb, server):
    clock = FakeClock()
    url = server.url("/{kid}")
    verifier = make(alb, url, key_cache=AlbKeyCache(url, clock=clock))
    server.script = [Reply(status=500)]
    server.reply = pem_reply(alb)
    for _ in range(3):
        with pytest.raises(JWKSError, match="found 500"):
            verify(verifier, alb.token())
    assert server.count() == 1
    clock.now += verifier.key_cache.cooldown
    assert verify(verifier, alb.token()).sub
    assert server.count() == 2


def test_made_up_kids_spend_a_bounded_fetch_budget(alb, keys):
    clock = FakeClock()
    cache = AlbKeyCache(keys.key_url, clock=clock, max_fetches=3)
    verifier = make(alb, keys.key_url, key_cache=cache)
    for i in range(10):
        token = alb.sign(alb.claims(), header=alb.header(kid=f"fake{i}"), key=alb.keys[alb.kid])
        with pytest.raises(UnknownKeyError):
            verify(verifier, token)
    assert len(keys.requests) == 3
    clock.now += cache.cooldown
    assert verify(verifier, alb.token()).sub  # the budget comes back
    assert len(keys.requests) == 4


def test_failures_do_not_crowd_out_cached_keys(alb, keys):
    cache = AlbKeyCache(keys.key_url, max_keys=4, max_fetches=100)
    verifier = make(alb, keys.key_url, key_cache=cache)
    assert verify(verifier, alb.token()).sub
    for i in range(10):
        token = alb.sign(alb.claims(), header=alb.header(kid=f"fake{i}"), key=alb.keys[alb.kid])
        with pytest.raises(UnknownKeyError):
            verify(verifier, token)
    assert verifier.verify_cached(alb.token()) is not None
    assert len(cache._entries) <= 4


def test_a_slow_key_server_times_out(alb, server):
    from cognises.aio import FetchOptions

    server.reply = pem_reply(alb, trickle=0.05)
    cache = AlbKeyCache(server.url("/{kid}"), fetch=FetchOptions(timeout=0.3, connect_timeout=0.3))
    with pytest.raises(JWKSError, match=r"within 0\.3s"):
        verify(make(alb, server.url("/{kid}"), key_cache=cache), alb.token())


def watch_waiters(monkeypatch: pytest.MonkeyPatch, n: int, reached: Callable[[], None]) -> Any:
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


def test_a_thousand_concurrent_cold_verifications_make_one_key_fetch(alb, server, monkeypatch):
    n = 1000
    hold = threading.Event()
    waiters = watch_waiters(monkeypatch, n - 1, hold.set)
    server.reply = pem_reply(alb, hold=hold)
    verifier = make(alb, server.url("/{kid}"))
    tokens = [alb.token(username=f"user{i}") for i in range(n)]

    async def main() -> list[Any]:
        return await asyncio.gather(*(verifier.verify(t) for t in tokens))

    results = asyncio.run(main())
    assert [c.username for c in results] == [f"user{i}" for i in range(n)]
    assert waiters() == n - 1
    assert server.count() == 1
    assert verifier.key_cache.fetches == 1


def test_cold_verifications_from_threads_loops_and_sync_callers_share_one_fetch(
    alb, server, monkeypatch
):
    loops, per_loop, sync_threads = 4, 25, 4
    total = loops * per_loop + sync_threads
    hold = threading.Event()
    waiters = watch_waiters(monkeypatch, total - 1, hold.set)
    url = server.url("/{kid}")
    server.reply = pem_reply(alb, hold=hold)
    cache = AlbKeyCache(url)
    aio_verifier = make(alb, url, key_cache=cache)
    sync_verifier = sync.AlbVerifier(alb.region, alb_arns=alb.arn, key_url=url, key_cache=cache)
    results: dict[str, Any] = {}
    start = threading.Barrier(loops + sync_threads)

    def on_a_loop(i: int) -> None:
        start.wait(MAX_HOLD)

        async def many() -> list[Any]:
            return await asyncio.gather(
                *(aio_verifier.verify(alb.token(username=f"l{i}-{j}")) for j in range(per_loop))
            )

        try:
            results[f"loop{i}"] = [c.username for c in asyncio.run(many())]
        except BaseException as exc:
            results[f"loop{i}"] = exc

    def blocking(i: int) -> None:
        start.wait(MAX_HOLD)
        try:
            results[f"sync{i}"] = sync_verifier.verify(alb.token(username=f"s{i}")).username
        except BaseException as exc:
            results[f"sync{i}"] = exc

    threads = [threading.Thread(target=on_a_loop, args=(i,)) for i in range(loops)]
    threads += [threading.Thread(target=blocking, args=(i,)) for i in range(sync_threads)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(MAX_HOLD * 2)
        assert not thread.is_alive()
    expected: dict[str, Any] = {
        f"loop{i}": [f"l{i}-{j}" for j in range(per_loop)] for i in range(loops)
    }
    expected.update({f"sync{i}": f"s{i}" for i in range(sync_threads)})
    assert results == expected
    assert waiters() == total - 1
    assert server.count() == 1
    assert cache.fetches == 1


def test_a_cancelled_fetch_starts_no_cooldown(alb, server):
    hold = threading.Event()
    url = server.url("/{kid}")
    server.script = [pem_reply(alb, hold=hold)]
    server.reply = pem_reply(alb)
    verifier = make(alb, url)

    async def cancel_then_retry() -> Any:
        task = asyncio.ensure_future(verifier.verify(alb.token()))
        await asyncio.to_thread(server.wait_for_requests, 1)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        hold.set()
        return await verifier.verify(alb.token())

    assert asyncio.run(cancel_then_retry()).sub
    assert server.count() == 2


# --------------------------------------------------------------------------- request headers


@pytest.fixture
def pool() -> LocalIssuer:
    return LocalIssuer()


def request_verifier(alb: LocalAlb, keys: AlbKeyServer, pool: LocalIssuer) -> AlbVerifier:
    access = CognitoVerifier(
        pool.region, pool.user_pool_id, client_ids=pool.client_id, token_use="access"
    )
    access.jwks_cache.load(access.jwks_url, pool.jwks())
    return make(alb, keys.key_url, issuer=pool.issuer, access_verifier=access)


def alb_for(pool: LocalIssuer) -> LocalAlb:
    return LocalAlb(region=pool.region, client_id=pool.client_id, issuer=pool.issuer)


def test_verify_request_checks_the_data_and_the_access_token(pool):
    alb = alb_for(pool)
    with alb.serve() as keys:
        verifier = request_verifier(alb, keys, pool)
        headers = {
            "x-amzn-oidc-data": alb.token(username="alice"),
            "x-amzn-oidc-accesstoken": pool.token(token_use="access", groups=["admins"]),
            "x-amzn-oidc-identity": alb.claims(username="alice")["sub"],
        }
        identity = asyncio.run(verifier.verify_request(headers))
    assert identity.claims.username == "alice"
    assert identity.groups == ["admins"]
    assert identity.access is not None
    assert identity.scopes == ["aws.cognito.signin.user.admin"]
    assert identity.signer == alb.arn


def test_verify_request_refuses_an_access_token_of_another_user(pool):
    alb = alb_for(pool)
    with alb.serve() as keys:
        verifier = request_verifier(alb, keys, pool)
        headers = {
            "x-amzn-oidc-data": alb.token(username="alice"),
            "x-amzn-oidc-accesstoken": pool.token(
                token_use="access", username="root", groups=["admins"]
            ),
        }
        with pytest.raises(ClaimError, match="access token's sub") as caught:
            asyncio.run(verifier.verify_request(headers))
    assert caught.value.claim == "sub"


def test_verify_request_refuses_an_identity_header_of_another_user(pool):
    alb = alb_for(pool)
    with alb.serve() as keys:
        verifier = request_verifier(alb, keys, pool)
        headers = {
            "x-amzn-oidc-data": alb.token(username="alice"),
            "x-amzn-oidc-accesstoken": pool.token(token_use="access"),
            "x-amzn-oidc-identity": "someone-else",
        }
        with pytest.raises(ClaimError, match="x-amzn-oidc-identity"):
            asyncio.run(verifier.verify_request(headers))


def test_verify_request_refuses_an_id_token_in_place_of_the_access_token(pool):
    alb = alb_for(pool)
    with alb.serve() as keys:
        verifier = request_verifier(alb, keys, pool)
        headers = {"x-amzn-oidc-data": alb.token(), "x-amzn-oidc-accesstoken": pool.token()}
        with pytest.raises(TokenError, match="token_use"):
            asyncio.run(verifier.verify_request(headers))


@pytest.mark.parametrize("missing", ["x-amzn-oidc-data", "x-amzn-oidc-accesstoken"])
def test_verify_request_needs_both_tokens(pool, missing):
    alb = alb_for(pool)
    with alb.serve() as keys:
        verifier = request_verifier(alb, keys, pool)
        headers = {
            "x-amzn-oidc-data": alb.token(),
            "x-amzn-oidc-accesstoken": pool.token(token_use="access"),
        }
        del headers[missing]
        with pytest.raises(MalformedTokenError, match=missing):
            asyncio.run(verifier.verify_request(headers))


def test_sync_verify_request(pool):
    alb = alb_for(pool)
    with alb.serve() as keys:
        access = sync.CognitoVerifier(
            pool.region, pool.user_pool_id, client_ids=pool.client_id, token_use="access"
        )
        access.jwks_cache.load(access.jwks_url, pool.jwks())
        verifier = sync.AlbVerifier(
            alb.region,
            alb_arns=alb.arn,
            client_ids=pool.client_id,
            issuer=pool.issuer,
            access_verifier=access,
            key_url=keys.key_url,
        )
        identity = verifier.verify_request(
            {
                "x-amzn-oidc-data": alb.token(),
                "x-amzn-oidc-accesstoken": pool.token(token_use="access", groups=["ops"]),
            }
        )
    assert identity.groups == ["ops"]


def test_without_an_access_verifier_there_are_no_groups(alb, keys):
    identity = asyncio.run(
        make(alb, keys.key_url).verify_request(
            {"x-amzn-oidc-data": alb.token(extra={"cognito:groups": ["admins"]})}
        )
    )
    assert identity.access is None
    assert identity.groups == []
    assert identity.claims.groups == ["admins"]  # the IdP's say, not the pool's


# --------------------------------------------------------------------------- configuration


def test_key_urls_by_region_including_govcloud():
    assert alb_key_url("eu-west-1") == "https://public-keys.auth.elb.eu-west-1.amazonaws.com/{kid}"
    assert alb_key_url("us-gov-west-1") == (
        "https://s3-us-gov-west-1.amazonaws.com/aws-elb-public-keys-prod-us-gov-west-1/{kid}"
    )
    assert alb_key_url("us-gov-east-1") == (
        "https://s3-us-gov-east-1.amazonaws.com/aws-elb-public-keys-prod-us-gov-east-1/{kid}"
    )
    arn = "arn:aws:elasticloadbalancing:eu-west-1:123456789012:loadbalancer/app/a/1"
    verifier = AlbVerifier("eu-west-1", alb_arns=arn)
    assert (
        verifier.key_cache.url("abc") == "https://public-keys.auth.elb.eu-west-1.amazonaws.com/abc"
    )


@pytest.mark.parametrize("region", ["", "us-east-1/x", "evil.com/", "US-EAST-1", "us-east-1.x"])
def test_a_region_that_is_no_region_is_refused(region):
    arn = "arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/app/a/1"
    with pytest.raises(ConfigurationError, match="AWS region"):
        AlbVerifier(region, alb_arns=arn)


@pytest.mark.parametrize(
    "arns",
    [[], "", "my-alb", ["arn:aws:iam::123456789012:role/x"], [None], 5, [["nested"]]],
)
def test_alb_arns_must_be_alb_arns(arns):
    with pytest.raises(ConfigurationError, match="alb_arns"):
        AlbVerifier("us-east-1", alb_arns=arns)


@pytest.mark.parametrize(
    ("key_url", "match"),
    [
        ("https://keys.example/", "'\\{kid\\}' once"),
        ("https://keys.example/{kid}/{kid}", "once"),
        ("http://keys.example/{kid}", "https key_url"),
        ("ftp://keys.example/{kid}", "https key_url"),
    ],
)
def test_key_url_is_checked(alb, key_url, match):
    with pytest.raises(ConfigurationError, match=match):
        make(alb, key_url)


def test_access_verifier_must_verify_access_tokens(alb):
    pool = LocalIssuer()
    id_verifier = aio.CognitoVerifier(pool.region, pool.user_pool_id, token_use="id")
    with pytest.raises(ConfigurationError, match="token_use='access'"):
        make(alb, "https://keys.example/{kid}", access_verifier=id_verifier)


def test_key_cache_of_another_url_is_refused(alb):
    with pytest.raises(ConfigurationError, match="key_cache"):
        make(alb, "https://a.example/{kid}", key_cache=AlbKeyCache("https://b.example/{kid}"))


def test_albs_of_another_region_than_the_key_endpoints_are_refused():
    arn = "arn:aws:elasticloadbalancing:eu-west-1:123456789012:loadbalancer/app/a/1"
    with pytest.raises(ConfigurationError, match="expected ALBs of region 'us-east-1'"):
        AlbVerifier("us-east-1", alb_arns=arn)
    # With keys from elsewhere (a local server), the region is not the ARN's business.
    assert AlbVerifier("us-east-1", alb_arns=arn, key_url="http://127.0.0.1:1/{kid}")


def test_govcloud_albs_use_the_s3_key_endpoint():
    arn = "arn:aws-us-gov:elasticloadbalancing:us-gov-west-1:123456789012:loadbalancer/app/a/1"
    verifier = sync.AlbVerifier("us-gov-west-1", alb_arns=arn)
    assert verifier.key_cache.url("k1") == (
        "https://s3-us-gov-west-1.amazonaws.com/aws-elb-public-keys-prod-us-gov-west-1/k1"
    )


# --------------------------------------------------------------------------- properties


@settings(deadline=None, database=None, max_examples=400)
@given(st.text(alphabet=B64URL + "=+/ ", max_size=24))
def test_decode_padded_takes_only_the_canonical_padded_spelling(segment):
    """Exactly the segments ``base64.urlsafe_b64encode`` makes are accepted."""
    try:
        data = decode_padded(segment.encode(), "segment")
    except MalformedTokenError:
        return
    assert base64.urlsafe_b64encode(data).decode() == segment


@settings(deadline=None, database=None, max_examples=200)
@given(st.binary(min_size=1, max_size=48))
def test_decode_padded_takes_every_canonical_padded_spelling(data):
    assert decode_padded(base64.urlsafe_b64encode(data), "segment") == data


def test_every_single_bit_flip_is_refused(alb, keys):
    verifier = make(alb, keys.key_url)
    token = alb.token()
    verify(verifier, token)
    kinds: set[str] = set()
    for flipped in all_bit_flips(token):
        for form in (flipped, flipped.decode("latin-1")):
            with pytest.raises(TokenError) as caught:
                verify(verifier, form)
            kinds.add(type(caught.value).__name__)
    assert {"MalformedTokenError", "InvalidSignatureError", "InvalidHeaderError"} <= kinds
    # One fetch: no flip found another kid's URL (a flipped kid is another kid, or unsafe).
    assert all(path.startswith("/") and ".." not in path for path in keys.requests)


def test_a_huge_header_is_refused_before_it_is_parsed():
    from cognises._alb import parse_alb
    from cognises._token import MAX_HEADER_SIZE
    from cognises.errors import MalformedTokenError

    nested = {"alg": "ES256", "kid": "k", "x": [[[[0]]]] * (MAX_HEADER_SIZE // 8)}
    head = base64.urlsafe_b64encode(json.dumps(nested).encode()).decode()
    body = base64.urlsafe_b64encode(b"{}").decode()
    with pytest.raises(MalformedTokenError, match="header of at most"):
        parse_alb(f"{head}.{body}.{'A' * 88}")
