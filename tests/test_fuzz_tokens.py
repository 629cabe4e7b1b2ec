"""Fuzzing the verifier: hostile variants of a valid token, and thousands of random inputs.

The property under test: whatever comes in, ``verify`` either returns the claims of a
token the pool really signed, or raises a ``TokenError`` subclass. Never another
exception, and never acceptance of anything but the original token.

Keys are loaded into the JWKS cache directly. The cache's clock is frozen, so an unknown
kid is refused at once instead of starting a fetch; each test checks that no fetch was
ever started. One verifier has no result cache (every input is checked in full), the
other has one, primed with the valid token, to show that a mutation never rides on the
cached result of the original.
"""

from __future__ import annotations

import base64
import json
import logging
import math
import time
from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from fuzz_support import (
    CLAIM_NAMES,
    HEADER_NESTING_PLACES,
    NEST_SHAPES,
    PARSER_DEPTH,
    all_bit_flips,
    json_values,
    lookalike_swaps,
    mutated_tokens,
    near_jwts,
    nested,
    nested_header,
    nested_tokens,
    nested_values,
    object_with,
    padded,
    recursion_headroom,
    resigned,
    segment_shuffles,
    sign_raw,
)
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cognises import _token
from cognises._checks import ClaimRules, check_claims
from cognises.aio import JWKSCache
from cognises.errors import (
    ClaimError,
    InvalidHeaderError,
    InvalidSignatureError,
    JWKSError,
    MalformedTokenError,
    TokenError,
    UnknownKeyError,
)
from cognises.sync import Claims, CognitoVerifier
from cognises.testing._issuer import LocalIssuer, b64url

