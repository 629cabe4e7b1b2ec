"""Fetching signing keys over HTTP, defensively: a JWKS document, or an ALB's PEM key.

The keys decide who gets in, so the fetch trusts nothing about the server: one deadline
for the whole exchange (a trickling server cannot hold us), no redirects, a size cap
enforced while reading, and the body parsed only after all of that.
"""

from __future__ import annotations

import ssl
from dataclasses import dataclass
from typing import Any

import anyio
import httpx
import orjson

from cognises.errors import JWKSError

__all__ = ["FetchOptions", "UnexpectedStatus", "fetch_bytes", "fetch_json"]

_ssl_context: ssl.SSLContext | None = None


def _ssl() -> ssl.SSLContext:
    # Building a context costs milliseconds; it is not bound to any event loop, so share it.
    global _ssl_context
    if _ssl_context is None:
        _ssl_context = httpx.create_ssl_context()
    return _ssl_context


class UnexpectedStatus(JWKSError):
    """The key server answered with a status other than 200; ``status`` holds it."""

    def __init__(self, message: str, *, status: int) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class FetchOptions:
    """How keys (a JWKS, an ALB's public key) are fetched."""

    timeout: float = 5.0
    """Seconds for the whole fetch: connect, send, and read every byte."""
    connect_timeout: float = 3.0
    max_bytes: int = 256 * 1024


async def fetch_json(url: str, options: FetchOptions) -> Any:
    """GET ``url`` and return its JSON body, or raise ``JWKSError``."""
    body = await fetch_bytes(url, options)
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise JWKSError(f"expected JSON from {url}, found an unparsable body") from exc


async def fetch_bytes(
    url: str, options: FetchOptions, *, what: str = "JWKS", accept: str = "application/json"
) -> bytes:
    """GET ``url`` and return its body, or raise ``JWKSError`` (``what`` names it).

    A new client per fetch: clients hold connections bound to the event loop they were
    used on, and callers (Flask async views) bring a new loop each time.
    """
    timeout = httpx.Timeout(options.timeout, connect=options.connect_timeout)
    try:
        with anyio.fail_after(options.timeout):
            async with httpx.AsyncClient(
                timeout=timeout, follow_redirects=False, verify=_ssl(), trust_env=False
            ) as client:
                return await _get_capped(client, url, options.max_bytes, what, accept)
    except TimeoutError:
        raise JWKSError(f"expected the {what} from {url} within {options.timeout:g}s") from None
    except httpx.HTTPError as exc:
        raise JWKSError(f"could not fetch the {what} from {url}: {type(exc).__name__}") from exc


async def _get_capped(
    client: httpx.AsyncClient, url: str, cap: int, what: str, accept: str
) -> bytes:
    # No compression: a small compressed body could expand far past the cap in one chunk.
    headers = {"Accept": accept, "Accept-Encoding": "identity"}
    async with client.stream("GET", url, headers=headers) as response:
        if response.status_code != 200:
            raise UnexpectedStatus(
                f"expected HTTP 200 from {url}, found {response.status_code}",
                status=response.status_code,
            )
        encoding = response.headers.get("Content-Encoding", "identity").strip().lower()
        if encoding != "identity":
            raise JWKSError(f"expected an uncompressed {what} from {url}, found {encoding!r}")
        declared = response.headers.get("Content-Length")
        if declared is not None and declared.isdigit() and int(declared) > cap:
            raise JWKSError(
                f"expected a {what} of at most {cap} bytes from {url}, found {declared}"
            )
        chunks: list[bytes] = []
        size = 0
        async for chunk in response.aiter_raw():
            size += len(chunk)
            if size > cap:
                raise JWKSError(f"expected a {what} of at most {cap} bytes from {url}, found more")
            chunks.append(chunk)
        return b"".join(chunks)
