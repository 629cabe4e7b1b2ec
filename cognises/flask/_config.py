"""The ``COGNISES_*`` keys of a Flask app's config, and what a ``login_check`` call asked for.

Every key that is set is checked by ``Cognises(app)`` / ``init_app`` (``check_config``); an
app without the extension has it checked on the first request a protected view serves.
Config is read once per app, on that first request (or the first
``Cognises.get_verifier`` call). A wrong value is a ``ConfigurationError`` naming the key.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Literal, TypeAlias, cast

from cognises._names import check_region, check_regions, check_user_pool_id
from cognises.aio._jwks import JWKSCache
from cognises.aio._verifier import check_jwks_url
from cognises.errors import ConfigurationError
from cognises.flask._freshness import check_freshness
from cognises.flask._token_source import LOCATIONS, TokenSource

__all__ = [
    "UNSET",
    "PoolConfig",
    "PoolSpec",
    "RequestConfig",
    "TokenUse",
    "Unset",
    "check_config",
    "client_id_set",
    "jwks_cache_of",
    "pool_list",
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
    additional_regions: frozenset[str] = frozenset()
    audiences: frozenset[str] | None = None


@dataclass(frozen=True)
class PoolSpec:
    """What one ``login_check(...)`` call asked for; ``UNSET`` fields come from the config.

    Arguments given to ``login_check`` win. With no region and pool, the pool is the one
    in ``COGNISES_REGION`` and ``COGNISES_USER_POOL_ID``. With a region and pool of its
    own, ``COGNISES_CLIENT_IDS``, ``COGNISES_JWKS_URL`` and ``COGNISES_ADDITIONAL_REGIONS``
    are used only when the config names that same pool: they belong to a pool, and another
    pool's keys or clients would reject every token.
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
        if region is not None:
            region = check_region(region, "login_check: cognito_pool_region")
            check_user_pool_id(user_pool_id, "login_check: cognito_pool_id", region=region)
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
        config_region, config_pool = _config_pool(config)
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
            client_ids = _config_clients(config) if same_pool else None
        jwks_url = self.jwks_url
        if isinstance(jwks_url, Unset):
            jwks_url = _optional_str(config, "COGNISES_JWKS_URL") if same_pool else None
        token_use = self.token_use
        if isinstance(token_use, Unset):
            token_use = _config_token_use(config)
        replicas = _additional_regions(config) if same_pool else frozenset()
        # Resources belong to the server, not to a pool, but a pool named in the code
        # may be another server's: the same rule as for client ids.
        audiences = (
            _string_set(config.get("COGNISES_AUDIENCES"), "COGNISES_AUDIENCES")
            if same_pool
            else None
        )
        return PoolConfig(region, pool, client_ids, token_use, jwks_url, replicas, audiences)


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


def check_config(config: Mapping[str, Any]) -> None:
    """Check every ``COGNISES_*`` key that is set, as the first request would use it.

    Keys that are not set are not required here: an app whose views all name their pool
    needs no ``COGNISES_REGION``, and the first request says what is missing.
    """
    RequestConfig.from_config(config)
    _config_pool(config)
    client_id_set(config.get("COGNISES_CLIENT_IDS"), "COGNISES_CLIENT_IDS")
    _check_token_use(config.get("COGNISES_TOKEN_USE", DEFAULT_TOKEN_USE), "COGNISES_TOKEN_USE")
    jwks_url = _optional_str(config, "COGNISES_JWKS_URL")
    if jwks_url is not None:
        try:
            check_jwks_url(jwks_url, allow_insecure=False)
        except ConfigurationError as exc:
            raise ConfigurationError(f"COGNISES_JWKS_URL: {exc}") from None
    _additional_regions(config)
    jwks_cache_of(config)
    _string_set(config.get("COGNISES_AUDIENCES"), "COGNISES_AUDIENCES")
    pool_list(config)
    check_freshness(config)


def _config_clients(config: Mapping[str, Any]) -> frozenset[str] | None:
    """``COGNISES_CLIENT_IDS``; without it, the sign-in app client ``COGNISES_CLIENT_ID``.

    An app that signs users in with one client and sets only ``COGNISES_CLIENT_ID`` means
    that client's tokens, not every client of the pool.
    """
    clients = client_id_set(config.get("COGNISES_CLIENT_IDS"), "COGNISES_CLIENT_IDS")
    if clients is None and config.get("COGNISES_CLIENT_ID") is not None:
        clients = client_id_set(config.get("COGNISES_CLIENT_ID"), "COGNISES_CLIENT_ID")
    return clients


