"""Claim checks for Cognito ID and access tokens: pure functions of the payload and a clock.

``check_claims`` runs on every request, so the common case (every claim present and of
the right type) takes the fewest steps; the error paths work out what exactly is wrong.
"""

from __future__ import annotations

import math
from collections.abc import Set
from dataclasses import dataclass
from typing import Any, Literal

from cognises._show import show
from cognises.errors import (
    ClaimError,
    ExpiredTokenError,
    InvalidAudienceError,
    InvalidClaimTypeError,
    InvalidIssuerError,
    InvalidTokenUseError,
    MissingClaimError,
    NotYetValidError,
)

__all__ = ["ClaimRules", "check_access_audience", "check_claims"]

TokenUse = Literal["id", "access"]
# Which claim names the app client, by token_use.
_CLIENT_CLAIM = {"id": "aud", "access": "client_id"}
_LAST_TIMESTAMP = 253402300799  # 9999-12-31T23:59:59Z
_OPTIONAL_STRINGS = (
    "email",
    "cognito:username",
    "username",
    "scope",
    "jti",
    "cognito:preferred_role",
)
# Claims that, when present, are lists of strings.
_STRING_LISTS = ("cognito:groups", "cognito:roles")
_TOKEN_USES = ("id", "access")
_NO_GROUPS: list[str] = []  # never changed: the default when a token has no groups
_NO_AUD = object()  # tells an absent aud from ``"aud": null``, which is no audience at all


@dataclass(frozen=True)
class ClaimRules:
    """What a verifier accepts. ``client_ids`` None means any client of the pool.

    ``issuers``: every ``iss`` accepted (a pool's issuers: ``cognises._names.issuers_for``).
    ``audiences``: the resources (RFC 8707) one of which an access token's ``aud`` must
    name; None leaves ``aud`` of access tokens optional (but it must be well-formed).
    """

    issuers: frozenset[str]
    token_use: TokenUse | None
    client_ids: Set[str] | None
    leeway: float
    audiences: Set[str] | None = None


def check_claims(claims: dict[str, Any], rules: ClaimRules, now: float) -> None:
    """Raise the ``ClaimError`` subclass of the first failed check; return if all pass.

    One pass over the claims of a typical token decides most cases. It is stricter than
    ``_check_each`` (times must be ints, for one) and never looser: whatever it does not
    let through goes to ``_check_each``, which has the last word and names the problem.
    """
    get = claims.get
    use = get("token_use")
    aud = get("aud", _NO_AUD)
    client = aud if use == "id" else get("client_id")
    exp = get("exp")
    leeway = rules.leeway
    latest = now + leeway
    allowed = rules.client_ids
    wanted = rules.token_use
    audiences = rules.audiences
    if (
        type(iss := get("iss")) is str
        and iss in rules.issuers
        and (use == wanted if wanted is not None else use in _TOKEN_USES)
        and type(client) is str
        and (allowed is None or client in allowed)
        # An access token's aud, when present or required, is the slow path's to judge
        # unless it is the one string the rules ask for.
        and (
            use == "id"
            or (aud is _NO_AUD if audiences is None else (type(aud) is str and aud in audiences))
        )
        and type(exp) is int
        and now < exp + leeway
        and exp <= _LAST_TIMESTAMP
        and type(iat := get("iat", 0)) is int
        and iat <= latest
        and type(nbf := get("nbf", 0)) is int
        and nbf <= latest
        and type(get("sub")) is str
        and type(get("auth_time", 0)) is int
        and type(get("email", "")) is str
        and type(get("cognito:username", "")) is str
        and type(get("username", "")) is str
        and type(get("scope", "")) is str
        and type(get("jti", "")) is str
        and type(get("cognito:preferred_role", "")) is str
        and type(groups := get("cognito:groups", _NO_GROUPS)) is list
        and type(roles := get("cognito:roles", _NO_GROUPS)) is list
    ):
        for value in groups:
            if type(value) is not str:
                break
        else:
            for value in roles:
                if type(value) is not str:
                    break
            else:
                return
    _check_each(claims, rules, now)


