"""The ``x-amzn-oidc-data`` token an Application Load Balancer signs: pure parsing and checks.

The ALB's token is a compact JWS, but not quite the one RFC 7515 defines: each segment is
base64url *with* its padding, the algorithm is always ES256 (ECDSA P-256, SHA-256), and
the facts that decide who may send it (``signer``, the ALB's ARN; ``client``; ``iss``;
``exp``) live in the header, not the payload. The payload holds the user's claims from
the IdP's user info endpoint.

Every malformed input ends in a ``TokenError`` subclass. Header checks come before any
key is fetched, so only a token naming one of our ALBs (and a kid that cannot change
the key URL) can cause a fetch.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Set
from dataclasses import dataclass
from typing import Any, NamedTuple

import orjson
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import Prehashed, encode_dss_signature
from cryptography.hazmat.primitives.hashes import SHA256

from cognises._show import show
from cognises._token import MAX_HEADER_SIZE, MAX_TOKEN_SIZE, ascii_token, b64url_decode
from cognises.errors import (
    ClaimError,
    ExpiredTokenError,
    InvalidAudienceError,
    InvalidClaimTypeError,
    InvalidHeaderError,
    InvalidIssuerError,
    InvalidSignatureError,
    MalformedTokenError,
    MissingClaimError,
)

__all__ = [
    "KID_PATTERN",
    "AlbHeader",
    "AlbParsed",
    "AlbRules",
    "check_alb_claims",
    "check_alb_header",
    "check_es256",
    "decode_padded",
    "parse_alb",
]

# ALB kids are UUIDs. Anything beyond letters, digits, '-' and '_' (a '/', '.', '%', '?',
# '#', ...) could point the key URL somewhere else, so it is refused before any fetch.
KID_PATTERN = re.compile(r"[A-Za-z0-9_-]{1,128}")
_kid_ok = KID_PATTERN.fullmatch

_SIGNATURE_SIZE = 64  # r || s, 32 bytes each (RFC 7518, section 3.4)
_FORBIDDEN_HEADERS = frozenset({"jwk", "jku", "x5u", "x5c", "crit"})
_LAST_TIMESTAMP = 253402300799  # 9999-12-31T23:59:59Z
# Payload claims the Claims accessors read: checked for type when present.
_PAYLOAD_STRINGS = ("sub", "email", "username", "cognito:username")

_loads = orjson.loads
_sha256 = hashlib.sha256
_ES256 = ec.ECDSA(Prehashed(SHA256()))


def decode_padded(segment: bytes, what: str) -> bytes:
    """Decode one base64url segment carrying exactly its canonical padding.

    The ALB pads every segment to a multiple of four characters. Only that form is
    taken: padding missing, doubled or misplaced, and any non-canonical encoding, are
    refused, so that no other spelling of a token verifies.
    """
    # rest 1 is no base64 at all; b64url_decode refuses it (and an empty body) itself.
    return b64url_decode(_unpadded(segment, what), what)


def _unpadded(segment: bytes, what: str) -> bytes:
    """The segment without its padding, which must be exactly what its length needs."""
    body = segment.rstrip(b"=")
    if len(segment) - len(body) != (-len(body)) & 3:
        raise MalformedTokenError(
            f"expected the {what} padded to a multiple of 4 characters, as the ALB sends it, "
            f"found {len(segment) - len(body)} padding character(s) after {len(body)}"
        )
    return body


def _decode_object(segment: bytes, what: str) -> dict[str, Any]:
    try:
        value = _loads(decode_padded(segment, what))
    except orjson.JSONDecodeError:
        raise MalformedTokenError(f"the {what} is not JSON") from None
    if type(value) is not dict:
        raise MalformedTokenError(
            f"expected the {what} to be a JSON object, found {type(value).__name__}"
        )
    return value


class AlbHeader(NamedTuple):
    """The checked fields of an ALB token's header (a tuple: made for every token)."""

    kid: str
    signer: str
    client: str | None
    issuer: str | None
    exp: int


# What ``parse_alb`` hands on: the header, the signing input, the payload and signature
# segments (still encoded).
AlbParsed = tuple[AlbHeader, bytes, bytes, bytes]


def parse_alb(token: str | bytes, *, max_size: int = MAX_TOKEN_SIZE) -> AlbParsed:
    """Split an ALB token and check the form of its header. No signature check."""
    raw = ascii_token(token, max_size)
    signing_input, _, signature = raw.rpartition(b".")
    header_segment, dot, payload = signing_input.partition(b".")
    if not dot or payload.find(b".") >= 0:
        raise MalformedTokenError(f"expected 3 dot-separated segments, found {raw.count(b'.') + 1}")
    if not payload:
        raise MalformedTokenError("the payload is empty")
    # The form of every segment before anything is believed: a token spelt another way
    # is refused as such, whichever segment it changed.
    _unpadded(payload, "payload")
    _unpadded(signature, "signature")
    # As for Cognito's tokens: the header is parsed before any signature check, so its
    # size is bounded first (an ALB header is a few hundred characters).
    if len(header_segment) > MAX_HEADER_SIZE:
        raise MalformedTokenError(
            f"expected a header of at most {MAX_HEADER_SIZE} characters, "
            f"found {len(header_segment)}"
        )
    return _header(_decode_object(header_segment, "header")), signing_input, payload, signature


