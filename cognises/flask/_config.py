"""The ``COGNISES_*`` keys of a Flask app's config, and what a ``login_check`` call asked for.

Config is read once per app, on the first request a protected view serves (or the first
``Cognises.get_verifier`` call), and checked then: a wrong value is a ``ConfigurationError``
naming the key.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Literal, TypeAlias

from cognises.errors import ConfigurationError
from cognises.flask._token_source import LOCATIONS, TokenSource

__all__ = [
    "UNSET",
    "PoolConfig",
    "PoolSpec",
    "RequestConfig",
    "TokenUse",
    "Unset",
    "client_id_set",
]

TokenUse: TypeAlias = Literal["id", "access"] | None

DEFAULT_TOKEN_USE: TokenUse = "id"
DEFAULT_LOCATIONS = ("header", "cookie")
DEFAULT_COOKIE_NAME = "token_cookie"  # the seed's cookie
DEFAULT_HEADER_NAME = "Authorization"
DEFAULT_HEADER_SCHEME = "Bearer"


class Unset(enum.Enum):
    """Marks a ``login_check`` option that was not given: the app's config decides."""

    UNSET = "unset"

    # Identity hashing, in C: Enum's own __hash__ is Python code, and every request hashes
    # the PoolSpec that holds these to find its binding.
    __hash__ = object.__hash__

    def __repr__(self) -> str:
        return "<from the app's config>"


UNSET = Unset.UNSET


@dataclass(frozen=True)
class PoolConfig:
    """Everything a verifier is made from; apps keep one verifier per distinct value."""

    region: str
    user_pool_id: str
    client_ids: frozenset[str] | None
    token_use: TokenUse
    jwks_url: str | None


@dataclass(frozen=True)
class PoolSpec:
    """What one ``login_check(...)`` call asked for; ``UNSET`` fields come from the config.

    Arguments given to ``login_check`` win. With no region and pool, the pool is the one
    in ``COGNISES_REGION`` and ``COGNISES_USER_POOL_ID``. With a region and pool of its
    own, ``COGNISES_CLIENT_IDS`` and ``COGNISES_JWKS_URL`` are used only when the config
    names that same pool: they belong to a pool, and another pool's keys or clients would
    reject every token.
    """

    region: str | None = None
    user_pool_id: str | None = None
    client_ids: frozenset[str] | Unset | None = UNSET
    token_use: TokenUse | Unset = UNSET
    jwks_url: str | Unset | None = UNSET

    @classmethod
    def from_arguments(
        cls,
        region: object,
        user_pool_id: object,
        *,
        client_ids: str | Iterable[str] | Unset | None,
        token_use: TokenUse | Unset,
        jwks_url: str | Unset | None,
    ) -> PoolSpec:
        if (region is None) != (user_pool_id is None):
            raise ConfigurationError(
                "login_check: expected both cognito_pool_region and cognito_pool_id, or "
                "neither (to use COGNISES_REGION and COGNISES_USER_POOL_ID), found only one"
            )
        for name, value in (("cognito_pool_region", region), ("cognito_pool_id", user_pool_id)):
            if value is not None and (not isinstance(value, str) or not value):
                raise ConfigurationError(
                    f"login_check: expected {name} to be a non-empty string, found {value!r}"
                )
        if not isinstance(token_use, Unset):
            _check_token_use(token_use, "login_check: token_use")
        if not isinstance(jwks_url, (Unset, type(None), str)):
            raise ConfigurationError(
                f"login_check: expected jwks_url to be a string, found {type(jwks_url).__name__}"
            )
        clients = (
            client_ids
            if isinstance(client_ids, Unset)
            else client_id_set(client_ids, "login_check: client_ids")
        )
        return cls(
            region=region if isinstance(region, str) else None,
            user_pool_id=user_pool_id if isinstance(user_pool_id, str) else None,
            client_ids=clients,
            token_use=token_use,
            jwks_url=jwks_url,
        )

    def resolve(self, config: Mapping[str, Any]) -> PoolConfig:
        """The pool this spec means under ``config``."""
        config_region = _optional_str(config, "COGNISES_REGION")
        config_pool = _optional_str(config, "COGNISES_USER_POOL_ID")
        if self.region is None or self.user_pool_id is None:
            if config_region is None or config_pool is None:
                raise ConfigurationError(
                    "login_check() without a region and pool reads COGNISES_REGION and "
                    "COGNISES_USER_POOL_ID from the app's config; expected both, found "
                    f"COGNISES_REGION={config_region!r}, COGNISES_USER_POOL_ID={config_pool!r}"
                )
            region, pool, same_pool = config_region, config_pool, True
        else:
            region, pool = self.region, self.user_pool_id
            same_pool = pool == config_pool and config_region in (None, region)
        client_ids = self.client_ids
        if isinstance(client_ids, Unset):
            client_ids = (
                client_id_set(config.get("COGNISES_CLIENT_IDS"), "COGNISES_CLIENT_IDS")
                if same_pool
                else None
            )
        jwks_url = self.jwks_url
        if isinstance(jwks_url, Unset):
            jwks_url = _optional_str(config, "COGNISES_JWKS_URL") if same_pool else None
        token_use = self.token_use
        if isinstance(token_use, Unset):
            token_use = config.get("COGNISES_TOKEN_USE", DEFAULT_TOKEN_USE)
            _check_token_use(token_use, "COGNISES_TOKEN_USE")
        return PoolConfig(region, pool, client_ids, token_use, jwks_url)