def _check_each(claims: dict[str, Any], rules: ClaimRules, now: float) -> None:
    """Every check, one at a time: raise the error of the first that fails."""
    iss = claims.get("iss")
    if type(iss) is not str or iss not in rules.issuers:
        if iss is None:
            raise MissingClaimError("expected an iss claim, found none", claim="iss")
        raise InvalidIssuerError(
            f"expected iss one of {sorted(rules.issuers)}, found {show(iss)}", claim="iss"
        )

    use = claims.get("token_use")
    client_claim = _CLIENT_CLAIM.get(use) if type(use) is str else None
    if client_claim is None:
        if use is None:
            raise MissingClaimError("expected a token_use claim, found none", claim="token_use")
        raise InvalidTokenUseError(
            f"expected token_use 'id' or 'access', found {show(use)}", claim="token_use"
        )
    if rules.token_use is not None and use != rules.token_use:
        raise InvalidTokenUseError(
            f"expected token_use {rules.token_use!r}, found {use!r}", claim="token_use"
        )

    client = claims.get(client_claim)
    if type(client) is not str:
        raise _missing_or_mistyped(claims, client_claim, "a string")
    if rules.client_ids is not None and client not in rules.client_ids:
        raise InvalidAudienceError(
            f"expected {client_claim} to be one of {sorted(rules.client_ids)}, "
            f"found {show(client)}",
            claim=client_claim,
        )
    if use == "access":
        check_access_audience(claims, rules.audiences)

    exp = claims.get("exp")
    if type(exp) is not int:
        exp = _number(claims, "exp")
    if exp > _LAST_TIMESTAMP:
        # Far past any real expiry, and past what datetime (Claims.expires_at) can hold.
        raise InvalidClaimTypeError(
            f"expected exp to be a time before year 10000, found {exp:.0f}", claim="exp"
        )
    if now >= exp + rules.leeway:
        raise ExpiredTokenError(
            f"expected exp after {now:.0f} (leeway {rules.leeway:g}s), found {exp:.0f}",
            claim="exp",
        )
    latest = now + rules.leeway
    for name in ("nbf", "iat"):
        if name in claims:
            value = claims[name]
            if type(value) is not int:
                value = _number(claims, name)
            if value > latest:
                raise NotYetValidError(
                    f"expected {name} at or before {now:.0f} (leeway {rules.leeway:g}s), "
                    f"found {value:.0f}",
                    claim=name,
                )

    if type(claims.get("sub")) is not str:
        raise _missing_or_mistyped(claims, "sub", "a string")
    for name in _STRING_LISTS:
        if name in claims:
            _check_string_list(name, claims[name])
    for name in _OPTIONAL_STRINGS:
        if name in claims and type(claims[name]) is not str:
            raise _missing_or_mistyped(claims, name, "a string")
    if "auth_time" in claims:
        _number(claims, "auth_time")


def check_access_audience(claims: dict[str, Any], audiences: Set[str] | None) -> None:
    """The resource binding of an access token (RFC 8707): its ``aud``, when it has one.

    ``aud`` is a string or a non-empty list of strings (RFC 7519, section 4.1.3). With
    ``audiences`` given, one of its values must be one of them: a token made for several
    resources is meant for each of them, as RFC 7519 says. With None, it is only checked
    for type: Cognito puts it in when the client asked for a resource, and a verifier
    that binds to none has nothing to compare it with.
    """
    if "aud" not in claims:
        if audiences is None:
            return
        raise MissingClaimError(
            f"expected an aud claim holding one of {sorted(audiences)}, found none", claim="aud"
        )
    aud = claims["aud"]
    values = [aud] if type(aud) is str else aud
    if type(values) is not list or not values or any(type(v) is not str for v in values):
        if type(aud) is list:
            found = "a list with non-strings" if aud else "an empty list"
        else:
            found = type(aud).__name__
        raise InvalidClaimTypeError(
            f"expected aud to be a string or a non-empty list of strings, found {found}",
            claim="aud",
        )
    if audiences is not None and not any(value in audiences for value in values):
        raise InvalidAudienceError(
            f"expected aud to hold one of {sorted(audiences)}, found {show(aud)}", claim="aud"
        )


def _check_string_list(name: str, value: Any) -> None:
    if type(value) is list:
        for item in value:
            if type(item) is not str:
                break
        else:
            return
        found = "a list with non-strings"
    else:
        found = type(value).__name__
    raise InvalidClaimTypeError(
        f"expected {name} to be a list of strings, found {found}", claim=name
    )


def _number(claims: dict[str, Any], name: str) -> float:
    value = claims.get(name)
    # bool is an int in Python but not a number in JSON; NaN and infinities are no times.
    if type(value) is int or (type(value) is float and math.isfinite(value)):
        return value
    raise _missing_or_mistyped(claims, name, "a number")


def _missing_or_mistyped(claims: dict[str, Any], name: str, expected: str) -> ClaimError:
    if name not in claims:
        return MissingClaimError(f"expected a {name} claim, found none", claim=name)
    return InvalidClaimTypeError(
        f"expected {name} to be {expected}, found {type(claims[name]).__name__}", claim=name
    )