# Nothing listens there; the frozen clock means nothing ever tries.
JWKS_URL = "http://127.0.0.1:9/fuzz/.well-known/jwks.json"
_FUZZ = settings(
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


def fuzz(examples: int) -> settings:
    return settings(_FUZZ, max_examples=examples)


@pytest.fixture(scope="module")
def issuer() -> LocalIssuer:
    return LocalIssuer(
        region="eu-central-1", user_pool_id="eu-central-1_Fuzz0001", client_id="fuzzclient"
    )


@pytest.fixture(scope="module")
def wrong_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture(scope="module")
def claims(issuer: LocalIssuer) -> dict[str, Any]:
    return issuer.claims(groups=["admins", "editors"], expires_in=24 * 3600)


@pytest.fixture(scope="module")
def token(issuer: LocalIssuer, claims: dict[str, Any]) -> str:
    return issuer.sign(claims)


def make_verifier(issuer: LocalIssuer, **options: Any) -> CognitoVerifier:
    cache = JWKSCache(clock=lambda: 0.0)  # frozen: an unknown kid never starts a fetch
    cache.load(JWKS_URL, issuer.jwks())
    return CognitoVerifier(
        issuer.region,
        issuer.user_pool_id,
        client_ids=issuer.client_id,
        token_use="id",
        jwks_url=JWKS_URL,
        jwks_cache=cache,
        **options,
    )


@pytest.fixture(scope="module")
def verifiers(issuer: LocalIssuer, token: str) -> Iterator[tuple[CognitoVerifier, ...]]:
    cold = make_verifier(issuer, cache_size=0)
    warm = make_verifier(issuer)
    assert warm.verify(token).groups == ["admins", "editors"]  # primes the result cache
    assert warm.verify(token.encode()).groups == ["admins", "editors"]
    yield cold, warm
    for verifier in (cold, warm):
        assert verifier.jwks_cache.fetch_count(JWKS_URL) == 0
        # Whatever the fuzz threw at it, the real token still gets in.
        assert verifier.verify(token).sub


def refusal(verifiers: tuple[CognitoVerifier, ...], candidate: Any) -> TokenError:
    """The ``TokenError`` every verifier raises for ``candidate`` (the last one's).

    Any other exception propagates and fails the test; acceptance fails it too.
    """
    error: TokenError | None = None
    for verifier in verifiers:
        try:
            accepted = verifier.verify(candidate)
        except TokenError as exc:
            error = exc
        else:
            raise AssertionError(f"accepted {candidate!r} as {accepted!r}")
    assert error is not None
    return error


def outcome(verifier: CognitoVerifier, candidate: Any) -> Claims | TokenError:
    """The claims, or the ``TokenError``; any other exception propagates."""
    try:
        return verifier.verify(candidate)
    except TokenError as exc:
        return exc


def leaks(error: TokenError, token: str) -> bool:
    """Whether the error's message holds a piece of the token's payload or signature."""
    text = str(error)
    _, payload, signature = token.split(".")
    return any(segment[i : i + 16] in text for segment in (payload, signature) for i in (0, 40))


# --------------------------------------------------------------------------- the control


def test_the_valid_token_is_accepted_in_every_form(verifiers, token, issuer):
    for verifier in verifiers:
        for form in (token, token.encode("ascii")):
            claims = verifier.verify(form)
            assert claims.client_id == issuer.client_id
            assert claims.groups == ["admins", "editors"]


# --------------------------------------------------------------------------- mutations


def test_every_single_bit_flip_is_refused(verifiers, token):
    # Exhaustive: every bit of every byte of every segment, the dots too, as bytes and as
    # text (a flip of bit 7 makes a non-ASCII character).
    kinds: Counter[str] = Counter()
    failures: list[str] = []
    flips = 0
    for flipped in all_bit_flips(token):
        for form in (flipped, flipped.decode("latin-1")):
            flips += 1
            try:
                error = refusal(verifiers, form)
            except Exception as exc:  # collected, so the report shows every failing input
                failures.append(f"{form!r}: {type(exc).__name__}: {exc}")
                continue
            kinds[type(error).__name__] += 1
            if leaks(error, token):
                failures.append(f"{form!r}: the message shows the token: {error}")
    assert failures == []
    assert flips == len(token) * 8 * 2
    # Flips reached every stage: structure, header, key lookup and signature.
    assert {"MalformedTokenError", "InvalidSignatureError"} <= set(kinds)
    assert kinds["InvalidHeaderError"] + kinds["UnknownKeyError"] > 0
    assert kinds["InvalidSignatureError"] >= 300 * 8  # at least the signature's own bits


@fuzz(250)
@given(data=st.data())
def test_any_mutation_is_refused(verifiers, token, issuer, claims, wrong_key, data):
    candidate = data.draw(mutated_tokens(token, issuer, claims, wrong_key), label="mutated")
    error = refusal(verifiers, candidate)
    assert not leaks(error, token)


@fuzz(150)
@given(data=st.data())
def test_swapped_repeated_or_dropped_segments_are_refused(verifiers, token, data):
    candidate = data.draw(segment_shuffles(token), label="shuffled")
    # The signature is checked before any claim is read, whatever sits in its place.
    assert not isinstance(refusal(verifiers, candidate), ClaimError)


@fuzz(200)
@given(data=st.data())
def test_padding_and_whitespace_anywhere_are_refused(verifiers, token, data):
    candidate = data.draw(padded(token), label="padded")
    refusal(verifiers, candidate)


@fuzz(200)
@given(data=st.data())
def test_unicode_look_alikes_are_refused_as_malformed(verifiers, token, data):
    candidate = data.draw(lookalike_swaps(token), label="look-alike")
    # Refused before anything is decoded: no normalisation turns them back into ASCII.
    assert type(refusal(verifiers, candidate)) is MalformedTokenError


@fuzz(60)
@given(data=st.data())
def test_edits_signed_again_with_a_wrong_key_are_refused(
    verifiers, issuer, claims, wrong_key, data
):
    candidate = data.draw(resigned(issuer, claims, wrong_key), label="re-signed")
    head = candidate.split(".")[0]
    header = json.loads(base64.urlsafe_b64decode(head + "=" * (-len(head) % 4)))
    error = refusal(verifiers, candidate)
    if (
        header.get("kid") == issuer.kid
        and set(header) == {"alg", "kid"}
        and header["alg"] == "RS256"
    ):
        # A clean header under the real kid: only the signature can give it away.
        assert type(error) is InvalidSignatureError
    assert not isinstance(error, ClaimError), "claims were read before the signature was checked"


# --------------------------------------------------------------------------- signed by the pool


FORBIDDEN_HEADERS = {"jwk", "jku", "x5u", "x5c", "crit"}


@fuzz(120)
@given(
    edits=st.dictionaries(
        st.sampled_from(["alg", "kid", "typ", "jwk", "jku", "x5u", "x5c", "crit", "x5t", "zip"])
        | st.text(max_size=6),
        json_values(max_leaves=4),
        max_size=3,
    ),
    drop=st.sets(st.sampled_from(["alg", "kid"])),
)
def test_a_header_signed_by_the_pool_key_is_accepted_only_if_exactly_rs256_and_its_kid(
    verifiers, issuer, claims, edits, drop
):
    header: dict[str, Any] = {"alg": "RS256", "kid": issuer.kid}
    for name in drop:
        del header[name]
    header.update(edits)
    candidate = issuer.sign(claims, header=header, key=issuer.keys[issuer.kid])
    acceptable = (
        header.get("alg") == "RS256"
        and header.get("kid") == issuer.kid
        and not FORBIDDEN_HEADERS & set(header)
    )
    for verifier in verifiers:
        result = outcome(verifier, candidate)
        if acceptable:
            assert isinstance(result, Claims), f"refused a clean header {header!r}: {result}"
        else:
            assert isinstance(result, (InvalidHeaderError, UnknownKeyError)), (header, result)


def _assert_usable(claims: Claims, issuer: LocalIssuer) -> None:
    """What a verified token promises: the checked claims, and accessors that work."""
    assert claims["iss"] == issuer.issuer
    assert claims.token_use == "id"
    assert claims.client_id == issuer.client_id
    assert type(claims.sub) is str
    assert isinstance(claims["exp"], (int, float))
    assert math.isfinite(claims["exp"])
    assert claims["exp"] + 5 > time.time()
    assert all(type(g) is str for g in claims.groups)
    assert claims.expires_at.year < 10000
    assert claims.username is None or type(claims.username) is str
    assert claims.email is None or type(claims.email) is str
    assert all(type(s) is str for s in claims.scopes)
    assert repr(claims).startswith("Claims(")
    json.dumps(claims.to_dict())


@fuzz(200)
@given(
    edits=st.dictionaries(
        st.sampled_from(CLAIM_NAMES) | st.text(max_size=6),
        json_values(max_leaves=5),
        max_size=4,
    ),
    drop=st.sets(st.sampled_from(["iss", "sub", "aud", "token_use", "exp", "iat"])),
)
def test_any_claims_signed_by_the_pool_key_are_refused_or_fully_usable(
    verifiers, issuer, claims, edits, drop
):
    payload = {k: v for k, v in claims.items() if k not in drop}
    payload.update(edits)
    candidate = issuer.sign(payload)
    for verifier in verifiers:
        result = outcome(verifier, candidate)
        if isinstance(result, Claims):
            _assert_usable(result, issuer)
        else:
            assert isinstance(result, ClaimError), f"{type(result).__name__}: {result}"
            assert result.claim, "a claim error must name its claim"


# --------------------------------------------------------------------------- the parser fuzz


def test_ten_thousand_seeded_inputs_raise_only_token_errors(verifiers, issuer, token):
    parsed = 0
    kinds: Counter[str] = Counter()
    errors: Counter[str] = Counter()
    failures: list[str] = []
    for kind, candidate in near_jwts(20_240_601, 10_000, token=token, kid=issuer.kid):
        kinds[kind] += 1
        try:
            try:
                _token.parse(candidate)
            except TokenError:
                pass
            else:
                parsed += 1
            errors[type(refusal(verifiers, candidate)).__name__] += 1
        except Exception as exc:  # collected, so the report shows every failing input
            failures.append(f"{kind} {candidate!r:.300}: {type(exc).__name__}: {exc}")
    assert failures[:5] == []
    assert sum(kinds.values()) == 10_000
    assert set(kinds) == {"bytes", "text", "segments", "json", "splice", "nested"}
    # The structured inputs got past the parser to the key lookup and the signature.
    assert parsed > 500
    assert errors["InvalidSignatureError"] > 100
    assert errors["UnknownKeyError"] > 10


@fuzz(300)
@given(candidate=st.binary(max_size=300) | st.text(max_size=300))
def test_random_bytes_and_text_raise_only_token_errors(verifiers, candidate):
    refusal(verifiers, candidate)


@fuzz(300)
@given(
    header=json_values(max_leaves=6)
    | st.fixed_dictionaries(
        {"alg": st.sampled_from(["RS256", "none", "HS256"]), "kid": json_values(max_leaves=2)},
        optional={"jwk": json_values(max_leaves=3), "typ": st.just("JWT")},
    ),
    payload=json_values(max_leaves=10),
    signature=st.binary(max_size=300),
    as_bytes=st.booleans(),
)
def test_structured_near_jwts_raise_only_token_errors(
    verifiers, header, payload, signature, as_bytes
):
    text = ".".join(
        [
            b64url(json.dumps(header)),
            b64url(json.dumps(payload)),
            b64url(signature),
        ]
    )
    refusal(verifiers, text.encode() if as_bytes else text)


# --------------------------------------------------------------------------- deep nesting

# Every depth orjson parses, and the first it refuses; a value inside an object (a field,
# a claim) is one level deeper than itself.
DEPTHS = range(1, PARSER_DEPTH + 2)
VALUE_DEPTHS = range(1, PARSER_DEPTH)
# What a token whose header nests at each place is refused as.
HEADER_REFUSALS = {
    "alg": InvalidHeaderError,
    "kid": InvalidHeaderError,
    "crit": InvalidHeaderError,
    "x5c": InvalidHeaderError,
    "typ": InvalidSignatureError,  # a field nobody reads: only the signature gives it away
    "x-other": InvalidSignatureError,
    "whole": MalformedTokenError,
}


@pytest.mark.parametrize("shape", NEST_SHAPES)
@pytest.mark.parametrize("place", HEADER_NESTING_PLACES)
def test_a_header_nesting_at_any_depth_is_refused_without_recursion(
    verifiers, issuer, token, place, shape
):
    _, payload, signature = token.split(".")
    with recursion_headroom(100):
        for depth in DEPTHS:
            header = b64url(nested_header(issuer.kid, place, depth, shape))
            # One verifier: a result cache plays no part in a refusal, and every depth of
            # every shape in every place makes many.
            error = refusal(verifiers[:1], f"{header}.{payload}.{signature}")
            # Past the header size cap, refused unread; then past what orjson parses.
            too_long = len(header) > _token.MAX_HEADER_SIZE
            too_deep = too_long or depth + (place != "whole") > PARSER_DEPTH
            expected = MalformedTokenError if too_deep else HEADER_REFUSALS[place]
            if place == "whole" and shape == "object" and not too_deep:
                expected = InvalidHeaderError  # an object, but without alg or kid
            assert type(error) is expected, (depth, error)
            assert len(str(error)) < 300


# Claims an ID token's checks never read: a nested value there passes.
UNCHECKED_CLAIMS = ("client_id", "custom:x")


@pytest.fixture(scope="module")
def id_rules(verifiers: tuple[CognitoVerifier, ...]) -> ClaimRules:
    return verifiers[0].rules


@pytest.mark.parametrize("shape", NEST_SHAPES)
@pytest.mark.parametrize("name", [*CLAIM_NAMES, "custom:x"])
def test_a_claim_nesting_at_any_depth_fails_its_check_without_recursion(
    claims, id_rules, name, shape
):
    # The claim checks alone, at every depth: the checks render what they refuse.
    with recursion_headroom(100):
        for depth, value in nested_values(shape, PARSER_DEPTH - 1):
            payload = {**claims, name: value}
            if name in UNCHECKED_CLAIMS:
                check_claims(payload, id_rules, time.time())
                continue
            with pytest.raises(ClaimError) as refused:
                check_claims(payload, id_rules, time.time())
            assert refused.value.claim == name, depth
            assert len(str(refused.value)) < 300


@pytest.mark.parametrize("depth", [1, 2, 8, 9, 100, 999, 1000, PARSER_DEPTH - 1, PARSER_DEPTH])
@pytest.mark.parametrize("shape", NEST_SHAPES)
def test_nested_claims_signed_by_the_pool_are_refused_or_fully_usable(
    verifiers, issuer, claims, depth, shape
):
    for name in (*CLAIM_NAMES, "custom:x"):
        payload = object_with(claims, name, nested(depth, shape))
        candidate = sign_raw(
            b'{"alg":"RS256","kid":"%s"}' % issuer.kid.encode(), payload, _key(issuer)
        )
        with recursion_headroom(100):
            for verifier in verifiers:
                result = outcome(verifier, candidate)
                if depth >= PARSER_DEPTH:
                    assert type(result) is MalformedTokenError
                elif name in UNCHECKED_CLAIMS:
                    # Accepted, and a caller can read all of it (copied, at every depth).
                    assert isinstance(result, Claims), result
                    assert result.client_id == issuer.client_id
                    assert _depth(result.to_dict()[name]) == _depth(result[name]) == depth
                else:
                    assert isinstance(result, ClaimError), (name, result)


def _key(issuer: LocalIssuer) -> rsa.RSAPrivateKey:
    return issuer.keys[issuer.kid]


def _depth(value: Any) -> int:
    """How deep ``nested`` data goes, found without recursion (as ``==`` would)."""
    depth = 0
    while isinstance(value, (list, dict)):
        value = value[-1] if isinstance(value, list) else next(iter(value.values()))
        depth += 1
    return depth


@fuzz(150)
@given(data=st.data())
def test_nesting_anywhere_signed_with_a_wrong_key_is_refused(
    verifiers, issuer, claims, wrong_key, data
):
    candidate = data.draw(nested_tokens(issuer, claims, wrong_key), label="nested")
    with recursion_headroom(100):
        error = refusal(verifiers, candidate)
    assert not isinstance(error, ClaimError), "claims were read before the signature was checked"


# Fields of a key set entry the verifier reads, and the entry as a whole.
JWK_PLACES = ("kid", "kty", "use", "alg", "n", "e", "entry")
JWKS_URL_NESTED = "https://jwks.example.test/nested.json"


def _nested_entry(good: dict[str, Any], place: str, value: Any) -> Any:
    return value if place == "entry" else {**good, "kid": "nested", place: value}


@pytest.mark.parametrize("shape", NEST_SHAPES)
@pytest.mark.parametrize("place", JWK_PLACES)
def test_a_key_nesting_at_any_depth_is_skipped(issuer, caplog, place, shape):
    # Alone in the set, so that an entry taken for a key would show (no JWKSError).
    caplog.set_level(logging.WARNING, logger="cognises.jwks")
    good = issuer.jwks()["keys"][0]
    with recursion_headroom(100):
        for _, value in nested_values(shape, PARSER_DEPTH - 2):
            caplog.clear()
            with pytest.raises(JWKSError, match="found none"):
                JWKSCache().load(JWKS_URL_NESTED, {"keys": [_nested_entry(good, place, value)]})
            [skipped] = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
            assert skipped.startswith("skipping key 0 from"), skipped
            assert len(skipped) < 300


@pytest.mark.parametrize("depth", [1, 9, 100, 1000, PARSER_DEPTH - 2])
def test_next_to_a_nested_key_the_others_stay_usable(issuer, depth):
    good = issuer.jwks()["keys"][0]
    with recursion_headroom(100):
        for shape in NEST_SHAPES:
            value = dict(nested_values(shape, depth))[depth]
            bad = [_nested_entry(good, place, value) for place in JWK_PLACES]
            # A field nobody reads leaves a key usable.
            ignored = {**good, "kid": "ignored", "x5c": value}
            cache = JWKSCache()
            cache.load(JWKS_URL_NESTED, {"keys": [*bad, ignored, good]})
            assert cache.current(JWKS_URL_NESTED, issuer.kid) is not None
            assert cache.current(JWKS_URL_NESTED, "ignored") is not None
            assert cache.current(JWKS_URL_NESTED, "nested") is None


@pytest.mark.parametrize("shape", NEST_SHAPES)
def test_a_key_set_nesting_at_any_depth_is_a_jwks_error(shape):
    cache = JWKSCache()
    with recursion_headroom(100):
        for _, value in nested_values(shape):
            for document in (value, {"keys": value}):
                with pytest.raises(JWKSError):
                    cache.load(JWKS_URL_NESTED, document)


def test_the_parser_fuzz_never_fetched(verifiers):
    # The frozen clock kept every unknown kid away from the network.
    assert [v.jwks_cache.fetch_count(JWKS_URL) for v in verifiers] == [0, 0]


def _with_strays(case: tuple[bytes, list[tuple[int, int]]]) -> bytes:
    segment, strays = case
    changed = bytearray(segment)
    for position, byte in strays:
        changed[position % len(changed)] = byte
    return bytes(changed)


def _canonical_base64url(segment: bytes) -> bytes | None:
    """What a segment decodes to, by the definition: base64url without padding whose
    re-encoding gives back the very same text. None when it is not such a segment."""
    alphabet = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    if not segment or len(segment) % 4 == 1 or any(byte not in alphabet for byte in segment):
        return None
    decoded = base64.urlsafe_b64decode(segment + b"=" * (-len(segment) % 4))
    return decoded if base64.urlsafe_b64encode(decoded).rstrip(b"=") == segment else None


_B64URL = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"


@fuzz(4000)
@given(
    segment=st.lists(st.sampled_from(_B64URL + b"+/=*. \n\t\x00\x7f\x80\xff"), max_size=40).map(
        bytes
    )
    # Long segments too, mostly valid, with a few stray bytes: SIMD decoders take other
    # paths for long input.
    | st.tuples(
        st.binary(min_size=1, max_size=700).map(lambda raw: b64url(raw).encode()),
        st.lists(
            st.tuples(st.integers(min_value=0), st.sampled_from(b"+/= \n*\x80-_A")), max_size=3
        ),
    ).map(_with_strays)
)
def test_base64url_decoding_accepts_exactly_canonical_segments(segment):
    # The verifier decodes with pybase64 and checks what it would let through itself
    # ('+', '/', '=', the last character): together that must agree with the definition.
    expected = _canonical_base64url(segment)
    if expected is None:
        with pytest.raises(MalformedTokenError):
            _token.b64url_decode(segment, "segment")
    else:
        assert _token.b64url_decode(segment, "segment") == expected
