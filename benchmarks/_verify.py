"""Parts 1 and 2: verification speed against the floor and two peers, and the repeated token.

Every verifier below gets the same 2,000 distinct tokens, in new string objects for every
batch (as a web framework would hand them over), and makes the same checks: signature,
``iss``, ``aud``, ``token_use``, ``exp`` (plus ``iat``/``nbf`` where present). The
verifier as shipped gets a stream of 5,000, so that its result cache never holds a token
and never remembers one from an earlier sighting either.
"""

from __future__ import annotations

import base64
from typing import Any, cast

import jwt as pyjwt
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding
from joserfc import jwt as jose_jwt
from joserfc.jwk import KeySet

from benchmarks._fixtures import issuer, tokens
from benchmarks._table import Row
from benchmarks._timing import fresh_copies, interleaved
from cognises.sync import CognitoVerifier, MultiPoolVerifier

TOKENS = 2000
# More distinct tokens than the shipped verifier remembers as seen once (4 times 1,024): each
# comes back forgotten, so every lookup is a miss and every token a first sighting.
STREAM = 5000
CHUNK = 200  # tokens per timed batch: short batches, many rounds, the best one counts
PASSES = 7  # timed passes over all the tokens (1 with --quick)
WARMUP = TOKENS // CHUNK  # one untimed pass first: the result cache is full from then on
LEEWAY = 5.0  # cognises' default, given to the peers too
CACHE_SIZE = 1024  # cognises' default result cache bound

# Distinct tokens may cost at most this many times the floor (the bare RSA verify).
DISTINCT_TARGET = 1.25


