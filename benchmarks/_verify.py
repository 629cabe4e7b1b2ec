"""Verification speed: distinct tokens against the floor and two peers, and the repeated token."""

from __future__ import annotations

import base64
from typing import Any

import jwt as pyjwt
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding
from joserfc import jwt as jose_jwt
from joserfc.jwk import KeySet

from benchmarks._timing import interleaved, per_call
from cognises.sync import CognitoVerifier
from cognises.testing import LocalIssuer

URL = "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_BENCH0001/.well-known/jwks.json"
TOKENS = 2000


def run() -> list[tuple[str, str, str]]:
    issuer = LocalIssuer(user_pool_id="us-east-1_BENCH0001")
    tokens = [
        issuer.token(username=f"user{i}", groups=["admins", "editors"]) for i in range(TOKENS)
    ]
    public = issuer.keys[issuer.kid].public_key()
    jwks = issuer.jwks()

    ours = CognitoVerifier(
        issuer.region,
        issuer.user_pool_id,
        client_ids=issuer.client_id,
        token_use="id",
        cache_size=0,
    )
    ours.jwks_cache.load(URL, jwks)

    signed: list[tuple[bytes, bytes]] = []
    for token in tokens:
        head, body, sig = token.split(".")
        signed.append((f"{head}.{body}".encode(), base64.urlsafe_b64decode(sig + "==")))
    pkcs1, sha256 = padding.PKCS1v15(), hashes.SHA256()

    def floor() -> None:
        for signing_input, signature in signed:
            public.verify(signature, signing_input, pkcs1, sha256)

    def cognises_verify() -> None:
        for token in tokens:
            ours.verify(token)

    pyjwt_key = pyjwt.PyJWK(jwks["keys"][0]).key

    def pyjwt_verify() -> None:
        for token in tokens:
            claims: dict[str, Any] = pyjwt.decode(
                token,
                pyjwt_key,
                algorithms=["RS256"],
                audience=issuer.client_id,
                issuer=issuer.issuer,
                options={"require": ["exp", "iss", "aud", "token_use"]},
            )
            if claims["token_use"] != "id":
                raise AssertionError

    key_set = KeySet.import_key_set(jwks)
    registry = jose_jwt.JWTClaimsRegistry(
        iss={"essential": True, "value": issuer.issuer},
        aud={"essential": True, "value": issuer.client_id},
        token_use={"essential": True, "value": "id"},
        exp={"essential": True},
    )

    def joserfc_verify() -> None:
        for token in tokens:
            registry.validate(jose_jwt.decode(token, key_set, algorithms=["RS256"]).claims)

    times = interleaved(
        {
            "floor": floor,
            "cognises": cognises_verify,
            "pyjwt": pyjwt_verify,
            "joserfc": joserfc_verify,
        },
        TOKENS,
    )

    cached = CognitoVerifier(
        issuer.region, issuer.user_pool_id, client_ids=issuer.client_id, token_use="id"
    )
    cached.jwks_cache.load(URL, jwks)
    same = tokens[0]
    cached.verify(same)
    hit = per_call(lambda: [cached.verify(same) for _ in range(TOKENS)], TOKENS)

    floor_s = times["floor"]

    def row(name: str, seconds: float, target: str) -> tuple[str, str, str]:
        return (name, f"{seconds * 1e6:7.2f} µs  {seconds / floor_s:5.2f}× floor", target)

    return [
        row("floor: bare RSA-2048 verify", floor_s, "1.00×"),
        row("cognises verify, distinct tokens", times["cognises"], "≤ 1.50×"),
        row("PyJWT decode + same checks", times["pyjwt"], "cognises faster"),
        row("joserfc decode + claims registry", times["joserfc"], "cognises faster"),
        row("cognises verify, repeated token", hit, "≤ 0.10×"),
    ]