def jwks_cache_of(config: Mapping[str, Any]) -> JWKSCache | None:
    """``COGNISES_JWKS_CACHE``, or None when it is not set."""
    cache = config.get("COGNISES_JWKS_CACHE")
    if cache is not None and not isinstance(cache, JWKSCache):
        raise ConfigurationError(
            f"COGNISES_JWKS_CACHE: expected a JWKSCache, found {type(cache).__name__}"
        )
    return cache


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


def _config_pool(config: Mapping[str, Any]) -> tuple[str | None, str | None]:
    """``COGNISES_REGION`` and ``COGNISES_USER_POOL_ID``, each checked when set."""
    region = config.get("COGNISES_REGION")
    if region is not None:
        region = check_region(region, "COGNISES_REGION")
    pool = config.get("COGNISES_USER_POOL_ID")
    if pool is not None:
        pool = check_user_pool_id(pool, "COGNISES_USER_POOL_ID", region=region)
    return region, pool


def _additional_regions(config: Mapping[str, Any]) -> frozenset[str]:
    """``COGNISES_ADDITIONAL_REGIONS``: a list, or a string of regions separated by commas."""
    value = config.get("COGNISES_ADDITIONAL_REGIONS")
    if value is None:
        return frozenset()
    if isinstance(value, str):
        value = [part.strip() for part in value.split(",") if part.strip()]
    return check_regions(value, "COGNISES_ADDITIONAL_REGIONS")


def pool_list(config: Mapping[str, Any]) -> list[dict[str, Any]] | None:
    """``COGNISES_POOLS``: one dict per pool, as ``MultiPoolVerifier`` takes them.

    Each holds ``region`` and ``user_pool_id`` and may hold ``client_ids`` (a list, or
    ids separated by commas), ``token_use`` (default ``COGNISES_TOKEN_USE``, else "id"),
    ``audiences``, ``jwks_url``, ``check`` and ``leeway``.
    """
    pools = config.get("COGNISES_POOLS")
    if pools is None:
        return None
    if isinstance(pools, (str, bytes, Mapping)) or not isinstance(pools, Iterable):
        raise ConfigurationError(
            f"COGNISES_POOLS: expected a list of dicts, found {type(pools).__name__}"
        )
    for key in ("COGNISES_REGION", "COGNISES_USER_POOL_ID"):
        if config.get(key) is not None:
            raise ConfigurationError(
                f"COGNISES_POOLS and {key} are both set: login_check() would not know which "
                "to use; put that pool in COGNISES_POOLS"
            )
    token_use = _config_token_use(config)
    made = []
    for number, pool in enumerate(pools):
        if not isinstance(pool, Mapping):
            raise ConfigurationError(
                f"COGNISES_POOLS[{number}]: expected a dict, found {type(pool).__name__}"
            )
        where = f"COGNISES_POOLS[{number}]"
        options = {"token_use": token_use, **pool}
        _check_token_use(options["token_use"], f"{where}: token_use")
        if "client_ids" in options:
            options["client_ids"] = client_id_set(options["client_ids"], f"{where}: client_ids")
        if "audiences" in options:
            options["audiences"] = _string_set(options["audiences"], f"{where}: audiences")
        made.append(options)
    if not made:
        raise ConfigurationError("COGNISES_POOLS: expected at least one pool, found none")
    return made


def _config_token_use(config: Mapping[str, Any]) -> TokenUse:
    token_use = config.get("COGNISES_TOKEN_USE", DEFAULT_TOKEN_USE)
    _check_token_use(token_use, "COGNISES_TOKEN_USE")
    return cast(TokenUse, token_use)


def _string_set(value: object, where: str) -> frozenset[str] | None:
    """Like ``client_id_set``: a list, or a string of values separated by commas."""
    try:
        return client_id_set(value, where)
    except ConfigurationError:
        raise ConfigurationError(
            f"{where}: expected one or more non-empty strings, found {value!r}"
        ) from None


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
