"""Parsing a compact JWS and checking its RS256 signature: pure CPU work, no I/O.

Every malformed input ends in a ``TokenError`` subclass. The functions here run on
every request, so they avoid work that cannot change the answer.
"""

from __future__ import annotations

import functools
import hashlib
from typing import Any

import orjson
import pybase64
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric import padding
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPublicKey

from cognises._show import show
from cognises.errors import InvalidHeaderError, InvalidSignatureError, MalformedTokenError

__all__ = [
    "MAX_HEADER_SIZE",
    "MAX_TOKEN_SIZE",
    "Parsed",
    "ascii_token",
    "check_signature",
    "decode_object",
    "parse",
]

# The default cap on a token's length: the largest ID token Cognito's documented limits
# allow, counted as JSON, then as base64url, plus a quarter for what the count leaves out
# (JSON escapes, claims AWS adds later); a pre-token-generation trigger can add more, and
# ``max_token_size`` is there for that. Tokens arrive in headers and cookies, which servers
# and proxies cap too, often far lower: this is the bound on our own work, not theirs.
# Each string is counted with its quotes and a comma (3), each named claim with its name.
_GROUPS = 100 * (128 + 3)  # cognito:groups: up to 100 groups a user, names up to 128
# An IAM role ARN: "arn:aws-iso-b:iam::" (19), a 12-digit account, ":role" (5), a path of
# up to 512 characters and a name of up to 64 (CreateGroup itself takes RoleArn up to 2048,
# but only an IAM role's ARN is a role). One per group in cognito:roles, one more in
# cognito:preferred_role.
_ROLE_ARN = 19 + 12 + 5 + 512 + 64
_ROLES = 101 * (_ROLE_ARN + 3)
_ATTRIBUTE = 2048 + 3  # an attribute's value: up to 2048 characters
_CUSTOM = 50 * (len('"custom:":') + 20 + _ATTRIBUTE)  # up to 50, names up to 20 characters
_STANDARD = 20 * (len('"phone_number_verified":') + _ATTRIBUTE)  # OIDC's 17, flags, identities
_FIXED = 2048  # iss, sub, aud, token_use, the times, jti, origin_jti, event_id, username...
_PAYLOAD_JSON = _GROUPS + _ROLES + _CUSTOM + _STANDARD + _FIXED  # 222,813
# Header (a few short fields) and signature (of an 8192-bit key: 1366 characters).
_HEADER_AND_SIGNATURE = 512 + 1366
MAX_TOKEN_SIZE = (_PAYLOAD_JSON * 4 // 3 + _HEADER_AND_SIGNATURE) * 5 // 4  # 373,702

# The header is the one part parsed before the signature is checked, so its cost is
# anyone's to choose: JSON as long as the token cap allows, nested deep or made of many
# small values, costs hundreds of milliseconds to parse. A Cognito header is about 90
# characters; one far longer is refused unread.
MAX_HEADER_SIZE = 2048

# Header fields that would let the token choose its own key, or demand semantics we don't know.
_FORBIDDEN_HEADERS = frozenset({"jwk", "jku", "x5u", "x5c", "crit"})

_loads = orjson.loads
_PKCS1 = padding.PKCS1v15()
_sha256 = hashlib.sha256
# What an RS256 signature holds once the PKCS #1 v1.5 padding is off: the DER DigestInfo
# of SHA-256 (RFC 8017, section 9.2, note 1), then the digest of the signing input.
_SHA256_DIGEST_INFO = bytes.fromhex("3031300d060960864801650304020105000420")


# The last character of a segment may carry bits past the data. Only the encoding with
# zero bits there is canonical; anything else would let a changed token verify.
_B64 = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
_CANONICAL_LAST = {
    2: frozenset(c for i, c in enumerate(_B64) if i & 0x0F == 0),
    3: frozenset(c for i, c in enumerate(_B64) if i & 0x03 == 0),
}
# By ``len(segment) % 4``: the last characters that may end a segment (none after a single
# leftover character, whatever is canonical after two or three), and the padding to add.
_LAST_OK: tuple[frozenset[int], ...] = (
    frozenset(range(256)),
    frozenset(),
    _CANONICAL_LAST[2],
    _CANONICAL_LAST[3],
)
_PAD = (b"", b"", b"==", b"=")

# pybase64 decodes with SIMD, two to three times faster than binascii here. Given the
# base64url alphabet as altchars and validate=True, it refuses any byte outside both
# alphabets and misplaced padding; '+', '/' and '=' (the standard alphabet's own, which it
# would also take) are refused before it is called, and the canonical last character is
# checked as above. Together: exactly unpadded canonical base64url, which a property test
# holds against the definition (tests/test_fuzz_tokens.py).
_b64decode = pybase64.b64decode
_URLSAFE = b"-_"


def b64url_decode(segment: bytes, what: str) -> bytes:
    """Decode one unpadded base64url segment, refusing any non-canonical form."""
    rest = len(segment) & 3
    # The common case in one test; anything that fails it is sorted out below.
    if (
        segment
        and segment[-1] in _LAST_OK[rest]
        and segment.find(b"+") < 0
        and segment.find(b"/") < 0
        and segment.find(b"=") < 0
    ):
        try:
            return _b64decode(segment + _PAD[rest], _URLSAFE, True)
        except ValueError:  # binascii.Error
            pass
    if rest == 1 or not segment:
        raise MalformedTokenError(f"the {what} is not base64url: found a length of {len(segment)}")
    if rest and segment[-1] not in _CANONICAL_LAST[rest]:
        raise MalformedTokenError(f"the {what} is not canonical base64url")
    raise MalformedTokenError(f"the {what} is not base64url")


def decode_object(segment: bytes, what: str) -> dict[str, Any]:
    """Decode a header or payload segment: base64url JSON holding an object.

    Call it on a payload only after the signature has been checked.
    """
    raw = b64url_decode(segment, what)
    try:
        # orjson: four times faster than json here, and strict: no NaN, no invalid UTF-8.
        value = _loads(raw)
    except orjson.JSONDecodeError:
        raise MalformedTokenError(f"the {what} is not JSON") from None
    if type(value) is not dict:  # orjson makes plain dicts
        raise MalformedTokenError(
            f"expected the {what} to be a JSON object, found {type(value).__name__}"
        )
    return value


def _header_kid(segment: bytes) -> str:
    if len(segment) > MAX_HEADER_SIZE:
        raise MalformedTokenError(
            f"expected a header of at most {MAX_HEADER_SIZE} characters, found {len(segment)}"
        )
    header = decode_object(segment, "header")
    alg = header.get("alg")
    if alg != "RS256":
        raise InvalidHeaderError(f"expected alg 'RS256', found {show(alg)}")
    forbidden = _FORBIDDEN_HEADERS.intersection(header)
    if forbidden:
        raise InvalidHeaderError(
            f"expected no key-bearing header fields, found {', '.join(sorted(forbidden))}"
        )
    kid = header.get("kid")
    if not isinstance(kid, str) or not kid:
        found = "none" if kid is None else show(kid)
        raise InvalidHeaderError(f"expected kid to be a non-empty string, found {found}")
    return kid


# Tokens of one pool share a handful of headers: remember what each header segment said.
# Only short ones: a Cognito header is about 100 characters, and caching headers as long
# as the token cap allows would let anyone fill memory with them.
_HEADER_CACHE: dict[bytes, str] = {}
_HEADER_CACHE_SIZE = 256
_HEADER_CACHE_MAX_LENGTH = 512


# What ``parse`` hands on: the kid, the signing input, the payload and signature segments.
# A plain tuple: it is made for every token, and a class of our own costs more to build.
Parsed = tuple[str, bytes, bytes, bytes]


def parse(token: str | bytes, *, max_size: int = MAX_TOKEN_SIZE) -> Parsed:
    """Split and check the structure and header of a compact JWS. No signature check."""
    if type(token) is str and len(token) <= max_size:
        try:
            raw = token.encode("ascii")
        except UnicodeEncodeError:
            raise MalformedTokenError("expected an ASCII token, found other characters") from None
    else:
        raw = ascii_token(token, max_size)
    # Two partitions copy less than a split and hand us the signing input whole; with the
    # check for a third dot, all three find a byte the fast way (bytes.count would not).
    signing_input, _, signature = raw.rpartition(b".")
    header, dot, payload = signing_input.partition(b".")
    # find, not `in`: bytes.__contains__ first tries its argument as an int, and failing
    # that costs more than the search.
    if not dot or payload.find(b".") >= 0:
        raise MalformedTokenError(f"expected 3 dot-separated segments, found {raw.count(b'.') + 1}")
    kid = _HEADER_CACHE.get(header)
    if kid is None:
        kid = _header_kid(header)
        if len(header) <= _HEADER_CACHE_MAX_LENGTH:
            if len(_HEADER_CACHE) >= _HEADER_CACHE_SIZE:
                _HEADER_CACHE.clear()
            _HEADER_CACHE[header] = kid
    if not payload:
        raise MalformedTokenError("the payload is empty")
    return kid, signing_input, payload, signature


def ascii_token(token: object, max_size: int) -> bytes:
    """The token as ASCII bytes, or ``MalformedTokenError``: not str or bytes, too long, or
    not ASCII. (``parse`` takes a str within the cap without this call: its hot path.)"""
    if not isinstance(token, (str, bytes)):
        raise MalformedTokenError(f"expected the token as str, found {type(token).__name__}")
    if len(token) > max_size:
        raise MalformedTokenError(
            f"expected a token of at most {max_size} bytes, found {len(token)}"
        )
    if isinstance(token, str):
        try:
            return token.encode("ascii")
        except UnicodeEncodeError:
            raise MalformedTokenError("expected an ASCII token, found other characters") from None
    if not token.isascii():
        raise MalformedTokenError("expected an ASCII token, found other bytes")
    return bytes(token)


def check_signature(kid: str, signing_input: bytes, signature: bytes, key: RSAPublicKey) -> None:
    """Check the RS256 signature (the still-encoded ``signature`` segment) of ``signing_input``.

    This is RSASSA-PKCS1-v1_5 verification as RFC 8017 (section 8.2.2) describes it:
    OpenSSL undoes the RSA and checks the padding, and the DigestInfo it finds must equal
    the one built from our own SHA-256 of the signing input, byte for byte. Done this way
    rather than with ``key.verify``, it costs about 2 µs less per token (``hashlib`` keeps
    its digest ready; ``verify`` sets one up for every call).
    """
    raw = b64url_decode(signature, "signature")
    # Step 1 of RFC 8017's check: a signature is exactly as long as the modulus. OpenSSL's
    # recovery would take a shorter one (a leading zero byte left off) as the same number.
    if len(raw) == (key.key_size + 7) >> 3:
        try:
            recovered = key.recover_data_from_signature(raw, _PKCS1, None)
        except InvalidSignature:
            pass
        else:
            if recovered == _SHA256_DIGEST_INFO + _sha256(signing_input).digest():
                return
    raise InvalidSignatureError(
        f"expected a signature by key {_shown_kid(kid)}, found one that does not match"
    )


# A kid that reached the signature check names a key of the pool's set: a handful of
# values, each shown once rather than on every forged token.
_shown_kid = functools.lru_cache(maxsize=64)(show)
