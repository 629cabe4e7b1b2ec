"""``CognitoVerifier``: checks a token against one user pool and its app clients."""

from __future__ import annotations

import ipaddress
import logging
import math
import time
from collections.abc import Iterable
from typing import Any, Literal
from urllib.parse import urlsplit

from cryptography.hazmat.primitives.asymmetric.rsa import RSAPublicKey

from cognises._checks import ClaimRules, check_claims
from cognises._claims import Claims
from cognises._hook import Check, IsRevoked
from cognises._names import check_region, check_regions, check_user_pool_id, issuers_for
from cognises._results import HANDLE_SIZE, ResultCache
from cognises._token import MAX_TOKEN_SIZE, check_signature, decode_object, parse
from cognises.aio._after import after_checks
from cognises.aio._jwks import JWKSCache
from cognises.aio._online import OnlineCheck
from cognises.errors import ConfigurationError

__all__ = ["CognitoVerifier", "VerifierCore", "check_jwks_url"]

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
    elsewhere (a local emulator) while the issuers stay the pool's real ones.
    ``cache_size``: how many verified tokens to remember (0 turns that off).

    ``region`` must be an AWS region name and ``user_pool_id`` a pool id of that region
    (``<region>_<id>``). Tokens must name the pool in either of Cognito's issuer forms,
    ``https://cognito-idp.<region>.amazonaws.com/<pool>`` (original) or
    ``https://issuer-cognito-idp.<region>.amazonaws.com/<pool>`` (updated): the
    ``issuers`` attribute holds every accepted one. ``additional_regions``: the regions
    the pool is replicated to, whose endpoints issue the original form under their own
    region. ``issuer``: accept exactly this one instead (a local emulator's). Either way
    the keys come from one URL, by default under the original form of ``region``.

    ``audiences``: the resources (RFC 8707 resource indicators) this server is; an access
    token must then carry an ``aud`` naming one of them, besides an accepted
    ``client_id``. None: an access token's ``aud`` is only checked for type.

    ``check``: a function ``check(header, claims)`` (or an ``async def``) run after every
    built-in check, on every verification, result-cache hits included. It returns None,
    or raises ``TokenError`` (401) or ``PermissionDenied`` (403) to refuse; anything else
    it raises goes up as the bug it is. An async check makes ``verify_cached`` return None
    every time (``fetch_and_verify`` awaits it); on the sync verifier it then runs on
    cognises' own event loop, so give the sync verifier a plain function.

    ``is_revoked``: a function ``is_revoked(claims)`` (or an ``async def``) returning True
    to refuse the token with ``RevokedTokenError``, False to let it on; run, like
    ``check``, on every verification, before ``check``. A ``Denylist`` is one.
    ``online_check``: an ``OnlineCheck`` asking Cognito (``GetUser``) whether an access
    token still stands, at most once per token per its ``ttl``; needs
    ``token_use="access"``. Its cached answers cost nothing on the caller's thread; a
    token it must ask about makes ``verify_cached`` return None.
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
        additional_regions: str | Iterable[str] = (),
        jwks_cache: JWKSCache | None = None,
        cache_size: int = 1024,
        max_token_size: int = MAX_TOKEN_SIZE,
        allow_insecure_jwks_url: bool = False,
        audiences: str | Iterable[str] | None = None,
        check: Check | None = None,
        is_revoked: IsRevoked | None = None,
        online_check: OnlineCheck | None = None,
    ) -> None:
        check_region(region, "region")
        check_user_pool_id(user_pool_id, "user_pool_id", region=region)
        replicas = check_regions(additional_regions, "additional_regions")
        if issuer is not None and (not isinstance(issuer, str) or not issuer or replicas):
            raise ConfigurationError(
                "expected issuer to be a non-empty string and no additional_regions with it, "
                f"found {issuer!r} and {sorted(replicas)}"
            )
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
        resources = _audience_set(audiences, token_use)
        after = after_checks(
            is_revoked=is_revoked,
            online=online_check,
            check=check,
            region=region,
            token_use=token_use,
        )
        if clients is None:
            log.warning(
                "CognitoVerifier for %s accepts tokens of every app client of the pool; "
                "pass client_ids to accept only your own (in Flask: COGNISES_CLIENT_IDS, or "
                "login_check(region, pool_id, client_ids=[...]))",
                user_pool_id,
            )
        self.region = region
        self.user_pool_id = user_pool_id
        self.additional_regions = replicas
        self.issuer = issuer or f"https://cognito-idp.{region}.amazonaws.com/{user_pool_id}"
        # Every iss this verifier accepts: what MultiPoolVerifier routes by.
        self.issuers = (
            frozenset([issuer]) if issuer else issuers_for(region, user_pool_id, replicas)
        )
        self.jwks_url = jwks_url or f"{self.issuer}/.well-known/jwks.json"
        check_jwks_url(self.jwks_url, allow_insecure=allow_insecure_jwks_url)
        self.rules = ClaimRules(
            issuers=self.issuers,
            token_use=token_use,
            client_ids=clients,
            leeway=float(leeway),
            audiences=resources,
        )
        self.check = check
        self.is_revoked = is_revoked
        self.online_check = online_check
        self._after = after
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

        Returns None when the keys must be fetched first, or the check is async (then call
        ``fetch_and_verify``). Raises like ``verify`` otherwise.
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
                    after = self._after
                    if after is not None and not after.run_now(token, claims):
                        return None
                    return claims
                results.discard(handle, token)
        kid, signing_input, payload, signature = parse(token, max_size=self.max_token_size)
        key = self.jwks_cache.cached_key(self.jwks_url, kid)
        if key is None:
            return None
        after = self._after
        if after is not None and after.always_await:
            return None
        claims = self._finish(token, handle, kid, signing_input, payload, signature, key, now)
        if after is not None and not after.run_now(token, claims):
            return None
        return claims

    def retry_after(self) -> float:
        """Seconds until a failed fetch of the pool's keys may be retried (0: now)."""
        return self.jwks_cache.retry_after(self.jwks_url)

    async def fetch_and_verify(self, token: str | bytes) -> Claims:
        """The slow path of ``verify``: fetch keys as the JWKS rules allow, then verify.

        For frameworks that run ``verify_cached`` themselves and await this only when it
        returns None.
        """
        claims = None
        after = self._after
        if after is not None and self._results is not None and type(token) in _TOKEN_TYPES:
            # verify_cached may have left a result-cache hit to us, for the hooks.
            claims = self._recall(token, token[-HANDLE_SIZE:], time.time())
        if claims is None:
            kid, signing_input, payload, signature = parse(token, max_size=self.max_token_size)
            key = await self.jwks_cache.get_key(self.jwks_url, kid)
            handle = token[-HANDLE_SIZE:] if self._results is not None else None  # parse checked it
            now = time.time()
            claims = self._finish(token, handle, kid, signing_input, payload, signature, key, now)
        if after is not None:
            await after.run(token, claims)
        return claims

    def _recall(self, token: str | bytes, handle: str | bytes, now: float) -> Claims | None:
        """The claims of a result-cache hit, else None (``verify_cached`` inlines this)."""
        results = self._results
        if results is None:
            return None
        hit = results.get(handle)
        if hit is not None and hit[0] == token:
            _, claims, valid_until, signer_kid, signer = hit
            if now < valid_until and self.jwks_cache.current(self.jwks_url, signer_kid) is signer:
                results.touch(handle)
                return claims
            results.discard(handle, token)
        return None

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
        payload: dict[str, Any] | None = None,
    ) -> Claims:
        """Check the signature, then the claims; ``payload``: the segment, when decoded."""
        check_signature(kid, signing_input, signature, key)
        if payload is None:
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


def _audience_set(
    audiences: str | Iterable[str] | None, token_use: str | None
) -> frozenset[str] | None:
    if audiences is None:
        return None
    if token_use == "id":
        raise ConfigurationError(
            "expected audiences only with token_use 'access' or None: an ID token's aud is "
            "its app client (client_ids), not a resource"
        )
    values = frozenset([audiences] if isinstance(audiences, str) else audiences)
    if not values or not all(isinstance(a, str) and a for a in values):
        raise ConfigurationError(
            f"expected audiences to be non-empty strings, found {sorted(map(repr, values))}"
        )
    return values


def check_jwks_url(url: str, *, allow_insecure: bool, name: str = "jwks_url") -> None:
    """Raise ``ConfigurationError`` unless ``url`` may serve a pool's keys (see SECURITY.md)."""
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
