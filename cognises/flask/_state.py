"""What cognises keeps for one Flask app, in ``app.extensions["cognises"]``.

Made by ``Cognises.init_app``, or on the first request to a protected view of an app that
has no extension (the seed's ``login_check(region, pool)`` needs none). Verifiers are made
lazily, one per distinct pool configuration, and every verifier of an app shares the app's
one ``JWKSCache``. Per app and not process-wide, so that two apps in one process (or two
test apps) never share keys, handlers or trusted test issuers.
"""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Callable, Hashable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar, cast

from flask import Flask

from cognises._claims import Claims
from cognises.aio._alb_keys import AlbKeyCache
from cognises.aio._jwks import JWKSCache
from cognises.aio._verifier import VerifierCore
from cognises.errors import ConfigurationError
from cognises.flask._alb import ALB_LOCATION, AlbBinding
from cognises.flask._config import PoolConfig, PoolSpec, RequestConfig, jwks_cache_of, pool_list
from cognises.flask._freshness import Freshness, freshness_of
from cognises.flask._token_source import TokenSource
from cognises.sync import CognitoVerifier, MultiPoolVerifier

if TYPE_CHECKING:
    from cognises.flask._extension import Cognises

__all__ = ["EXTENSION_KEY", "AppState", "Binding", "attach", "state_for"]

EXTENSION_KEY = "cognises"

T = TypeVar("T")

_states_lock = threading.Lock()


@dataclass(frozen=True)
class Binding:
    """One ``login_check`` spec resolved against one app: all a request needs."""

    verifier: CognitoVerifier | MultiPoolVerifier
    source: TokenSource
    realm: str
    exempt_options: bool
    alb: AlbBinding | None = None
    """Set behind an ALB: the request's ALB headers are verified instead of a bearer token."""

    def verify(self, token: str) -> Claims:
        return self.alb.verify(token) if self.alb is not None else self.verifier.verify(token)

    def verify_cached(self, token: str) -> Claims | None:
        if self.alb is not None:
            return self.alb.verify_cached(token)
        return self.verifier.verify_cached(token)

    async def fetch_and_verify(self, token: str) -> Claims:
        if self.alb is not None:
            return await self.alb.fetch_and_verify(token)
        return await self.verifier.fetch_and_verify(token)

    def retry_after(self) -> float:
        """Seconds until a failed key fetch may be retried (for a 503's Retry-After)."""
        if self.alb is not None:
            return self.alb.retry_after()
        return self.verifier.retry_after()


