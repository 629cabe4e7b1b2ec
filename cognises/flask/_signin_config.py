"""The ``COGNISES_*`` keys of the sign-in flow, read and checked once per app."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from cognises._oauth import Endpoints
from cognises.errors import ConfigurationError
from cognises.flask._config import DEFAULT_COOKIE_NAME

__all__ = ["SignInConfig", "origin_of"]

DEFAULT_SCOPES = ("openid", "email", "profile")
DEFAULT_REFRESH_MAX_AGE = 30 * 24 * 3600  # Cognito's default refresh-token lifetime
DEFAULT_REFRESH_LEEWAY = 60.0
_LOOPBACK = frozenset({"localhost", "127.0.0.1", "::1"})


def origin_of(url: str) -> str | None:
    """``scheme://host[:port]`` of an absolute http(s) URL, lower-cased; None otherwise."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return None
    host = parts.hostname if ":" not in parts.hostname else f"[{parts.hostname}]"
    default = {"http": 80, "https": 443}[parts.scheme]
    return f"{parts.scheme}://{host}" + (f":{port}" if port and port != default else "")


@dataclass(frozen=True)
class SignInConfig:
    """Everything the sign-in views, the refresh and the CSRF check need.

    ``token_cookie`` is the cookie ``login_check`` reads (``COGNISES_COOKIE_NAME``); it
    holds the ID token, or the access token when ``COGNISES_TOKEN_USE`` is "access".
    """

    endpoints: Endpoints
    redirect_uri: str
    logout_uri: str
    scopes: tuple[str, ...]
    token_use: str
    token_cookie: str
    refresh_cookie: str
    login_cookie: str
    secure: bool
    refresh_max_age: int
    refresh_leeway: float
    trusted_origins: frozenset[str]
    secret_key: bytes = field(repr=False)

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> SignInConfig:
        domain = _required(config, "COGNISES_DOMAIN")
        client_id = _required(config, "COGNISES_CLIENT_ID")
        secret = config.get("COGNISES_CLIENT_SECRET")
        if secret is not None and (not isinstance(secret, str) or not secret):
            raise ConfigurationError("COGNISES_CLIENT_SECRET: expected a non-empty string or None")
        redirect_uri = _required(config, "COGNISES_REDIRECT_URI")
        if origin_of(redirect_uri) is None or urlsplit(redirect_uri).fragment:
            raise ConfigurationError(
                "COGNISES_REDIRECT_URI: expected the absolute http(s) URL of the callback "
                f"view, as registered on the app client, found {redirect_uri!r}"
            )
        logout_uri = config.get("COGNISES_LOGOUT_URI") or f"{origin_of(redirect_uri)}/"
        if not isinstance(logout_uri, str) or origin_of(logout_uri) is None:
            raise ConfigurationError(
                f"COGNISES_LOGOUT_URI: expected an absolute http(s) URL, found {logout_uri!r}"
            )
        scopes = _scopes(config.get("COGNISES_SCOPES", DEFAULT_SCOPES))
        secure = config.get("COGNISES_COOKIE_SECURE", True)
        if not isinstance(secure, bool):
            raise ConfigurationError(
                f"COGNISES_COOKIE_SECURE: expected True or False, found {secure!r}"
            )
        if not secure and not _is_local_http(redirect_uri):
            raise ConfigurationError(
                "COGNISES_COOKIE_SECURE=False is allowed only for an http://localhost (or "
                f"loopback) COGNISES_REDIRECT_URI, found {redirect_uri!r}"
            )
        key = config.get("SECRET_KEY")
        if isinstance(key, str):
            key = key.encode()
        if not isinstance(key, bytes) or len(key) < 16:
            raise ConfigurationError(
                "sign-in encrypts its cookies with a key derived from the app's SECRET_KEY; "
                "expected a SECRET_KEY of at least 16 bytes, found "
                + ("none" if key is None else f"{len(key) if isinstance(key, bytes) else key!r}")
            )
        token_use = config.get("COGNISES_TOKEN_USE", "id")
        max_age = config.get("COGNISES_REFRESH_COOKIE_MAX_AGE", DEFAULT_REFRESH_MAX_AGE)
        leeway = config.get("COGNISES_REFRESH_LEEWAY", DEFAULT_REFRESH_LEEWAY)
        if type(max_age) is not int or max_age <= 0:
            raise ConfigurationError(
                f"COGNISES_REFRESH_COOKIE_MAX_AGE: expected seconds > 0, found {max_age!r}"
            )
        if not isinstance(leeway, (int, float)) or isinstance(leeway, bool) or leeway < 0:
            raise ConfigurationError(
                f"COGNISES_REFRESH_LEEWAY: expected seconds >= 0, found {leeway!r}"
            )
        return cls(
            endpoints=Endpoints(domain, client_id, secret),
            redirect_uri=redirect_uri,
            logout_uri=logout_uri,
            scopes=scopes,
            token_use="access" if token_use == "access" else "id",
            token_cookie=_name(config, "COGNISES_COOKIE_NAME", DEFAULT_COOKIE_NAME),
            refresh_cookie=_name(config, "COGNISES_REFRESH_COOKIE_NAME", "cognises_refresh"),
            login_cookie=_name(config, "COGNISES_LOGIN_COOKIE_NAME", "cognises_login"),
            secure=secure,
            refresh_max_age=max_age,
            refresh_leeway=float(leeway),
            trusted_origins=_origins(config.get("COGNISES_TRUSTED_ORIGINS", ()), redirect_uri),
            secret_key=key,
        )


def _required(config: Mapping[str, Any], key: str) -> str:
    value = config.get(key)
    if not isinstance(value, str) or not value:
        raise ConfigurationError(
            f"{key}: the sign-in flow needs it; expected a string, found {value!r}"
        )
    return value


def _name(config: Mapping[str, Any], key: str, default: str) -> str:
    value = config.get(key) or default
    if not isinstance(value, str) or not value.isascii() or not value.replace("_", "").isalnum():
        raise ConfigurationError(
            f"{key}: expected a cookie name of letters, digits and _, found {value!r}"
        )
    return value


def _scopes(value: object) -> tuple[str, ...]:
    scopes = value.split() if isinstance(value, str) else value
    if isinstance(scopes, Iterable):
        found = tuple(scopes)
        if "openid" in found and all(
            isinstance(s, str) and s and s.isprintable() and " " not in s for s in found
        ):
            return found
    raise ConfigurationError(
        f"COGNISES_SCOPES: expected scopes including 'openid' (for the ID token), found {value!r}"
    )


def _origins(value: object, redirect_uri: str) -> frozenset[str]:
    given = [value] if isinstance(value, str) else value
    if not isinstance(given, Iterable):
        raise ConfigurationError(f"COGNISES_TRUSTED_ORIGINS: expected origins, found {value!r}")
    origins = {origin_of(redirect_uri)}
    for item in given:
        origin = origin_of(item) if isinstance(item, str) else None
        if origin is None or origin != item.rstrip("/").lower():
            raise ConfigurationError(
                f"COGNISES_TRUSTED_ORIGINS: expected origins like 'https://app.example.com', "
                f"found {item!r}"
            )
        origins.add(origin)
    return frozenset(o for o in origins if o is not None)


def _is_local_http(url: str) -> bool:
    parts = urlsplit(url)
    return parts.scheme == "http" and parts.hostname in _LOOPBACK
