"""Part 6: the ALB's data token (ES256) against the bare ECDSA verify floor.

Same method as part 1: 2,000 distinct tokens (each for another user, as an ALB signs one
per session), handed over in new string objects for every batch, batches interleaved
with the floor. The floor is ``cryptography``'s bare ``verify`` of each token's signature,
already in DER, over its signing input: the least any ES256 verifier must do. cognises
does everything else too: size and ASCII checks, the padded base64url of all three
segments, the header (alg, kid, signer, client, iss, exp), r || s to DER, the payload's
JSON and the claims ``Claims`` reads.
"""

from __future__ import annotations

import base64

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

from benchmarks._table import Row
from benchmarks._timing import fresh_copies, interleaved
from cognises.sync import AlbKeyCache, AlbVerifier
from cognises.testing import LocalAlb

TOKENS = 2000
CHUNK = 200
PASSES = 7
ROUNDS = PASSES * TOKENS // CHUNK
WARMUP = TOKENS // CHUNK
TARGET = 1.30


def run(quick: bool = False) -> list[Row]:  # a few seconds: quick or not
    alb = LocalAlb()
    tokens = [alb.token(username=f"user{i:05d}", expires_in=3600) for i in range(TOKENS)]
    url = "https://public-keys.auth.elb.us-east-1.amazonaws.com/{kid}"
    cache = AlbKeyCache(url)
    cache.load(alb.kid, alb.pem())
    verifier = AlbVerifier(
        alb.region,
        alb_arns=alb.arn,
        client_ids=alb.client_id,
        issuer=alb.issuer,
        key_cache=cache,
    )
    public = alb.keys[alb.kid].public_key()
    ecdsa = ec.ECDSA(hashes.SHA256())
    signed: list[tuple[bytes, bytes]] = []
    for token in tokens:
        signing_input, _, signature = token.rpartition(".")
        raw = base64.urlsafe_b64decode(signature)
        der = encode_dss_signature(int.from_bytes(raw[:32], "big"), int.from_bytes(raw[32:], "big"))
        signed.append((signing_input.encode(), der))

    runs = WARMUP + ROUNDS
    ours = fresh_copies([tokens[(i * CHUNK) % TOKENS :][:CHUNK] for i in range(runs)])
    floor_chunks = iter([signed[(i * CHUNK) % TOKENS :][:CHUNK] for i in range(runs)])

    def floor() -> None:
        for signing_input, der in next(floor_chunks):
            public.verify(der, signing_input, ecdsa)

    def cognises_verify() -> None:
        for token in next(ours):
            verifier.verify(token)

    times = interleaved(
        {"floor": floor, "cognises": cognises_verify}, CHUNK, rounds=ROUNDS, warmup=WARMUP
    )
    floor_s = times["floor"]
    ratio = times["cognises"] / floor_s
    part = "6 ALB data token"
    return [
        Row(
            part,
            "floor: bare ECDSA P-256 verify (cryptography), signature already DER",
            f"1.00× floor ({floor_s * 1e6:.1f} µs)",
            "1.00×",
            None,
        ),
        Row(
            part,
            "cognises AlbVerifier.verify (x-amzn-oidc-data, key cached)",
            f"{ratio:.2f}× floor ({times['cognises'] * 1e6:.1f} µs)",
            f"≤ {TARGET:.2f}× floor",
            ratio <= TARGET,
        ),
    ]
