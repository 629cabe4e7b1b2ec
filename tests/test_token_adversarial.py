"""Hostile and malformed tokens, claim checks, Claims, the result cache and require_groups.

Keys come from a ``LocalIssuer``; the verifier's JWKS cache is loaded directly (no HTTP)
except where a test needs a real fetch, which respx serves.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import logging
import types
import uuid
from collections.abc import MutableMapping
from datetime import datetime, timezone
from typing import Any

import httpx
import pytest
import respx
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from joserfc.jwk import RSAKey

from cognises import _token
from cognises.aio import Claims, CognitoVerifier, JWKSCache, require_groups
from cognises.aio import _verifier as verifier_module
from cognises.errors import (
    ConfigurationError,
    ExpiredTokenError,
    InvalidAudienceError,
    InvalidClaimTypeError,
    InvalidHeaderError,
    InvalidIssuerError,
    InvalidSignatureError,
    InvalidTokenUseError,
    MalformedTokenError,
    MissingClaimError,
    NotYetValidError,
    PermissionDenied,
    TokenError,
    UnknownKeyError,
)
from cognises.testing._issuer import LocalIssuer, b64url

JWKS_URL = "https://jwks.example.test/pool/.well-known/jwks.json"
B64_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
# A fixed "now" for the tests that control time.
T0 = 1_700_000_000


# --------------------------------------------------------------------------- helpers


@pytest.fixture(scope="module")
def issuer() -> LocalIssuer:
    """Shared by the module: never rotate it (tests that rotate make their own)."""
    return LocalIssuer()


@pytest.fixture(scope="module")
def attacker_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def make_verifier(issuer: LocalIssuer, **options: Any) -> CognitoVerifier:
    cache = options.pop("jwks_cache", None)
    if cache is None:
        cache = JWKSCache()
        cache.load(JWKS_URL, issuer.jwks())
    options.setdefault("client_ids", issuer.client_id)
    return CognitoVerifier(
        issuer.region, issuer.user_pool_id, jwks_url=JWKS_URL, jwks_cache=cache, **options
    )


@pytest.fixture
def verifier(issuer: LocalIssuer) -> CognitoVerifier:
    return make_verifier(issuer)


def verify(verifier: CognitoVerifier, token: Any) -> Claims:
    return asyncio.run(verifier.verify(token))


def rejected(
    verifier: CognitoVerifier, token: Any, error: type[TokenError], claim: str | None = None
) -> TokenError:
    """Assert that ``token`` is refused with exactly ``error`` (and ``claim``)."""
    with pytest.raises(TokenError) as info:
        verify(verifier, token)
    assert type(info.value) is error, f"{type(info.value).__name__}: {info.value}"
    if claim is not None:
        assert info.value.claim == claim  # type: ignore[attr-defined]
    # Messages never carry the token.
    text = str(info.value)
    if isinstance(token, (str, bytes)):
        raw = token if isinstance(token, str) else token.decode("latin-1")
        for segment in raw.split("."):
            if len(segment) >= 16:
                assert segment[:16] not in text
    return info.value


def header_of(issuer: LocalIssuer, **fields: Any) -> dict[str, Any]:
    return {"alg": "RS256", "kid": issuer.kid, **fields}


def json_bytes(value: Any) -> bytes:
    return json.dumps(value, separators=(",", ":")).encode()


def sign_segments(header_segment: str, payload_segment: str, key: rsa.RSAPrivateKey) -> str:
    """A token over exactly these (possibly malformed) segments, validly signed."""
    signing_input = f"{header_segment}.{payload_segment}"
    signature = key.sign(signing_input.encode("latin-1"), padding.PKCS1v15(), hashes.SHA256())
    return f"{signing_input}.{b64url(signature)}"


def sign_raw(
    issuer: LocalIssuer,
    header: Any,
    payload: Any,
    key: rsa.RSAPrivateKey | None = None,
) -> str:
    """Sign any header and payload (JSON values, or raw bytes taken as they are)."""
    head = header if isinstance(header, bytes) else json_bytes(header)
    body = payload if isinstance(payload, bytes) else json_bytes(payload)
    return sign_segments(b64url(head), b64url(body), key or issuer.keys[issuer.kid])


def with_rest(data: bytes, rest: int) -> bytes:
    """Pad JSON with trailing spaces until its base64url length is ``rest`` mod 4."""
    while len(b64url(data)) % 4 != rest:
        data += b" "
    return data


def flip_trailing_bits(segment: str) -> str:
    """Set an unused low bit of the last character: same bytes, different text."""
    assert len(segment) % 4 in (2, 3)
    index = B64_ALPHABET.index(segment[-1])
    assert index & 1 == 0
    return segment[:-1] + B64_ALPHABET[index | 1]


def lenient_decode(segment: str) -> bytes:
    return base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))


def pin_time(monkeypatch: pytest.MonkeyPatch, now: float) -> types.SimpleNamespace:
    """Make the verifier see ``now`` as the wall clock; change ``.now`` to move time."""
    clock = types.SimpleNamespace(now=now)
    monkeypatch.setattr(verifier_module, "time", types.SimpleNamespace(time=lambda: clock.now))
    return clock


def timed_claims(issuer: LocalIssuer, **extra: Any) -> dict[str, Any]:
    """Claims issued at T0 - 10, expiring at T0 + 3600, with ``extra`` on top."""
    claims = issuer.claims(issued_at=T0 - 10, expires_in=3610)
    claims.update(extra)
    return claims


# --------------------------------------------------------------------------- alg


def test_alg_none_without_signature(issuer, verifier):
    token = f"{b64url(header_of(issuer, alg='none'))}.{b64url(issuer.claims())}."
    rejected(verifier, token, InvalidHeaderError)


def test_alg_none_with_a_valid_rsa_signature(issuer, verifier):
    token = sign_raw(issuer, header_of(issuer, alg="none"), issuer.claims())
    rejected(verifier, token, InvalidHeaderError)


@pytest.mark.parametrize(
    "alg",
    ["none", "None", "NONE", "HS256", "RS384", "RS512", "PS256", "ES256", "rs256", "RS256 ", ""],
)
def test_other_algs_are_refused(issuer, verifier, alg):
    token = sign_raw(issuer, header_of(issuer, alg=alg), issuer.claims())
    rejected(verifier, token, InvalidHeaderError)


@pytest.mark.parametrize("alg", [None, 256, ["RS256"], {"alg": "RS256"}, True])
def test_non_string_alg_is_refused(issuer, verifier, alg):
    token = sign_raw(issuer, header_of(issuer, alg=alg), issuer.claims())
    rejected(verifier, token, InvalidHeaderError)


def test_missing_alg_is_refused(issuer, verifier):
    token = sign_raw(issuer, {"kid": issuer.kid}, issuer.claims())
    rejected(verifier, token, InvalidHeaderError)


def _public_key_as_secret(issuer: LocalIssuer, form: str) -> bytes:
    public = issuer.keys[issuer.kid].public_key()
    if form == "pem-spki":
        return public.public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    if form == "pem-pkcs1":
        return public.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.PKCS1)
    if form == "jwk-json":
        (jwk,) = [k for k in issuer.jwks()["keys"] if k["kid"] == issuer.kid]
        return json.dumps(jwk).encode()
    raise AssertionError(form)


@pytest.mark.parametrize("form", ["pem-spki", "pem-pkcs1", "jwk-json"])
def test_hs256_signed_with_the_public_key_as_secret(issuer, verifier, form):
    secret = _public_key_as_secret(issuer, form)
    signing_input = f"{b64url(header_of(issuer, alg='HS256'))}.{b64url(issuer.claims())}"
    mac = hmac.new(secret, signing_input.encode(), hashlib.sha256).digest()
    rejected(verifier, f"{signing_input}.{b64url(mac)}", InvalidHeaderError)


@pytest.mark.parametrize("form", ["pem-spki", "jwk-json"])
def test_hmac_signature_under_an_rs256_header_is_a_bad_signature(issuer, verifier, form):
    secret = _public_key_as_secret(issuer, form)
    signing_input = f"{b64url(header_of(issuer))}.{b64url(issuer.claims())}"
    mac = hmac.new(secret, signing_input.encode(), hashlib.sha256).digest()
    rejected(verifier, f"{signing_input}.{b64url(mac)}", InvalidSignatureError)


# --------------------------------------------------------------------------- signature


def test_rs256_signed_by_another_key_under_the_right_kid(issuer, verifier, attacker_key):
    token = issuer.sign(issuer.claims(), key=attacker_key)
    rejected(verifier, token, InvalidSignatureError)


def test_tampered_payload_is_a_bad_signature(issuer, verifier):
    header, _, signature = issuer.token().split(".")
    forged = issuer.claims(groups=["admins"])
    rejected(verifier, f"{header}.{b64url(forged)}.{signature}", InvalidSignatureError)


def test_signature_of_another_token_is_a_bad_signature(issuer, verifier):
    first = issuer.token(username="alice").split(".")
    second = issuer.token(username="mallory").split(".")
    rejected(verifier, f"{first[0]}.{first[1]}.{second[2]}", InvalidSignatureError)


def test_truncated_signature_is_refused(issuer, verifier):
    header, payload, signature = issuer.token().split(".")
    truncated = b64url(lenient_decode(signature)[:-3])  # canonical, 253 bytes instead of 256
    rejected(verifier, f"{header}.{payload}.{truncated}", InvalidSignatureError)


def _signature_value(issuer: LocalIssuer, wanted: Any) -> tuple[str, int]:
    """A valid token whose signature, as a number, satisfies ``wanted``, and that number."""
    for attempt in range(4000):
        token = issuer.token(username=f"user{attempt}")
        value = int.from_bytes(lenient_decode(token.rpartition(".")[2]), "big")
        if wanted(value):
            return token, value
    raise AssertionError("no such signature among 4,000 tokens")


def test_valid_signature_without_its_leading_zero_byte_is_refused(issuer, verifier):
    # RFC 8017 (8.2.2, step 1): a signature is exactly as long as the modulus. The same
    # number written in 255 bytes is another text for one signature, so it is refused.
    token, value = _signature_value(issuer, lambda s: s < 1 << 2040)
    signing_input = token.rpartition(".")[0]
    verify(verifier, token)
    short = b64url(value.to_bytes(255, "big"))
    rejected(verifier, f"{signing_input}.{short}", InvalidSignatureError)


def test_valid_signature_with_a_leading_zero_byte_added_is_refused(issuer, verifier):
    header, payload, signature = issuer.token().split(".")
    longer = b64url(b"\x00" + lenient_decode(signature))
    rejected(verifier, f"{header}.{payload}.{longer}", InvalidSignatureError)


def test_valid_signature_plus_the_modulus_is_refused():
    # s + n is the same residue as s: RSA gives back the same padded digest unless the
    # signature is checked to be below the modulus.
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    while key.public_key().public_numbers().n > (1 << 2048) * 4 // 5:
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    local = LocalIssuer()
    local.keys[local.kid] = key
    modulus = key.public_key().public_numbers().n
    token, value = _signature_value(local, lambda s: s + modulus < 1 << 2048)
    signing_input = token.rpartition(".")[0]
    own = make_verifier(local)
    verify(own, token)
    wrapped = b64url((value + modulus).to_bytes(256, "big"))
    rejected(own, f"{signing_input}.{wrapped}", InvalidSignatureError)


# --------------------------------------------------------------------------- kid


def test_kid_missing(issuer, verifier):
    rejected(verifier, sign_raw(issuer, {"alg": "RS256"}, issuer.claims()), InvalidHeaderError)


@pytest.mark.parametrize(
    "make_kid",
    [
        lambda kid: 1,
        lambda kid: 0,
        lambda kid: None,
        lambda kid: True,
        lambda kid: [kid],
        lambda kid: {"kid": kid},
        lambda kid: "",
    ],
    ids=["int", "zero", "null", "bool", "list", "object", "empty"],
)
def test_kid_not_a_non_empty_string(issuer, verifier, make_kid):
    token = sign_raw(issuer, {"alg": "RS256", "kid": make_kid(issuer.kid)}, issuer.claims())
    rejected(verifier, token, InvalidHeaderError)


def test_unknown_kid_after_a_fetch(issuer):
    cache = JWKSCache()
    verifier = make_verifier(issuer, jwks_cache=cache)
    token = sign_raw(issuer, {"alg": "RS256", "kid": "not-a-published-kid"}, issuer.claims())
    with respx.mock(assert_all_called=True) as router:
        route = router.get(JWKS_URL).respond(json=issuer.jwks())
        rejected(verifier, token, UnknownKeyError)
        assert route.call_count == 1
    assert cache.fetch_count(JWKS_URL) == 1
    # The fetch did bring the pool's keys: a good token passes without another fetch.
    assert verify(verifier, issuer.token()).sub
    assert cache.fetch_count(JWKS_URL) == 1


# --------------------------------------------------------------------------- key-bearing headers


@pytest.mark.parametrize("kid_is_attackers", [True, False])
def test_jwk_header_with_the_attackers_key_that_signed_the_token(
    issuer, verifier, attacker_key, kid_is_attackers
):
    kid = "attacker" if kid_is_attackers else issuer.kid
    jwk = RSAKey.import_key(attacker_key.public_key()).as_dict(private=False)
    header = {"alg": "RS256", "kid": kid, "jwk": {**jwk, "kid": kid}}
    token = sign_raw(issuer, header, issuer.claims(), key=attacker_key)
    rejected(verifier, token, InvalidHeaderError)


@pytest.mark.parametrize("field", ["jku", "x5u"])
def test_url_key_headers_are_refused_and_never_fetched(issuer, verifier, field):
    evil = "https://attacker.example/keys.json"
    token = sign_raw(issuer, header_of(issuer, **{field: evil}), issuer.claims())
    with respx.mock(assert_all_called=False) as router:
        route = router.get(evil).respond(json={"keys": []})
        rejected(verifier, token, InvalidHeaderError)
        assert not route.called


def test_x5c_header_is_refused(issuer, verifier, attacker_key):
    der = attacker_key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    header = header_of(issuer, x5c=[base64.b64encode(der).decode()])
    rejected(verifier, sign_raw(issuer, header, issuer.claims()), InvalidHeaderError)


@pytest.mark.parametrize("field", ["jwk", "jku", "x5u", "x5c", "crit"])
def test_key_bearing_header_refused_even_when_null(issuer, verifier, field):
    # Validly signed by the pool's own key: the field's presence alone is refused.
    token = sign_raw(issuer, header_of(issuer, **{field: None}), issuer.claims())
    rejected(verifier, token, InvalidHeaderError)


# --------------------------------------------------------------------------- structure


@pytest.mark.parametrize("count", [1, 2, 4, 5])
def test_wrong_number_of_segments(issuer, verifier, count):
    header, payload, signature = issuer.token().split(".")
    segments = [header, payload, signature, signature, signature][:count]
    rejected(verifier, ".".join(segments), MalformedTokenError)


@pytest.mark.parametrize("token", ["", ".", "..", "...", "a.b", "a.b.c.d"])
def test_degenerate_tokens(verifier, token):
    rejected(verifier, token, MalformedTokenError)


def test_trailing_dot_makes_four_segments(issuer, verifier):
    rejected(verifier, issuer.token() + ".", MalformedTokenError)


def test_empty_payload_segment(issuer, verifier):
    token = sign_segments(b64url(header_of(issuer)), "", issuer.keys[issuer.kid])
    rejected(verifier, token, MalformedTokenError)


def test_empty_signature_segment(issuer, verifier):
    header, payload, _ = issuer.token().split(".")
    rejected(verifier, f"{header}.{payload}.", MalformedTokenError)


# --------------------------------------------------------------------------- base64url

_MUTATIONS = {
    "illegal-char": lambda s: s[:5] + "!" + s[6:],
    "standard-plus": lambda s: s[:5] + "+" + s[6:],
    "standard-slash": lambda s: s[:5] + "/" + s[6:],
    "padding": lambda s: s + "=" * (-len(s) % 4),
    "inner-padding": lambda s: s[:4] + "==" + s[6:],
    "space": lambda s: s[:5] + " " + s[5:],
    "leading-space": lambda s: " " + s,
    "trailing-newline": lambda s: s + "\n",
    "tab": lambda s: s[:5] + "\t" + s[5:],
    "length-1-mod-4": lambda s: s + "A" * ((1 - len(s)) % 4),
    "percent-encoded": lambda s: s[:5] + "%3D" + s[5:],
}


@pytest.mark.parametrize("mutation", sorted(_MUTATIONS))
@pytest.mark.parametrize("segment", ["header", "payload", "signature"])
def test_bad_base64url(issuer, verifier, segment, mutation):
    mutate = _MUTATIONS[mutation]
    # Segments whose length is 2 mod 4, so that padding is meaningful for all three.
    header = b64url(with_rest(json_bytes(header_of(issuer)), 2))
    payload = b64url(with_rest(json_bytes(issuer.claims()), 2))
    key = issuer.keys[issuer.kid]
    if segment == "header":
        token = sign_segments(mutate(header), payload, key)
    elif segment == "payload":
        # Signed over the mutated text: only the encoding is wrong.
        token = sign_segments(header, mutate(payload), key)
    else:
        good = sign_segments(header, payload, key)
        assert verify(verifier, good).sub  # control: the unmutated token passes
        head, body, signature = good.split(".")
        assert len(signature) % 4 == 2
        token = f"{head}.{body}.{mutate(signature)}"
    rejected(verifier, token, MalformedTokenError)


def test_non_canonical_signature_bits_are_refused(issuer, verifier):
    token = issuer.token()
    assert verify(verifier, token).sub
    header, payload, signature = token.split(".")
    changed = flip_trailing_bits(signature)
    # The same signature bytes under a different text: it must not verify.
    assert changed != signature
    assert lenient_decode(changed) == lenient_decode(signature)
    rejected(verifier, f"{header}.{payload}.{changed}", MalformedTokenError)


@pytest.mark.parametrize("rest", [2, 3])
def test_non_canonical_header_bits_are_refused(issuer, verifier, rest):
    header = b64url(with_rest(json_bytes(header_of(issuer)), rest))
    changed = flip_trailing_bits(header)
    assert lenient_decode(changed) == lenient_decode(header)
    token = sign_segments(changed, b64url(issuer.claims()), issuer.keys[issuer.kid])
    rejected(verifier, token, MalformedTokenError)


@pytest.mark.parametrize("rest", [2, 3])
def test_non_canonical_payload_bits_are_refused(issuer, verifier, rest):
    payload = b64url(with_rest(json_bytes(issuer.claims()), rest))
    changed = flip_trailing_bits(payload)
    assert lenient_decode(changed) == lenient_decode(payload)
    # Signed over the non-canonical text, so the signature holds: only the encoding is wrong.
    token = sign_segments(b64url(header_of(issuer)), changed, issuer.keys[issuer.kid])
    rejected(verifier, token, MalformedTokenError)


# --------------------------------------------------------------------------- JSON

_NOT_JSON = {
    "text": b"not json",
    "single-quotes": b"{'alg': 'RS256'}",
    "trailing-comma": b'{"alg":"RS256",}',
    "truncated": b'{"alg":"RS256"',
    "invalid-utf8": b'{"alg":"\xff\xfe"}',
    "empty-bytes": b"",
    "deeply-nested": b'{"a":' * 5000 + b"1" + b"}" * 5000,
}

_NOT_OBJECTS = {
    "list": [],
    "list-of-object": [{"alg": "RS256"}],
    "string": "RS256",
    "number": 1,
    "null": None,
    "true": True,
}


@pytest.mark.parametrize("kind", sorted(_NOT_JSON))
def test_header_not_json(issuer, verifier, kind):
    rejected(verifier, sign_raw(issuer, _NOT_JSON[kind], issuer.claims()), MalformedTokenError)


@pytest.mark.parametrize("kind", sorted(_NOT_JSON))
def test_payload_not_json(issuer, verifier, kind):
    token = sign_raw(issuer, header_of(issuer), _NOT_JSON[kind])
    rejected(verifier, token, MalformedTokenError)


@pytest.mark.parametrize("kind", sorted(_NOT_OBJECTS))
def test_header_not_an_object(issuer, verifier, kind):
    rejected(verifier, sign_raw(issuer, _NOT_OBJECTS[kind], issuer.claims()), MalformedTokenError)


@pytest.mark.parametrize("kind", sorted(_NOT_OBJECTS))
def test_payload_not_an_object(issuer, verifier, kind):
    token = sign_raw(issuer, header_of(issuer), _NOT_OBJECTS[kind])
    rejected(verifier, token, MalformedTokenError)


@pytest.mark.parametrize("constant", ["NaN", "Infinity", "-Infinity"])
def test_nan_and_infinity_in_the_header(issuer, verifier, constant):
    header = f'{{"alg":"RS256","kid":"{issuer.kid}","x":{constant}}}'.encode()
    rejected(verifier, sign_raw(issuer, header, issuer.claims()), MalformedTokenError)


@pytest.mark.parametrize("constant", ["NaN", "Infinity", "-Infinity"])
def test_nan_and_infinity_in_the_payload(issuer, verifier, constant):
    claims = issuer.claims()
    del claims["exp"]
    payload = json_bytes(claims)[:-1] + f',"exp":{constant}}}'.encode()
    rejected(verifier, sign_raw(issuer, header_of(issuer), payload), MalformedTokenError)


def test_exp_overflowing_to_infinity_is_refused(issuer, verifier):
    # 1e400 matches the JSON grammar but is no finite number: refused either by the JSON
    # parser (out of range) or by the claim check (not a finite number), never accepted.
    claims = issuer.claims()
    del claims["exp"]
    payload = json_bytes(claims)[:-1] + b',"exp":1e400}'
    with pytest.raises((MalformedTokenError, InvalidClaimTypeError)) as info:
        verify(verifier, sign_raw(issuer, header_of(issuer), payload))
    if isinstance(info.value, InvalidClaimTypeError):
        assert info.value.claim == "exp"


# --------------------------------------------------------------------------- exp, nbf, iat


def test_exp_missing(issuer, verifier):
    claims = issuer.claims()
    del claims["exp"]
    rejected(verifier, issuer.sign(claims), MissingClaimError, "exp")


@pytest.mark.parametrize(
    "exp",
    ["2100000000", "tomorrow", True, False, None, [2100000000], {"t": 2100000000}],
    ids=repr,
)
def test_exp_not_a_number(issuer, verifier, exp):
    rejected(verifier, issuer.sign(issuer.claims(extra={"exp": exp})), InvalidClaimTypeError, "exp")


def test_exp_as_a_float_is_accepted(issuer, verifier, monkeypatch):
    pin_time(monkeypatch, T0)
    claims = verify(verifier, issuer.sign(timed_claims(issuer, exp=T0 + 0.5)))
    assert claims["exp"] == T0 + 0.5


def test_expired(issuer, verifier):
    token = issuer.token(issued_at=issuer.claims()["iat"] - 7200, expires_in=3600)
    rejected(verifier, token, ExpiredTokenError, "exp")


@pytest.mark.parametrize(
    ("leeway", "now", "accepted"),
    [
        (0, T0 - 0.001, True),
        (0, T0, False),  # valid while now < exp + leeway
        (0, T0 + 1, False),
        (5, T0 + 4.999, True),
        (5, T0 + 5, False),
    ],
)
def test_exp_at_the_leeway_boundary(issuer, monkeypatch, leeway, now, accepted):
    verifier = make_verifier(issuer, leeway=leeway)
    token = issuer.sign(timed_claims(issuer, iat=T0 - 100, auth_time=T0 - 100, exp=T0))
    pin_time(monkeypatch, now)
    if accepted:
        assert verify(verifier, token)["exp"] == T0
    else:
        rejected(verifier, token, ExpiredTokenError, "exp")


@pytest.mark.parametrize("claim", ["nbf", "iat"])
@pytest.mark.parametrize(
    ("offset", "accepted"),
    [(0, True), (4, True), (5, True), (5.001, False), (60, False), (86400, False)],
)
def test_nbf_and_iat_in_the_future(issuer, monkeypatch, claim, offset, accepted):
    verifier = make_verifier(issuer, leeway=5)
    token = issuer.sign(timed_claims(issuer, **{claim: T0 + offset}))
    pin_time(monkeypatch, T0)
    if accepted:
        assert verify(verifier, token)[claim] == T0 + offset
    else:
        rejected(verifier, token, NotYetValidError, claim)


@pytest.mark.parametrize("claim", ["nbf", "iat", "auth_time"])
@pytest.mark.parametrize("value", ["1700000000", True, None, [1]], ids=repr)
def test_time_claims_must_be_numbers(issuer, verifier, claim, value):
    token = issuer.sign(issuer.claims(extra={claim: value}))
    rejected(verifier, token, InvalidClaimTypeError, claim)


@pytest.mark.parametrize(
    "extra",
    [{"exp": 10**400}, {"nbf": 10**400}, {"iat": 10**400}, {"exp": -(10**400)}],
    ids=["exp-huge", "nbf-huge", "iat-huge", "exp-huge-negative"],
)
def test_huge_integer_time_claims_end_in_a_token_error(issuer, verifier, extra):
    # Integers beyond float range are valid JSON. Whatever the verdict, it must be a
    # TokenError (the contract says every rejection is one), never OverflowError.
    with pytest.raises(TokenError):
        verify(verifier, issuer.sign(issuer.claims(extra=extra)))


@pytest.mark.parametrize("exp", [10**12, 1e300], ids=["year-33658", "1e300"])
def test_far_future_exp_never_breaks_the_accessors(issuer, verifier, exp):
    # Claims promises its accessors never raise on a verified token: a verifier must
    # either refuse this exp or give Claims whose expires_at works.
    token = issuer.sign(issuer.claims(extra={"exp": exp}))
    try:
        claims = verify(verifier, token)
    except TokenError:
        return
    assert claims.expires_at.tzinfo is not None


# --------------------------------------------------------------------------- iss, aud, client_id


@pytest.mark.parametrize(
    "iss",
    [
        "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_OTHERPOOL",
        "https://cognito-idp.eu-west-1.amazonaws.com/us-east-1_TESTPOOL1",
        "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_TESTPOOL1/",
        "http://cognito-idp.us-east-1.amazonaws.com/us-east-1_TESTPOOL1",
        "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_testpool1",
        "",
    ],
)
def test_wrong_iss(issuer, verifier, iss):
    rejected(verifier, issuer.sign(issuer.claims(extra={"iss": iss})), InvalidIssuerError, "iss")


def test_missing_iss(issuer, verifier):
    claims = issuer.claims()
    del claims["iss"]
    rejected(verifier, issuer.sign(claims), MissingClaimError, "iss")


def test_wrong_aud(issuer, verifier):
    token = issuer.token(client_id="another-client")
    rejected(verifier, token, InvalidAudienceError, "aud")


def test_aud_as_a_list_is_refused(issuer, verifier):
    token = issuer.sign(issuer.claims(extra={"aud": [issuer.client_id]}))
    rejected(verifier, token, InvalidClaimTypeError, "aud")


def test_missing_aud(issuer, verifier):
    claims = issuer.claims()
    del claims["aud"]
    rejected(verifier, issuer.sign(claims), MissingClaimError, "aud")


def test_wrong_client_id_on_an_access_token(issuer, verifier):
    token = issuer.token(token_use="access", client_id="another-client")
    rejected(verifier, token, InvalidAudienceError, "client_id")


def test_access_token_judged_by_client_id_not_aud(issuer, verifier):
    # The right client in aud does not rescue an access token for another client.
    claims = issuer.claims(token_use="access", client_id="another-client")
    claims["aud"] = issuer.client_id
    rejected(verifier, issuer.sign(claims), InvalidAudienceError, "client_id")


def test_access_token_without_client_id(issuer, verifier):
    claims = issuer.claims(token_use="access")
    del claims["client_id"]
    rejected(verifier, issuer.sign(claims), MissingClaimError, "client_id")


# --------------------------------------------------------------------------- token_use


def test_access_token_where_id_token_required(issuer):
    verifier = make_verifier(issuer, token_use="id")
    rejected(verifier, issuer.token(token_use="access"), InvalidTokenUseError, "token_use")


def test_id_token_where_access_token_required(issuer):
    verifier = make_verifier(issuer, token_use="access")
    rejected(verifier, issuer.token(token_use="id"), InvalidTokenUseError, "token_use")


@pytest.mark.parametrize("token_use", [None, "id", "access"])
def test_token_use_missing(issuer, token_use):
    verifier = make_verifier(issuer, token_use=token_use)
    claims = issuer.claims()
    del claims["token_use"]
    rejected(verifier, issuer.sign(claims), MissingClaimError, "token_use")


@pytest.mark.parametrize("value", ["refresh", "ID", "Access", "", "id ", 1, ["id"]], ids=repr)
def test_token_use_other_value(issuer, verifier, value):
    token = issuer.sign(issuer.claims(extra={"token_use": value}))
    rejected(verifier, token, InvalidTokenUseError, "token_use")


# --------------------------------------------------------------------------- claim types


@pytest.mark.parametrize(
    "groups",
    ["admins", [1], ["admins", None], [["admins"]], {"admins": True}, 1, None],
    ids=repr,
)
def test_groups_not_a_list_of_strings(issuer, verifier, groups):
    token = issuer.sign(issuer.claims(extra={"cognito:groups": groups}))
    rejected(verifier, token, InvalidClaimTypeError, "cognito:groups")


def test_sub_missing(issuer, verifier):
    claims = issuer.claims()
    del claims["sub"]
    rejected(verifier, issuer.sign(claims), MissingClaimError, "sub")


@pytest.mark.parametrize("sub", [1, None, ["x"]], ids=repr)
def test_sub_not_a_string(issuer, verifier, sub):
    rejected(verifier, issuer.sign(issuer.claims(extra={"sub": sub})), InvalidClaimTypeError, "sub")


@pytest.mark.parametrize("claim", ["email", "cognito:username", "username", "scope"])
def test_optional_strings_must_be_strings(issuer, verifier, claim):
    token = issuer.sign(issuer.claims(extra={claim: ["x"]}))
    rejected(verifier, token, InvalidClaimTypeError, claim)


# --------------------------------------------------------------------------- size and encoding


def test_over_the_size_cap_before_any_parsing(issuer, verifier, monkeypatch):
    # Unknown header (not in the parse cache) and a parser that must not be reached.
    def parsed(*_args: Any) -> str:
        raise AssertionError("the header was parsed")

    monkeypatch.setattr(_token, "_header_kid", parsed)
    header = b64url(header_of(issuer, kid=uuid.uuid4().hex))
    token = f"{header}.{'A' * _token.MAX_TOKEN_SIZE}.AAAA"
    error = rejected(verifier, token, MalformedTokenError)
    assert "at most" in str(error)


@pytest.mark.parametrize(
    "garbage",
    [
        "é" * (_token.MAX_TOKEN_SIZE + 1),  # would fail as non-ASCII
        "!" * (_token.MAX_TOKEN_SIZE + 1),  # would fail as one segment
        ("a." * (_token.MAX_TOKEN_SIZE // 2 + 1)),  # would fail as too many segments
        b"\xff" * (_token.MAX_TOKEN_SIZE + 1),
    ],
    ids=["non-ascii", "one-segment", "many-segments", "bytes"],
)
def test_huge_garbage_fails_on_size(verifier, garbage):
    error = rejected(verifier, garbage, MalformedTokenError)
    assert "at most" in str(error)
    assert "ASCII" not in str(error)
    assert "segments" not in str(error)


def test_a_valid_token_over_the_cap_is_refused(issuer):
    token = issuer.token(extra={"padding": "x" * _token.MAX_TOKEN_SIZE})
    assert len(token) > _token.MAX_TOKEN_SIZE
    rejected(make_verifier(issuer), token, MalformedTokenError)
    # The cap, and nothing else, refused it.
    assert verify(make_verifier(issuer, max_token_size=len(token)), token).sub
    rejected(make_verifier(issuer, max_token_size=len(token) - 1), token, MalformedTokenError)


def _role_arn(index: int, path_length: int = 1) -> str:
    # The longest an IAM role ARN gets: a partition, an account, a path of up to 512
    # characters (starting and ending with "/"), a name of up to 64.
    path = "/" + "p" * (path_length - 2) + "/" if path_length > 1 else "/"
    return f"arn:aws-iso-b:iam::123456789012:role{path}{f'role-{index:03}-'.ljust(64, 'r')}"


def _group(index: int) -> str:
    return f"group-{index:03}-".ljust(128, "g")  # Cognito's longest group name


def test_a_user_in_a_hundred_long_groups_with_roles_verifies_by_default(issuer):
    # A real ID token's shape: 100 groups (Cognito's most per user) with 128-character
    # names, each group linked to a role, and the preferred one.
    roles = [_role_arn(i, path_length=40) for i in range(100)]
    token = issuer.token(
        groups=[_group(i) for i in range(100)],
        extra={"cognito:roles": roles, "cognito:preferred_role": roles[0]},
    )
    assert len(token) > 16 * 1024  # the old default refused it
    claims = verify(make_verifier(issuer), token)
    assert len(claims.groups) == 100
    assert claims["cognito:roles"] == roles


def test_the_largest_token_cognitos_limits_allow_verifies_by_default(issuer):
    # Every limit the default cap is derived from, at its maximum at once: 100 groups
    # of 128 characters, a role of the longest ARN for each, 50 custom attributes and the
    # standard ones at 2048 characters each.
    roles = [_role_arn(i, path_length=512) for i in range(100)]
    attributes = {f"custom:{f'attr{i:02}'.ljust(20, 'a')}": "c" * 2048 for i in range(50)}
    standard = [
        "address",
        "birthdate",
        "family_name",
        "gender",
        "given_name",
        "locale",
        "middle_name",
        "name",
        "nickname",
        "phone_number",
        "picture",
        "preferred_username",
        "profile",
        "zoneinfo",
        "website",
    ]
    attributes.update({name: "s" * 2048 for name in standard})
    attributes.update({"identities": "i" * 2048, "updated_at": 1_700_000_000})
    token = issuer.token(
        groups=[_group(i) for i in range(100)],
        extra={"cognito:roles": roles, "cognito:preferred_role": roles[0], **attributes},
    )
    assert len(token) <= _token.MAX_TOKEN_SIZE
    # The margin above it is what the cap's comment says: about a quarter.
    assert 1.15 < _token.MAX_TOKEN_SIZE / len(token) < 1.35
    assert len(verify(make_verifier(issuer), token).groups) == 100


def test_a_header_over_its_cap_is_refused_unread(issuer, verifier, monkeypatch):
    # Parsing it is the costly part: JSON nested deep, or of many small values.
    for body in ("[" * 1023 + "]" * 1023, "[" + ",".join(["[[[[[1]]]]]"] * 20_000) + "]"):
        header = b64url(body.encode())
        assert len(header) > _token.MAX_HEADER_SIZE
        with monkeypatch.context() as patched:
            patched.setattr(_token, "decode_object", _never_called)
            error = rejected(verifier, f"{header}.e30.AAAA", MalformedTokenError)
        assert f"at most {_token.MAX_HEADER_SIZE}" in str(error)
    # Up to the cap, a header is read and may verify.
    padding = "p" * (_token.MAX_HEADER_SIZE * 3 // 4 - 80)
    long_header = {"alg": "RS256", "kid": issuer.kid, "x-pad": padding}
    token = issuer.sign(issuer.claims(), header=long_header)
    assert len(token.split(".")[0]) <= _token.MAX_HEADER_SIZE
    assert verify(verifier, token).sub


def _never_called(*_args: Any) -> Any:
    raise AssertionError("the header was parsed")


def test_long_headers_are_not_kept_in_the_header_cache(issuer, verifier):
    _token._HEADER_CACHE.clear()
    long_header = {"alg": "RS256", "kid": issuer.kid, "x-pad": "p" * 600}
    token = issuer.sign(issuer.claims(), header=long_header)
    assert verify(verifier, token).sub
    verify(make_verifier(issuer, cache_size=0), token)
    assert _token._HEADER_CACHE == {}
    assert verify(verifier, issuer.token()).sub
    assert len(_token._HEADER_CACHE) == 1


@pytest.mark.parametrize("char", ["é", "\u0410", "\uff21", "\u200b", "🔑"])
def test_non_ascii_characters(issuer, verifier, char):
    header, payload, signature = issuer.token().split(".")
    rejected(verifier, f"{header}.{payload}{char}.{signature}", MalformedTokenError)
    rejected(verifier, f"{header}.{payload}.{signature[:-2]}{char}", MalformedTokenError)


@pytest.mark.parametrize("segment", [0, 1, 2], ids=["header", "payload", "signature"])
def test_non_ascii_bytes_are_refused_like_non_ascii_str(issuer, verifier, segment):
    segments = issuer.token().split(".")
    segments[segment] = segments[segment][:8] + "é" + segments[segment][8:]
    as_str = ".".join(segments)
    rejected(verifier, as_str, MalformedTokenError)
    rejected(verifier, as_str.encode("utf-8"), MalformedTokenError)


def test_bytes_token_works_like_str(issuer, verifier):
    token = issuer.token(groups=["admins"])
    from_str = verify(verifier, token)
    from_bytes = verify(make_verifier(issuer), token.encode())
    assert from_bytes == from_str
    assert from_bytes.groups == ["admins"]
    # And is refused like one.
    expired = issuer.token(issued_at=from_str["iat"] - 7200, expires_in=60)
    rejected(verifier, expired.encode(), ExpiredTokenError, "exp")
    rejected(verifier, issuer.token()[:-10].encode() + b"!!!!!!!!!!", MalformedTokenError)


@pytest.mark.parametrize(
    "token",
    [None, 123, 1.5, ["a", "b", "c"], bytearray(b"a.b.c"), memoryview(b"a.b.c")],
    ids=["None", "int", "float", "list", "bytearray", "memoryview"],
)
def test_not_a_str_or_bytes(verifier, token):
    # Every rejection is a TokenError, even for a caller passing the wrong type.
    rejected(verifier, token, MalformedTokenError)


# --------------------------------------------------------------------------- accepted tokens


@pytest.mark.parametrize("token_use", ["id", "access"])
@pytest.mark.parametrize("form", ["str", "list", "set", "tuple"])
def test_valid_tokens_with_client_ids(issuer, token_use, form):
    clients = {
        "str": issuer.client_id,
        "list": ["other-client", issuer.client_id],
        "set": {issuer.client_id, "other-client"},
        "tuple": (issuer.client_id,),
    }[form]
    verifier = make_verifier(issuer, client_ids=clients)
    claims = verify(verifier, issuer.token(token_use=token_use))
    assert claims.token_use == token_use
    assert claims.client_id == issuer.client_id


def test_client_ids_none_accepts_any_client_and_warns_once(issuer, caplog):
    caplog.set_level(logging.WARNING, logger="cognises")
    verifier = make_verifier(issuer, client_ids=None)

    def warnings() -> list[logging.LogRecord]:
        return [
            r
            for r in caplog.records
            if r.levelno == logging.WARNING and "every app client" in r.getMessage()
        ]

    assert len(warnings()) == 1
    assert issuer.user_pool_id in warnings()[0].getMessage()
    for client in ("client-a", "client-b"):
        assert verify(verifier, issuer.token(client_id=client)).client_id == client
        assert verify(verifier, issuer.token(token_use="access", client_id=client)).client_id == (
            client
        )
    assert len(warnings()) == 1


def test_client_ids_set_logs_no_warning(issuer, caplog):
    caplog.set_level(logging.WARNING, logger="cognises")
    make_verifier(issuer, client_ids=issuer.client_id)
    assert not [r for r in caplog.records if "every app client" in r.getMessage()]


def test_token_use_none_accepts_both(issuer):
    verifier = make_verifier(issuer, token_use=None)
    assert verify(verifier, issuer.token(token_use="id")).token_use == "id"
    assert verify(verifier, issuer.token(token_use="access")).token_use == "access"


def test_claims_accessors_of_an_id_token(issuer, verifier):
    token = issuer.token(groups=["admins", "editors"], username="bob", email="bob@example.com")
    claims = verify(verifier, token)
    assert isinstance(claims, Claims)
    assert claims.sub == str(uuid.uuid5(uuid.NAMESPACE_URL, "bob"))
    assert claims.username == "bob"
    assert claims.email == "bob@example.com"
    assert claims.groups == ["admins", "editors"]
    assert claims.scopes == []
    assert claims.token_use == "id"
    assert claims.client_id == issuer.client_id
    assert claims.expires_at.tzinfo is not None
    assert claims.expires_at.utcoffset().total_seconds() == 0
    assert claims.expires_at == datetime.fromtimestamp(claims["exp"], tz=timezone.utc)
    assert claims["cognito:username"] == "bob"


def test_claims_accessors_of_an_access_token(issuer, verifier):
    claims = verify(verifier, issuer.token(token_use="access", username="carol", groups=None))
    assert claims.username == "carol"  # from "username"
    assert claims.email is None
    assert claims.groups == []  # absent
    assert claims.scopes == ["aws.cognito.signin.user.admin"]
    assert claims.token_use == "access"
    assert claims.client_id == issuer.client_id
    assert "aud" not in claims


def test_claims_scopes_split_on_spaces(issuer, verifier):
    token = issuer.token(token_use="access", extra={"scope": "openid  profile email"})
    assert verify(verifier, token).scopes == ["openid", "profile", "email"]


def test_claims_repr_holds_no_personal_data(issuer, verifier):
    claims = verify(verifier, issuer.token(username="dave", email="dave@example.com"))
    assert "dave" not in repr(claims)
    assert claims.sub not in repr(claims)


def test_claims_are_read_only_and_returned_lists_are_copies(issuer, verifier):
    token = issuer.token(groups=["admins"], extra={"address": {"city": "Oslo"}})
    claims = verify(verifier, token)
    assert not isinstance(claims, MutableMapping)
    with pytest.raises(TypeError):
        claims["sub"] = "root"  # type: ignore[index]
    with pytest.raises(TypeError):
        del claims["sub"]  # type: ignore[attr-defined]
    with pytest.raises(AttributeError):
        claims.sub = "root"  # type: ignore[misc]
    with pytest.raises(AttributeError):
        claims.groups = ["root"]  # type: ignore[misc]

    claims.groups.append("root")
    claims["cognito:groups"].append("root")
    claims.get("cognito:groups").append("root")
    claims["address"]["city"] = "Bergen"
    claims.to_dict()["cognito:groups"].append("root")
    dict(claims)["cognito:groups"].append("root")
    for key, value in claims.items():
        if key == "cognito:groups":
            value.append("root")

    assert claims.groups == ["admins"]
    assert claims["address"] == {"city": "Oslo"}
    # The result cache hands out the same verified claims again: still untouched.
    again = verify(verifier, token)
    assert again.groups == ["admins"]
    assert again["cognito:groups"] == ["admins"]
    assert again["address"] == {"city": "Oslo"}
    require_groups(again, any_of=["admins"])
    with pytest.raises(PermissionDenied):
        require_groups(again, any_of=["root"])


# --------------------------------------------------------------------------- result cache


def _count_signature_checks(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    calls: list[int] = []
    real = verifier_module.check_signature

    def counting(*args: Any) -> None:
        calls.append(1)
        real(*args)

    monkeypatch.setattr(verifier_module, "check_signature", counting)
    return calls


def test_result_cache_returns_equal_claims_without_rechecking(issuer, verifier, monkeypatch):
    calls = _count_signature_checks(monkeypatch)
    token = issuer.token(groups=["admins"])
    first = verify(verifier, token)
    # Admitted on its second verification: a token seen once is not kept.
    second = verify(verifier, token)
    assert len(calls) == 2
    third = verify(verifier, token)
    assert first == second == third
    assert third.groups == ["admins"]
    assert len(calls) == 2
    assert verifier.verify_cached(token) == first
    assert len(calls) == 2


def test_result_cache_keeps_no_token_seen_only_once(issuer, verifier):
    for i in range(50):
        verify(verifier, issuer.token(username=f"once{i}"))
    assert len(verifier._results) == 0


def test_a_token_ending_like_a_cached_one_is_checked_in_full(issuer, verifier):
    # The cache finds entries by the token's last 43 characters; a hit needs the whole token.
    token = issuer.token(groups=["readers"])
    verify(verifier, token)
    verify(verifier, token)
    assert len(verifier._results) == 1
    header, _, signature = token.split(".")
    forged = f"{header}.{b64url(issuer.claims(groups=['admins']))}.{signature}"
    assert forged[-43:] == token[-43:]
    rejected(verifier, forged, InvalidSignatureError)
    assert verify(verifier, token).groups == ["readers"]


def test_result_cache_memory_of_tokens_seen_once_is_bounded(issuer):
    verifier = make_verifier(issuer, cache_size=2)
    for i in range(30):
        verify(verifier, issuer.token(username=f"passing{i}"))
    assert verifier._results is not None
    assert 0 < len(verifier._results.seen) <= 8
    assert len(verifier._results) == 0
    # Forgetting only delays an admission: a token seen twice in a row is still kept.
    token = issuer.token(username="returning")
    verify(verifier, token)
    verify(verifier, token)
    assert len(verifier._results) == 1


def test_cache_size_zero_checks_every_time(issuer, monkeypatch):
    verifier = make_verifier(issuer, cache_size=0)
    calls = _count_signature_checks(monkeypatch)
    token = issuer.token()
    assert verify(verifier, token) == verify(verifier, token)
    assert len(calls) == 2
    # And still refuses what it must.
    rejected(verifier, issuer.token(client_id="another-client"), InvalidAudienceError, "aud")


def test_cached_token_is_refused_once_expired(issuer, monkeypatch):
    verifier = make_verifier(issuer, leeway=0)
    clock = pin_time(monkeypatch, T0)
    token = issuer.sign(timed_claims(issuer, exp=T0 + 60))
    assert verify(verifier, token).sub
    clock.now = T0 + 59.999
    assert verify(verifier, token).sub
    clock.now = T0 + 60
    rejected(verifier, token, ExpiredTokenError, "exp")
    # verify_cached refuses it too.
    with pytest.raises(ExpiredTokenError):
        verifier.verify_cached(token)


def test_cached_token_is_refused_after_its_key_is_rotated_out():
    issuer = LocalIssuer()
    cache = JWKSCache()
    verifier = make_verifier(issuer, jwks_cache=cache)
    old_token = issuer.token()
    with respx.mock(assert_all_called=True) as router:
        router.get(JWKS_URL).mock(side_effect=lambda _request: _jwks_response(issuer))
        assert verify(verifier, old_token).sub
        assert verify(verifier, old_token).sub  # from the result cache
        issuer.rotate()
        asyncio.run(verifier.hydrate())  # the rotation's fetch
        assert cache.fetch_count(JWKS_URL) == 2
        rejected(verifier, old_token, UnknownKeyError)
        assert verify(verifier, issuer.token()).sub
    assert cache.fetch_count(JWKS_URL) == 2


def _jwks_response(issuer: LocalIssuer) -> httpx.Response:
    return httpx.Response(200, json=issuer.jwks())


def test_verify_cached_refuses_like_verify(issuer, verifier, attacker_key):
    with pytest.raises(InvalidSignatureError):
        verifier.verify_cached(issuer.sign(issuer.claims(), key=attacker_key))
    with pytest.raises(MalformedTokenError):
        verifier.verify_cached("a.b")
    claims = verifier.verify_cached(issuer.token(username="erin"))
    assert claims is not None
    assert claims.username == "erin"


# --------------------------------------------------------------------------- require_groups


@pytest.mark.parametrize(
    ("any_of", "allowed"),
    [
        (["admins"], True),
        ("editors", True),
        (["root", "editors"], True),
        ({"admins"}, True),
        (iter(["admins"]), True),
        (["root"], False),
        ("admin", False),  # not a prefix match
        ("admins,editors", False),
        ([], False),
    ],
    ids=repr,
)
def test_require_groups(issuer, verifier, any_of, allowed):
    claims = verify(verifier, issuer.token(groups=["admins", "editors"]))
    if allowed:
        assert require_groups(claims, any_of=any_of) is None
    else:
        with pytest.raises(PermissionDenied):
            require_groups(claims, any_of=any_of)


def test_require_groups_without_any_group(issuer, verifier):
    claims = verify(verifier, issuer.token(groups=None))
    assert claims.groups == []
    with pytest.raises(PermissionDenied):
        require_groups(claims, any_of=["admins"])


# --------------------------------------------------------------------------- configuration and logs


@pytest.mark.parametrize(
    "options",
    [
        {"leeway": -1},
        {"leeway": float("nan")},
        {"cache_size": -1},
        {"max_token_size": 0},
        {"token_use": "refresh"},
        {"client_ids": []},
        {"client_ids": [""]},
    ],
    ids=repr,
)
def test_unworkable_configuration_is_refused(issuer, options):
    with pytest.raises(ConfigurationError):
        make_verifier(issuer, **options)


def test_rejections_log_no_token_above_debug(issuer, verifier, attacker_key, caplog):
    caplog.set_level(logging.DEBUG)
    tokens = [
        issuer.sign(issuer.claims(), key=attacker_key),
        issuer.token(client_id="another-client"),
        sign_raw(issuer, header_of(issuer, alg="none"), issuer.claims()),
        sign_raw(issuer, {"alg": "RS256", "kid": "unknown"}, issuer.claims()),
    ]
    for token in tokens:
        with pytest.raises(TokenError):
            verify(verifier, token)
    for record in caplog.records:
        if record.levelno > logging.DEBUG:
            for token in tokens:
                for segment in token.split("."):
                    assert segment not in record.getMessage()
