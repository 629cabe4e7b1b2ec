"""``CognitoVerifier``: checks a token against one user pool and its app clients."""

from __future__ import annotations

import ipaddress
import logging
import math
import time
from collections.abc import Iterable
from typing import Literal
from urllib.parse import urlsplit

from cryptography.hazmat.primitives.asymmetric.rsa import RSAPublicKey

from cognises._checks import ClaimRules, check_claims
from cognises._claims import Claims
from cognises._results import HANDLE_SIZE, ResultCache
from cognises._token import MAX_TOKEN_SIZE, check_signature, decode_object, parse
from cognises.aio._jwks import JWKSCache
from cognises.errors import ConfigurationError

__all__ = ["CognitoVerifier", "VerifierCore"]

log = logging.getLogger("cognises")

_TOKEN_TYPES = (str, bytes)
_adopt = Claims._adopt


class VerifierCore:
    """Configuration, caches and the hot path shared by the async and the sync verifier.

    Verifies Cognito ID and access tokens of one user pool.

    ``client_ids``: the app clients whose tokens are accepted (``aud`` of ID tokens,
    ``client_id`` of access tokens); None accepts every client of the pool, with a
    warning. ``token_use``: "id", "access", or None for either. ``leeway``: seconds of
    clock skew allowed on ``exp``, ``nbf`` and ``iat``. ``jwks_url`` points the key fetch
    elsewhere (a local emulator) while ``issuer`` stays the pool's real one.
    ``cache_size``: how many verified tokens to remember (0 turns that off).
    """

    def __init__(
        self,
        region: str,
        user_pool_id: str,
        *,
        client_ids: str | Iterable[str] | None = None,
        token_use: Literal["id", "access"] | None = None,
        leeway: float = 5.0,
        jwks_url: str | None = None,
        issuer: str | None = None,
        jwks_cache: JWKSCache | None = None,
        cache_size: int = 1024,
        max_token_size: int = MAX_TOKEN_SIZE,
        allow_insecure_jwks_url: bool = False,
    ) -> None:
        if not region or not user_pool_id:
            raise ConfigurationError("expected a region and a user pool id, found an empty value")
        if token_use not in (None, "id", "access"):
            raise ConfigurationError(
                f"expected token_use 'id', 'access' or None, found {token_use!r}"
            )
        if not (math.isfinite(leeway) and leeway >= 0) or cache_size < 0 or max_token_size <= 0:
            raise ConfigurationError(
                "expected a finite leeway >= 0, cache_size >= 0 and max_token_size > 0, found "
                f"{leeway!r}, {cache_size!r} and {max_token_size!r}"
            )
        clients = _client_set(client_ids)
        if clients is None:
            log.warning(
                "CognitoVerifier for %s accepts tokens of every app client of the pool; "
                "pass client_ids to accept only your own",
                user_pool_id,
            )
        self.region = region
        self.user_pool_id = user_pool_id
        self.issuer = issuer or f"https://cognito-idp.{region}.amazonaws.com/{user_pool_id}"
        self.jwks_url = jwks_url or f"{self.issuer}/.well-known/jwks.json"
        _check_url(self.jwks_url, allow_insecure=allow_insecure_jwks_url)
        self.rules = ClaimRules(
            issuer=self.issuer, token_use=token_use, client_ids=clients, leeway=float(leeway)
        )
        self.jwks_cache = jwks_cache or JWKSCache()
        self.max_token_size = max_token_size
        self._results = ResultCache(cache_size) if cache_size else None

    def __repr__(self) -> str:
        return (
            f"CognitoVerifier(region={self.region!r}, user_pool_id={self.user_pool_id!r}, "
            f"token_use={self.rules.token_use!r})"
        )

    def verify_cached(self, token: str | bytes) -> Claims | None:
        """Verify with the keys already cached, on the caller's thread, without awaiting.

        Returns None when the keys must be fetched first (then call ``verify``). Raises
        like ``verify`` otherwise.
        """
        now = time.time()
        results = self._results
        handle = None
        # Only str and bytes are looked up (parse refuses the rest). Size does not matter
        # here: the handle is short whatever the token, and a hit compares lengths first.
        if results is not None and type(token) in _TOKEN_TYPES:
            handle = token[-HANDLE_SIZE:]
            hit = results.get(handle)
            if hit is not None and hit[0] == token:
                _, claims, valid_until, signer_kid, signer = hit
                if (
                    now < valid_until
                    and self.jwks_cache.current(self.jwks_url, signer_kid) is signer
                ):
                    results.touch(handle)
                    return claims
                results.discard(handle, token)
        kid, signing_input, payload, signature = parse(token, max_size=self.max_token_size)
        key = self.jwks_cache.cached_key(self.jwks_url, kid)
        if key is None:
            return None
        return self._finish(token, handle, kid, signing_input, payload, signature, key, now)

    async def fetch_and_verify(self, token: str | bytes) -> Claims:
        """The slow path of ``verify``: fetch keys as the JWKS rules allow, then verify.

        For frameworks that run ``verify_cached`` themselves and await this only when it
        returns None.
        """
        kid, signing_input, payload, signature = parse(token, max_size=self.max_token_size)
        key = await self.jwks_cache.get_key(self.jwks_url, kid)
        handle = token[-HANDLE_SIZE:] if self._results is not None else None  # parse checked it
        return self._finish(token, handle, kid, signing_input, payload, signature, key, time.time())

    def _finish(
        self,
        token: str | bytes,
        handle: str | bytes | None,
        kid: str,
        signing_input: bytes,
        payload_segment: bytes,
        signature: bytes,
        key: RSAPublicKey,
        now: float,
    ) -> Claims:
        check_signature(kid, signing_input, signature, key)
        payload = decode_object(payload_segment, "payload")
        rules = self.rules
        check_claims(payload, rules, now)
        claims = _adopt(payload)
        results = self._results
        if handle is not None and results is not None:
            seen = results.seen
            if handle in seen:
                results.admit(handle, (token, claims, payload["exp"] + rules.leeway, kid, key))
            elif len(seen) < results.seen_limit:
                seen.add(handle)
            else:
                results.forget_seen(handle)
        return claims