class AppState:
    """Verifiers, the JWKS cache and the extension (if any) of one app."""

    def __init__(self, extension: Cognises | None = None) -> None:
        self.extension = extension
        # Reentrant: making a binding makes a verifier, which may load trusted keys.
        self._lock = threading.RLock()
        self._jwks_cache: JWKSCache | None = None
        self._request_config: RequestConfig | None = None
        self._verifiers: dict[PoolConfig, CognitoVerifier] = {}
        self._multi: MultiPoolVerifier | None = None
        self._bindings: dict[PoolSpec, Binding] = {}
        self._trusted: dict[str, Any] = {}
        # Set once the app's permission names were looked at (flask/_endpoints.py).
        self.permission_names_checked = False
        self._memo: dict[Hashable, Any] = {}
        self._alb_caches: dict[str, AlbKeyCache] = {}
        # The sign-in flow's state (a cognises.flask._signin.SignIn), once its blueprint
        # is registered on the app.
        self.signin: Any = None

    def memo(self, key: Hashable, make: Callable[[], T]) -> T:
        """The app's one object under ``key``, made by ``make()`` on first use."""
        found = self._memo.get(key)
        if found is None:
            with self._lock:
                found = self._memo.get(key)
                if found is None:
                    found = self._memo[key] = make()
        return cast(T, found)

    def freshness(self, config: Mapping[str, Any]) -> Freshness:
        """The app's revocation and freshness settings (flask/_freshness.py), read once."""
        extension = self.extension

        def read() -> Freshness:
            loader = None
            if extension is not None:
                # A loader registered after this would never run: refuse it from now on.
                extension.revocation_frozen = True
                loader = extension.revocation_loader_callback
            return freshness_of(config, loader)

        return self.memo("freshness", read)

    def binding(self, spec: PoolSpec, config: Mapping[str, Any]) -> Binding:
        """The binding for ``spec``: made (and the config checked) on first use only."""
        binding = self._bindings.get(spec)
        if binding is not None:
            return binding
        with self._lock:
            binding = self._bindings.get(spec)
            if binding is None:
                if self._request_config is None:
                    self._request_config = RequestConfig.from_config(config)
                requests = self._request_config
                multi = self._multi_verifier(spec, config)
                pool = spec.resolve(config) if multi is None else None
                behind_alb = ALB_LOCATION in requests.source.locations
                if behind_alb and multi is not None:
                    raise ConfigurationError(
                        "COGNISES_TOKEN_LOCATION 'alb' verifies the access token of one pool "
                        "(COGNISES_REGION, COGNISES_USER_POOL_ID), not of COGNISES_POOLS"
                    )
                if behind_alb and pool is not None:
                    # The pool's token behind an ALB is its access token, whatever else
                    # the config says about token_use.
                    pool = dataclasses.replace(pool, token_use="access")
                verifier = multi or self._verifier(pool, config)  # type: ignore[arg-type]
                first = verifier.pools[0] if isinstance(verifier, MultiPoolVerifier) else verifier
                binding = Binding(
                    verifier=verifier,
                    source=requests.source,
                    realm=requests.realm or first.user_pool_id,
                    exempt_options=requests.exempt_options,
                    alb=(
                        AlbBinding(config, verifier, self._alb_caches)  # type: ignore[arg-type]
                        if behind_alb
                        else None
                    ),
                )
                self._bindings[spec] = binding
            return binding

    def trust(self, issuer: str, jwks: Any, config: Mapping[str, Any]) -> None:
        """Serve ``jwks`` to every verifier of ``issuer``, now and later, without fetching."""
        with self._lock:
            cache = self._cache(config)
            self._trusted[issuer] = jwks
            pools: list[VerifierCore] = list(self._verifiers.values())
            if self._multi is not None:
                pools.extend(self._multi.pools)
            for verifier in pools:
                if issuer in verifier.issuers:
                    cache.load(verifier.jwks_url, jwks)

    def _multi_verifier(
        self, spec: PoolSpec, config: Mapping[str, Any]
    ) -> MultiPoolVerifier | None:
        """The verifier of ``COGNISES_POOLS`` when ``spec`` is ``login_check()``'s, if set."""
        if spec.region is not None:
            return None
        pools = pool_list(config)
        if pools is None:
            return None
        if spec != PoolSpec():
            raise ConfigurationError(
                "login_check() with COGNISES_POOLS takes every option from each pool's "
                f"entry; found options given to it as well: {spec!r}"
            )
        if self._multi is None:
            fresh = self.freshness(config)
            hooks = {"is_revoked": fresh.is_revoked, "online_check": fresh.online_check}
            pools = [{**{k: v for k, v in hooks.items() if v is not None}, **p} for p in pools]
            try:
                multi = MultiPoolVerifier(pools, jwks_cache=self._cache(config))
            except ConfigurationError as exc:
                raise ConfigurationError(f"COGNISES_POOLS: {exc}") from None
            for pool in multi.pools:
                for issuer in pool.issuers:
                    trusted = self._trusted.get(issuer)
                    if trusted is not None:
                        multi.jwks_cache.load(pool.jwks_url, trusted)
            self._multi = multi
        return self._multi

    def _verifier(self, pool: PoolConfig, config: Mapping[str, Any]) -> CognitoVerifier:
        verifier = self._verifiers.get(pool)
        if verifier is None:
            cache = self._cache(config)
            fresh = self.freshness(config)
            verifier = CognitoVerifier(
                pool.region,
                pool.user_pool_id,
                client_ids=pool.client_ids,
                token_use=pool.token_use,
                jwks_url=pool.jwks_url,
                jwks_cache=cache,
                additional_regions=pool.additional_regions,
                audiences=pool.audiences,
                is_revoked=fresh.is_revoked,
                online_check=fresh.online_check,
            )
            for issuer, trusted in self._trusted.items():
                if issuer in verifier.issuers:
                    cache.load(verifier.jwks_url, trusted)
            self._verifiers[pool] = verifier
        return verifier

    def _cache(self, config: Mapping[str, Any]) -> JWKSCache:
        if self._jwks_cache is None:
            self._jwks_cache = jwks_cache_of(config) or JWKSCache()
        return self._jwks_cache


def attach(app: Flask, extension: Cognises) -> AppState:
    """Give ``app`` to ``extension``, keeping any state made before ``init_app``."""
    with _states_lock:
        state = app.extensions.get(EXTENSION_KEY)
        if state is None:
            state = app.extensions[EXTENSION_KEY] = AppState(extension)
        elif not isinstance(state, AppState):
            raise ConfigurationError(
                f"app.extensions[{EXTENSION_KEY!r}] already holds a {type(state).__name__}"
            )
        elif state.extension is None:
            state.extension = extension
        elif state.extension is not extension:
            raise ConfigurationError(
                f"app {app.name!r} was already initialised by another Cognises extension"
            )
        return state


def state_for(app: Flask) -> AppState:
    """The app's state, made on first use for apps that have no ``Cognises`` extension."""
    state = app.extensions.get(EXTENSION_KEY)
    if state is None:
        with _states_lock:
            state = app.extensions.setdefault(EXTENSION_KEY, AppState())
    if not isinstance(state, AppState):
        raise ConfigurationError(
            f"app.extensions[{EXTENSION_KEY!r}] holds a {type(state).__name__}, not cognises' state"
        )
    return state