def run(quick: bool = False) -> list[Row]:
    rounds = (1 if quick else PASSES) * TOKENS // CHUNK
    local = issuer()
    stream = list(tokens(STREAM))
    signed_tokens = stream[:TOKENS]
    jwks = local.jwks()
    url = f"{local.issuer}/.well-known/jwks.json"

    def verifier(**options: Any) -> CognitoVerifier:
        made = CognitoVerifier(
            local.region,
            local.user_pool_id,
            client_ids=local.client_id,
            token_use="id",
            **options,
        )
        made.jwks_cache.load(url, jwks)
        return made

    # As shipped: the result cache on (1,024 tokens), one verifier for the whole run, as a
    # busy service has. It sees the stream once before timing starts, so its record of
    # tokens seen once is in its steady state: filled, cleared and filled again in memory
    # the process already has. (A new verifier per pass would time a process growing its
    # memory, fresh pages and their faults, as much as the cache.)
    shipped = verifier(cache_size=CACHE_SIZE)
    for token in stream:
        shipped.verify(token)
    uncached = verifier(cache_size=0)
    # Several pools: the bench pool second of two, so routing passes another pool's result
    # cache first. Warmed on the stream as the shipped one is.
    multi_pools = [
        {"region": "eu-west-1", "user_pool_id": "eu-west-1_BENCHOTHR", "client_ids": "x"},
        {
            "region": local.region,
            "user_pool_id": local.user_pool_id,
            "client_ids": local.client_id,
            "token_use": "id",
        },
    ]
    multi = MultiPoolVerifier(multi_pools)
    multi.jwks_cache.load(url, jwks)
    for token in stream:
        multi.verify(token)
    multi_repeated = MultiPoolVerifier(multi_pools)
    multi_repeated.jwks_cache.load(url, jwks)
    repeated = verifier(cache_size=CACHE_SIZE)

    public = local.keys[local.kid].public_key()
    signed: list[tuple[bytes, bytes]] = []
    for token in signed_tokens:
        signing_input, _, signature = token.rpartition(".")
        signed.append((signing_input.encode(), base64.urlsafe_b64decode(signature + "==")))
    pkcs1, sha256 = padding.PKCS1v15(), hashes.SHA256()

    pyjwt_key = pyjwt.PyJWK(jwks["keys"][0]).key
    key_set = KeySet.import_key_set(cast(Any, jwks))
    registry = jose_jwt.JWTClaimsRegistry(
        leeway=int(LEEWAY),
        iss={"essential": True, "value": local.issuer},
        aud={"essential": True, "value": local.client_id},
        token_use={"essential": True, "value": "id"},
        exp={"essential": True},
    )

    # Batch i takes chunk i % 10 of the 2,000 tokens (i % 25 of the stream): every token
    # comes back only after all the others, so an LRU of 1,024 never has it.
    runs = WARMUP + rounds
    chunks = [signed_tokens[(i * CHUNK) % TOKENS :][:CHUNK] for i in range(runs)]
    ours_lists = fresh_copies([stream[(i * CHUNK) % STREAM :][:CHUNK] for i in range(runs)])
    multi_lists = fresh_copies([stream[(i * CHUNK) % STREAM :][:CHUNK] for i in range(runs)])
    nocache_lists = fresh_copies(chunks)
    peer_lists = {name: iter(chunks) for name in ("pyjwt", "joserfc")}
    floor_chunks = iter([signed[(i * CHUNK) % TOKENS :][:CHUNK] for i in range(runs)])
    same = signed_tokens[0]
    repeated.verify(same)
    multi_repeated.verify(same)
    # A browser sends the same token again and again, but each request brings a new string.
    hits = fresh_copies([[same] * CHUNK] * runs)
    multi_hits = fresh_copies([[same] * CHUNK] * runs)

    def floor() -> None:
        for signing_input, signature in next(floor_chunks):
            public.verify(signature, signing_input, pkcs1, sha256)

    def cognises_verify() -> None:
        for token in next(ours_lists):
            shipped.verify(token)

    def cognises_multi() -> None:
        for token in next(multi_lists):
            multi.verify(token)

    def cognises_no_cache() -> None:
        for token in next(nocache_lists):
            uncached.verify(token)

    def pyjwt_verify() -> None:
        for token in next(peer_lists["pyjwt"]):
            claims: dict[str, Any] = pyjwt.decode(
                token,
                pyjwt_key,
                algorithms=["RS256"],
                audience=local.client_id,
                issuer=local.issuer,
                leeway=LEEWAY,
                options={"require": ["exp", "iss", "aud", "token_use"]},
            )
            if claims["token_use"] != "id":
                raise AssertionError

    def joserfc_verify() -> None:
        for token in next(peer_lists["joserfc"]):
            registry.validate(jose_jwt.decode(token, key_set, algorithms=["RS256"]).claims)

    def repeated_token() -> None:
        for token in next(hits):
            repeated.verify(token)

    def multi_repeated_token() -> None:
        for token in next(multi_hits):
            multi_repeated.verify(token)

    times = interleaved(
        {
            "floor": floor,
            "cognises": cognises_verify,
            "multi": cognises_multi,
            "no cache": cognises_no_cache,
            "pyjwt": pyjwt_verify,
            "joserfc": joserfc_verify,
            "hit": repeated_token,
            "multi hit": multi_repeated_token,
        },
        CHUNK,
        rounds=rounds,
        warmup=WARMUP,
    )
    # Memory stays within the bound: every token sent twice, so each is admitted.
    bounded = verifier(cache_size=CACHE_SIZE)
    for token in signed_tokens:
        bounded.verify(token)
        bounded.verify(token)
    held = len(bounded._results)

    floor_s = times["floor"]

    def ratio(name: str) -> float:
        return times[name] / floor_s

    def figure(name: str) -> str:
        return f"{ratio(name):.2f}× floor ({times[name] * 1e6:.1f} µs)"

    part1, part2 = "1 distinct tokens", "2 repeated token"
    rows = [
        Row(part1, "floor: bare RSA-2048 verify (cryptography)", figure("floor"), "1.00×", None),
        Row(
            part1,
            "cognises verify, as shipped (result cache on, every lookup a miss)",
            f"{figure('cognises')}; {len(shipped._results or ()):,} tokens cached",
            f"≤ {DISTINCT_TARGET:.2f}× floor",
            ratio("cognises") <= DISTINCT_TARGET,
        ),
        Row(
            part1,
            "MultiPoolVerifier verify, 2 pools, routed by iss (as shipped otherwise)",
            f"{figure('multi')}; routing {(times['multi'] - times['cognises']) * 1e6:+.2f} µs",
            "routing ≤ 1 µs",
            times["multi"] - times["cognises"] <= 1e-6,
        ),
        Row(
            part1,
            "cognises verify, cache_size=0 (result cache off)",
            figure("no cache"),
            f"≤ {DISTINCT_TARGET:.2f}× floor",
            ratio("no cache") <= DISTINCT_TARGET,
        ),
        Row(
            part1,
            "PyJWT decode + same checks",
            f"{figure('pyjwt')}, cognises {times['pyjwt'] / times['cognises']:.1f}× faster",
            "cognises faster",
            times["cognises"] < times["pyjwt"],
        ),
        Row(
            part1,
            "joserfc decode + JWTClaimsRegistry",
            f"{figure('joserfc')}, cognises {times['joserfc'] / times['cognises']:.1f}× faster",
            "cognises faster",
            times["cognises"] < times["joserfc"],
        ),
        Row(
            part2,
            "cognises verify, result cache hit",
            figure("hit"),
            "≤ 0.10× floor",
            ratio("hit") <= 0.1,
        ),
        Row(
            part2,
            "MultiPoolVerifier (2 pools), result cache hit",
            f"{figure('multi hit')}; routing {(times['multi hit'] - times['hit']) * 1e6:+.2f} µs",
            "routing ≤ 1 µs",
            times["multi hit"] - times["hit"] <= 1e-6,
        ),
        Row(
            part2,
            f"result cache after {TOKENS:,} distinct tokens, each sent twice",
            f"{held:,} entries",
            f"= bound ({CACHE_SIZE:,})",
            held == CACHE_SIZE,
        ),
    ]
    from benchmarks._online import run as online_rows  # needs moto, as the tests do

    return [*rows, *online_rows()]