def _header(header: dict[str, Any]) -> AlbHeader:
    alg = header.get("alg")
    if alg != "ES256":
        raise InvalidHeaderError(f"expected alg 'ES256', found {show(alg)}")
    forbidden = _FORBIDDEN_HEADERS.intersection(header)
    if forbidden:
        raise InvalidHeaderError(
            f"expected no key-bearing header fields, found {', '.join(sorted(forbidden))}"
        )
    kid = header.get("kid")
    if type(kid) is not str or not _kid_ok(kid):
        found = "none" if kid is None else show(kid)
        raise InvalidHeaderError(
            f"expected kid to be 1 to 128 letters, digits, '-' or '_', found {found}"
        )
    signer = header.get("signer")
    if type(signer) is not str or not signer:
        found = "none" if signer is None else show(signer)
        raise InvalidHeaderError(f"expected signer to be an ALB's ARN, found {found}")
    client, issuer = header.get("client"), header.get("iss")
    for name, value in (("client", client), ("iss", issuer)):
        if value is not None and type(value) is not str:
            raise InvalidClaimTypeError(
                f"expected header {name} to be a string, found {type(value).__name__}", claim=name
            )
    exp = header.get("exp")
    if type(exp) is not int:
        if exp is None:
            raise MissingClaimError("expected an exp in the header, found none", claim="exp")
        raise InvalidClaimTypeError(
            f"expected header exp to be an integer, found {type(exp).__name__}", claim="exp"
        )
    return AlbHeader(kid, signer, client, issuer, exp)


@dataclass(frozen=True)
class AlbRules:
    """What an ``AlbVerifier`` accepts. ``client_ids``, ``issuer`` None: not checked."""

    alb_arns: Set[str]
    client_ids: Set[str] | None
    issuer: str | None
    leeway: float


def check_alb_header(header: AlbHeader, rules: AlbRules, now: float) -> None:
    """Raise the ``TokenError`` of the first failed header check; return if all pass."""
    if header.signer not in rules.alb_arns:
        # Exact: a prefix, a suffix or another case of one of our ARNs is another ALB.
        raise InvalidHeaderError(
            f"expected signer to be one of {sorted(rules.alb_arns)}, found {show(header.signer)}"
        )
    if rules.client_ids is not None and header.client not in rules.client_ids:
        found = "none" if header.client is None else show(header.client)
        raise InvalidAudienceError(
            f"expected client to be one of {sorted(rules.client_ids)}, found {found}",
            claim="client",
        )
    if rules.issuer is not None and header.issuer != rules.issuer:
        found = "none" if header.issuer is None else show(header.issuer)
        raise InvalidIssuerError(f"expected iss {rules.issuer!r}, found {found}", claim="iss")
    exp = header.exp
    if exp > _LAST_TIMESTAMP:
        raise InvalidClaimTypeError(
            f"expected exp to be a time before year 10000, found {exp}", claim="exp"
        )
    if now >= exp + rules.leeway:
        raise ExpiredTokenError(
            f"expected exp after {now:.0f} (leeway {rules.leeway:g}s), found {exp}", claim="exp"
        )


def check_es256(
    kid: str, signing_input: bytes, signature: bytes, key: ec.EllipticCurvePublicKey
) -> None:
    """Check the ES256 signature (the still-encoded, padded segment) of ``signing_input``.

    JOSE carries the ECDSA signature as r and s, 32 bytes each, concatenated; OpenSSL
    wants DER. Any other length (a DER signature sent as is, a truncated one) is refused
    before conversion.
    """
    raw = decode_padded(signature, "signature")
    if len(raw) != _SIGNATURE_SIZE:
        raise InvalidSignatureError(
            f"expected an ES256 signature of {_SIGNATURE_SIZE} bytes (r || s), "
            f"found {len(raw)} bytes"
        )
    der = encode_dss_signature(int.from_bytes(raw[:32], "big"), int.from_bytes(raw[32:], "big"))
    try:
        key.verify(der, _sha256(signing_input).digest(), _ES256)
    except InvalidSignature:
        raise InvalidSignatureError(
            f"expected a signature by key {show(kid)}, found one that does not match"
        ) from None


def check_alb_claims(payload_segment: bytes, header: AlbHeader) -> dict[str, Any]:
    """Decode the payload (after the signature check) and check the claims ``Claims`` reads.

    ``exp``, when the payload lacks it, is taken from the header the signature covers.
    """
    payload = _decode_object(payload_segment, "payload")
    if type(payload.get("sub")) is not str:
        raise _missing_or_mistyped(payload, "sub", "a string")
    for name in _PAYLOAD_STRINGS:
        if name in payload and type(payload[name]) is not str:
            raise _missing_or_mistyped(payload, name, "a string")
    if "cognito:groups" in payload:
        groups = payload["cognito:groups"]
        if type(groups) is not list or not all(type(g) is str for g in groups):
            raise InvalidClaimTypeError(
                "expected cognito:groups to be a list of strings", claim="cognito:groups"
            )
    if "scope" in payload and type(payload["scope"]) is not str:
        raise _missing_or_mistyped(payload, "scope", "a string")
    exp = payload.setdefault("exp", header.exp)
    if type(exp) is not int or not 0 <= exp <= _LAST_TIMESTAMP:
        raise InvalidClaimTypeError(
            "expected the payload's exp to be an integer time before year 10000", claim="exp"
        )
    return payload


def _missing_or_mistyped(claims: dict[str, Any], name: str, expected: str) -> ClaimError:
    if name not in claims:
        return MissingClaimError(f"expected a {name} claim, found none", claim=name)
    return InvalidClaimTypeError(
        f"expected {name} to be {expected}, found {type(claims[name]).__name__}", claim=name
    )