class CognitoVerifier(VerifierCore):
    __doc__ = VerifierCore.__doc__

    async def verify(self, token: str | bytes) -> Claims:
        """The token's claims if it passes every check; else raise a ``TokenError``.

        Raises ``JWKSError`` when the pool's keys cannot be had.
        """
        claims = self.verify_cached(token)
        if claims is None:
            claims = await self.fetch_and_verify(token)
        return claims

    async def hydrate(self) -> None:
        """Fetch the pool's keys now, ahead of the first request."""
        await self.jwks_cache.refresh(self.jwks_url)


def _client_set(client_ids: str | Iterable[str] | None) -> frozenset[str] | None:
    if client_ids is None:
        return None
    clients = frozenset([client_ids] if isinstance(client_ids, str) else client_ids)
    if not clients or not all(isinstance(c, str) and c for c in clients):
        raise ConfigurationError(
            f"expected client_ids to be non-empty strings, found {sorted(map(repr, clients))}"
        )
    return clients


def _check_url(url: str, *, allow_insecure: bool, name: str = "jwks_url") -> None:
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - parsed lazily; a bad port raises only here
    except ValueError as exc:
        raise ConfigurationError(f"expected a valid {name}, found {url!r} ({exc})") from None
    if not parts.hostname:
        raise ConfigurationError(f"expected a {name} with a host, found {url!r}")
    if parts.scheme == "https" or (parts.scheme == "http" and allow_insecure):
        return
    if parts.scheme == "http" and _is_loopback(parts.hostname):
        return
    raise ConfigurationError(
        f"expected an https {name} (http only for loopback hosts or with "
        f"allow_insecure_{name}=True), found {url!r}"
    )


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
