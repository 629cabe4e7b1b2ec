"""What cognises keeps for one Flask app, in ``app.extensions["cognises"]``.

Made by ``Cognises.init_app``, or on the first request to a protected view of an app that
has no extension (the seed's ``login_check(region, pool)`` needs none). Verifiers are made
lazily, one per distinct pool configuration, and every verifier of an app shares the app's
one ``JWKSCache``. Per app and not process-wide, so that two apps in one process (or two
test apps) never share keys, handlers or trusted test issuers.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from flask import Flask

from cognises.aio._jwks import JWKSCache
from cognises.errors import ConfigurationError
from cognises.flask._config import PoolConfig, PoolSpec, RequestConfig
from cognises.flask._token_source import TokenSource
from cognises.sync import CognitoVerifier

if TYPE_CHECKING:
    from cognises.flask._extension import Cognises

__all__ = ["EXTENSION_KEY", "AppState", "Binding", "attach", "state_for"]

EXTENSION_KEY = "cognises"

_states_lock = threading.Lock()


@dataclass(frozen=True)
class Binding:
    """One ``login_check`` spec resolved against one app: all a request needs."""

    verifier: CognitoVerifier
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
        self._bindings: dict[PoolSpec, Binding] = {}
        self._trusted: dict[str, Any] = {}
        # The sign-in flow's state (a cognises.flask._signin.SignIn), once its blueprint
        # is registered on the app.
        self.signin: Any = None

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
                verifier = self._verifier(spec.resolve(config), config)
                binding = Binding(
                    verifier=verifier,
                    source=requests.source,
                    realm=requests.realm or verifier.user_pool_id,
                    exempt_options=requests.exempt_options,
                )
                self._bindings[spec] = binding
            return binding

    def trust(self, issuer: str, jwks: Any, config: Mapping[str, Any]) -> None:
        """Serve ``jwks`` to every verifier of ``issuer``, now and later, without fetching."""
        with self._lock:
            cache = self._cache(config)
            self._trusted[issuer] = jwks
            for verifier in self._verifiers.values():
                if verifier.issuer == issuer:
                    cache.load(verifier.jwks_url, jwks)

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
            )
            trusted = self._trusted.get(verifier.issuer)
            if trusted is not None:
                cache.load(verifier.jwks_url, trusted)
            self._verifiers[pool] = verifier
        return verifier

    def _cache(self, config: Mapping[str, Any]) -> JWKSCache:
        if self._jwks_cache is None:
            cache = config.get("COGNISES_JWKS_CACHE")
            if cache is not None and not isinstance(cache, JWKSCache):
                raise ConfigurationError(
                    f"COGNISES_JWKS_CACHE: expected a JWKSCache, found {type(cache).__name__}"
                )
            self._jwks_cache = cache or JWKSCache()
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