@dataclass(frozen=True)
class RequestConfig:
    """How requests are read and answered: the same for every protected view of an app."""

    source: TokenSource
    exempt_options: bool
    realm: str | None

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> RequestConfig:
        locations = config.get("COGNISES_TOKEN_LOCATION", DEFAULT_LOCATIONS)
        if isinstance(locations, str):
            locations = (locations,)
        if (
            not isinstance(locations, Iterable)
            or not (locations := tuple(locations))
            or not all(isinstance(x, str) and x in LOCATIONS for x in locations)
        ):
            raise ConfigurationError(
                f"COGNISES_TOKEN_LOCATION: expected one or more of {sorted(LOCATIONS)}, "
                f"found {locations!r}"
            )
        if "alb" in locations and len(locations) > 1:
            # Behind an ALB the ALB's headers are the credential; a bearer token beside
            # them would be a second, weaker way in.
            raise ConfigurationError(
                f"COGNISES_TOKEN_LOCATION: expected 'alb' alone, found {locations!r}"
            )
        exempt = config.get("COGNISES_EXEMPT_OPTIONS", True)
        if not isinstance(exempt, bool):
            raise ConfigurationError(
                f"COGNISES_EXEMPT_OPTIONS: expected True or False, found {exempt!r}"
            )
        source = TokenSource(
            locations=locations,
            cookie_name=_str(config, "COGNISES_COOKIE_NAME", DEFAULT_COOKIE_NAME),
            header_name=_str(config, "COGNISES_HEADER_NAME", DEFAULT_HEADER_NAME),
            scheme=_str(config, "COGNISES_HEADER_SCHEME", DEFAULT_HEADER_SCHEME),
        )
        return cls(source, exempt, _optional_str(config, "COGNISES_REALM"))


def client_id_set(value: object, where: str) -> frozenset[str] | None:
    """App client ids as a set; None accepts every client of the pool.

    A string may list several ids separated by commas (handy when config comes from the
    environment); client ids never contain commas.
    """
    if value is None:
        return None
    if isinstance(value, str):
        value = [part.strip() for part in value.split(",") if part.strip()]
    if isinstance(value, Iterable):
        clients = list(value)
        if clients and all(isinstance(c, str) and c for c in clients):
            return frozenset(clients)
    raise ConfigurationError(
        f"{where}: expected one or more non-empty client id strings, found {value!r}"
    )


def _check_token_use(value: object, where: str) -> None:
    if value not in ("id", "access", None):
        raise ConfigurationError(f"{where}: expected 'id', 'access' or None, found {value!r}")


def _optional_str(config: Mapping[str, Any], key: str) -> str | None:
    value = config.get(key)
    if value is None:
        return None
    if not isinstance(value, str) or not value:
        raise ConfigurationError(f"{key}: expected a non-empty string, found {value!r}")
    return value


def _str(config: Mapping[str, Any], key: str, default: str) -> str:
    value = _optional_str(config, key)
    return default if value is None else value
