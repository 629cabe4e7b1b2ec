"""Calls to Cognito's ``/oauth2/token`` and ``/oauth2/revoke``, with httpx.

A fresh client per call: Flask brings a new event loop to every async view, and the sync
twins run on the portal's loop, so nothing bound to a loop is kept. Like the JWKS fetch,
each call has one deadline for the whole exchange, follows no redirect, ignores proxy
variables, and reads at most ``MAX_BODY`` bytes of the answer.

Client authentication (RFC 6749 section 2.3.1): with a client secret, HTTP Basic with the
form-encoded id and secret, as Cognito asks; without one, ``client_id`` in the body.
"""

from __future__ import annotations

from urllib.parse import quote

import anyio
import httpx

from cognises._oauth import MAX_BODY, Endpoints, TokenSet, error_from_body, parse_token_body
from cognises.aio._fetch import _ssl
from cognises.errors import OAuthUnavailableError

__all__ = ["exchange_code", "refresh_tokens", "revoke_token"]


async def exchange_code(
    endpoints: Endpoints, *, code: str, redirect_uri: str, code_verifier: str
) -> TokenSet:
    """Redeem an authorization code (``grant_type=authorization_code``) with its PKCE verifier."""
    form = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": redirect_uri,
        "code_verifier": code_verifier,
    }
    status, body = await _post(endpoints, endpoints.token_url, form)
    if status != 200:
        raise error_from_body(status, body, endpoints.token_url)
    return parse_token_body(body, endpoints.token_url)


async def refresh_tokens(endpoints: Endpoints, *, refresh_token: str) -> TokenSet:
    """New ID and access tokens for a refresh token; a new refresh token when Cognito rotates."""
    form = {"grant_type": "refresh_token", "refresh_token": refresh_token}
    status, body = await _post(endpoints, endpoints.token_url, form)
    if status != 200:
        raise error_from_body(status, body, endpoints.token_url)
    return parse_token_body(body, endpoints.token_url)


async def revoke_token(endpoints: Endpoints, *, token: str) -> None:
    """Revoke a refresh token (RFC 7009), and with it the tokens issued from it."""
    status, body = await _post(endpoints, endpoints.revoke_url, {"token": token})
    if status != 200:
        raise error_from_body(status, body, endpoints.revoke_url)


async def _post(endpoints: Endpoints, url: str, form: dict[str, str]) -> tuple[int, bytes]:
    headers = {"Accept": "application/json", "Accept-Encoding": "identity"}
    auth: httpx.BasicAuth | None = None
    if endpoints.client_secret is not None:
        # RFC 6749 2.3.1: id and secret are form-encoded before the Basic encoding.
        auth = httpx.BasicAuth(
            quote(endpoints.client_id, safe=""), quote(endpoints.client_secret, safe="")
        )
    else:
        form = {**form, "client_id": endpoints.client_id}
    timeout = endpoints.timeout
    try:
        with anyio.fail_after(timeout):
            async with httpx.AsyncClient(
                timeout=httpx.Timeout(timeout),
                follow_redirects=False,
                verify=_ssl(),
                trust_env=False,
            ) as client:
                request = client.build_request("POST", url, data=form, headers=headers)
                response = await client.send(request, auth=auth, stream=True)
                try:
                    return response.status_code, await _read_capped(response, url)
                finally:
                    await response.aclose()
    except TimeoutError:
        raise OAuthUnavailableError(
            f"expected an answer from {url} within {timeout:g}s",
            error="temporarily_unavailable",
            status=None,
        ) from None
    except httpx.HTTPError as exc:
        raise OAuthUnavailableError(
            f"could not reach {url}: {type(exc).__name__}",
            error="temporarily_unavailable",
            status=None,
        ) from exc


async def _read_capped(response: httpx.Response, url: str) -> bytes:
    chunks: list[bytes] = []
    size = 0
    async for chunk in response.aiter_raw():
        size += len(chunk)
        if size > MAX_BODY:
            raise OAuthUnavailableError(
                f"expected an answer of at most {MAX_BODY} bytes from {url}, found more",
                error="invalid_response",
                status=response.status_code,
            )
        chunks.append(chunk)
    return b"".join(chunks)
