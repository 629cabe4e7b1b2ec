"""Blocking twins of ``cognises.aio._oauth``, through the shared portal."""

from __future__ import annotations

import functools

from cognises._oauth import Endpoints, TokenSet
from cognises.aio import _oauth
from cognises.sync._portal import call

__all__ = ["exchange_code", "refresh_tokens", "revoke_token"]


def exchange_code(
    endpoints: Endpoints, *, code: str, redirect_uri: str, code_verifier: str
) -> TokenSet:
    return call(
        functools.partial(
            _oauth.exchange_code,
            endpoints,
            code=code,
            redirect_uri=redirect_uri,
            code_verifier=code_verifier,
        )
    )


def refresh_tokens(endpoints: Endpoints, *, refresh_token: str) -> TokenSet:
    return call(functools.partial(_oauth.refresh_tokens, endpoints, refresh_token=refresh_token))


def revoke_token(endpoints: Endpoints, *, token: str) -> None:
    call(functools.partial(_oauth.revoke_token, endpoints, token=token))
