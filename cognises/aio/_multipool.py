"""``MultiPoolVerifier``: one verifier for the tokens of several user pools.

Each token goes, by its ``iss``, to the one configured pool that issued it, and that pool's
verifier makes every check of its own (keys, clients, token use, audiences, check=). The
``iss`` is read before the signature is checked, as it must be to choose the keys; it is
only ever used to look a pool up, and a token of an issuer no pool has is refused there,
without a network call. The payload is decoded once and handed on, so routing costs a
dictionary lookup, not a second decode.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterable, Mapping
from typing import Any, ClassVar

from cognises._claims import Claims
from cognises._results import HANDLE_SIZE
from cognises._show import show
from cognises._token import MAX_TOKEN_SIZE, decode_object, parse
from cognises.aio._jwks import JWKSCache
from cognises.aio._verifier import CognitoVerifier, VerifierCore
from cognises.errors import ConfigurationError, InvalidIssuerError, MissingClaimError

__all__ = ["POOL_OPTIONS", "MultiPoolCore", "MultiPoolVerifier"]

_TOKEN_TYPES = (str, bytes)
# What one pool's entry may hold: VerifierCore's own options, less those all pools share.
POOL_OPTIONS = frozenset(
    {
        "region",
        "user_pool_id",
        "client_ids",
        "token_use",
        "audiences",
        "check",
        "is_revoked",
        "online_check",
        "leeway",
        "jwks_url",
        "issuer",
        "cache_size",
        "allow_insecure_jwks_url",
    }
)


class MultiPoolCore:
    """The routing and hot path shared by the async and the sync multi-pool verifier.

    ``pools``: one mapping per user pool, of ``CognitoVerifier``'s options: ``region``
    and ``user_pool_id`` (required), ``client_ids``, ``token_use``, ``audiences``,
    ``check``, ``leeway``, ``jwks_url``, ``issuer``, ``cache_size``. Every pool keeps its
    keys in the one ``jwks_cache``, under its own JWKS URL. Two pools may not share an
    issuer: a token must have exactly one pool to go to.
    """

    verifier_class: ClassVar[type[VerifierCore]] = CognitoVerifier

    def __init__(
        self,
        pools: Iterable[Mapping[str, Any]],
        *,
        jwks_cache: JWKSCache | None = None,
        max_token_size: int = MAX_TOKEN_SIZE,
    ) -> None:
        if isinstance(pools, Mapping) or not isinstance(pools, Iterable):
            raise ConfigurationError(
                f"expected a list of pool configurations, found {type(pools).__name__}"
            )
        self.jwks_cache = jwks_cache or JWKSCache()
        self.max_token_size = max_token_size
        made: list[VerifierCore] = []
        by_issuer: dict[str, VerifierCore] = {}
        for number, options in enumerate(pools):
            pool = self._make_pool(number, options)
            for issuer in pool.issuers:
                if issuer in by_issuer:
                    raise ConfigurationError(
                        f"pools {made.index(by_issuer[issuer])} and {number} share the issuer "
                        f"{issuer!r}: merge them into one pool with both client ids"
                    )
                by_issuer[issuer] = pool
            made.append(pool)
        if not made:
            raise ConfigurationError("expected at least one pool configuration, found none")
        self.pools: tuple[VerifierCore, ...] = tuple(made)
        self._by_issuer = by_issuer
        self._caching = tuple((pool, pool._results) for pool in made if pool._results is not None)

    def _make_pool(self, number: int, options: Mapping[str, Any]) -> VerifierCore:
        if not isinstance(options, Mapping):
            raise ConfigurationError(
                f"pool {number}: expected a mapping of options, found {type(options).__name__}"
            )
        unknown = sorted(set(options) - POOL_OPTIONS)
        if unknown:
            raise ConfigurationError(
                f"pool {number}: expected options among {sorted(POOL_OPTIONS)}, found {unknown}"
            )
        if "region" not in options or "user_pool_id" not in options:
            raise ConfigurationError(
                f"pool {number}: expected a region and a user_pool_id, found {sorted(options)}"
            )
        rest = {k: v for k, v in options.items() if k not in ("region", "user_pool_id")}
        return self.verifier_class(
            options["region"],
            options["user_pool_id"],
            jwks_cache=self.jwks_cache,
            max_token_size=self.max_token_size,
            **rest,
        )

    def __repr__(self) -> str:
        pools = ", ".join(repr(pool.user_pool_id) for pool in self.pools)
        return f"MultiPoolVerifier(pools=[{pools}])"

    @property
    def issuers(self) -> frozenset[str]:
        """Every issuer some pool accepts."""
        return frozenset(self._by_issuer)

    def pool_for(self, payload: Mapping[str, Any]) -> VerifierCore:
        """The pool whose issuer is the (not yet verified) ``iss`` of ``payload``."""
        iss = payload.get("iss")
        pool = self._by_issuer.get(iss) if type(iss) is str else None
        if pool is None:
            if iss is None:
                raise MissingClaimError("expected an iss claim, found none", claim="iss")
            raise InvalidIssuerError(
                f"expected iss to be one of {sorted(self._by_issuer)}, found {show(iss)}",
                claim="iss",
            )
        return pool

    def verify_cached(self, token: str | bytes) -> Claims | None:
        """As ``CognitoVerifier.verify_cached``, for whichever pool issued the token."""
        now = time.time()
        handle = None
        if type(token) in _TOKEN_TYPES:
            handle = token[-HANDLE_SIZE:]
            # Every pool's result cache, as a dict lookup each: only a handle found there
            # costs a call.
            for cached, results in self._caching:
                if handle in results:
                    claims = cached._recall(token, handle, now)
                    if claims is not None:
                        return self._checked(cached, token, claims)
        kid, signing_input, segment, signature = parse(token, max_size=self.max_token_size)
        payload = decode_object(segment, "payload")
        iss = payload.get("iss")
        pool = self._by_issuer.get(iss) if type(iss) is str else None
        if pool is None:
            pool = self.pool_for(payload)  # raises, naming what is wrong
        key = self.jwks_cache.cached_key(pool.jwks_url, kid)
        if key is None or (pool._after is not None and pool._after.always_await):
            return None
        if pool._results is None:
            handle = None
        claims = pool._finish(
            token, handle, kid, signing_input, segment, signature, key, now, payload
        )
        return self._checked(pool, token, claims)

    @staticmethod
    def _checked(pool: VerifierCore, token: str | bytes, claims: Claims) -> Claims | None:
        after = pool._after
        if after is None or after.run_now(token, claims):
            return claims
        return None  # fetch_and_verify awaits the pool's hooks

    async def fetch_and_verify(self, token: str | bytes) -> Claims:
        """The slow path of ``verify``: the issuing pool fetches its keys, then verifies."""
        _, _, segment, _ = parse(token, max_size=self.max_token_size)
        pool = self.pool_for(decode_object(segment, "payload"))
        return await pool.fetch_and_verify(token)

    def retry_after(self) -> float:
        """Seconds until every pool whose key fetch failed may fetch again."""
        return max(pool.retry_after() for pool in self.pools)

    async def _hydrate(self) -> None:
        await asyncio.gather(*(self.jwks_cache.refresh(pool.jwks_url) for pool in self.pools))


class MultiPoolVerifier(MultiPoolCore):
    __doc__ = MultiPoolCore.__doc__

    async def verify(self, token: str | bytes) -> Claims:
        """The token's claims if the pool that issued it accepts it; else raise ``TokenError``.

        Raises ``JWKSError`` when that pool's keys cannot be had.
        """
        claims = self.verify_cached(token)
        if claims is None:
            claims = await self.fetch_and_verify(token)
        return claims

    async def hydrate(self) -> None:
        """Fetch every pool's keys now, ahead of the first request."""
        await self._hydrate()
