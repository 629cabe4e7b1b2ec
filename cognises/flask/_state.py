"""What cognises keeps for one Flask app, in ``app.extensions["cognises"]``.

Made by ``Cognises.init_app``, or on the first request to a protected view of an app that
has no extension (the seed's ``login_check(region, pool)`` needs none). Verifiers are made
lazily, one per distinct pool configuration, and every verifier of an app shares the app's
one ``JWKSCache``. Per app and not process-wide, so that two apps in one process (or two
test apps) never share keys, handlers or trusted test issuers.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar, cast

from flask import Flask

from cognises.aio._jwks import JWKSCache
from cognises.aio._verifier import VerifierCore
from cognises.errors import ConfigurationError
from cognises.flask._config import PoolConfig, PoolSpec, RequestConfig, jwks_cache_of, pool_list
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

    def memo(self, key: Hashable, make: Callable[[], T]) -> T:
        """The app's one object under ``key``, made by ``make()`` on first use."""
        found = self._memo.get(key)
        if found is None:
            with self._lock:
                found = self._memo.get(key)
                if found is None:
                    found = self._memo[key] = make()
        return cast(T, found)

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
                verifier = self._multi_verifier(spec, config) or self._verifier(
                    spec.resolve(config), config
                )
                first = verifier.pools[0] if isinstance(verifier, MultiPoolVerifier) else verifier
                binding = Binding(
                    verifier=verifier,
                    source=requests.source,
                    realm=requests.realm or first.user_pool_id,
                    exempt_options=requests.exempt_options,
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
            verifier = CognitoVerifier(
                pool.region,
                pool.user_pool_id,
                client_ids=pool.client_ids,
                token_use=pool.token_use,
                jwks_url=pool.jwks_url,
                jwks_cache=cache,
                additional_regions=pool.additional_regions,
                audiences=pool.audiences,
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
