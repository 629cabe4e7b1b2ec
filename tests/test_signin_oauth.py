"""The token and revoke calls (``cognises.aio._oauth``, its sync twins) and their wire format."""

from __future__ import annotations

import base64
import json
import socket
from urllib.parse import parse_qs

import anyio
import httpx
import pytest
import respx

from cognises._oauth import MAX_BODY, Endpoints, error_from_body, parse_token_body
from cognises.aio import _oauth as aio_oauth
from cognises.errors import ConfigurationError, OAuthError, OAuthUnavailableError
from cognises.sync import _oauth as sync_oauth

DOMAIN = "https://auth.example.com"
TOKENS = {"id_token": "a.b.c", "access_token": "d.e.f", "token_type": "Bearer", "expires_in": 3600}


def form_of(request: httpx.Request) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(request.content.decode()).items()}


@respx.mock
def test_code_exchange_of_a_public_client_sends_client_id_in_the_body() -> None:
    route = respx.post(f"{DOMAIN}/oauth2/token").respond(200, json={**TOKENS, "refresh_token": "r"})
    tokens = sync_oauth.exchange_code(
        Endpoints(DOMAIN, "client"),
        code="c0de",
        redirect_uri="https://app/cb",
        code_verifier="v" * 43,
    )
    assert (tokens.id_token, tokens.access_token, tokens.refresh_token) == ("a.b.c", "d.e.f", "r")
    request = route.calls.last.request
    assert request.headers["Content-Type"] == "application/x-www-form-urlencoded"
    assert "Authorization" not in request.headers
    assert form_of(request) == {
        "grant_type": "authorization_code",
        "code": "c0de",
        "redirect_uri": "https://app/cb",
        "code_verifier": "v" * 43,
        "client_id": "client",
    }


@respx.mock
def test_confidential_client_authenticates_with_http_basic() -> None:
    route = respx.post(f"{DOMAIN}/oauth2/token").respond(200, json=TOKENS)
    endpoints = Endpoints(DOMAIN, "client", "se:cr/et")
    tokens = sync_oauth.refresh_tokens(endpoints, refresh_token="rt")
    assert tokens.refresh_token is None  # not rotated
    request = route.calls.last.request
    scheme, _, value = request.headers["Authorization"].partition(" ")
    assert scheme == "Basic"
    assert base64.b64decode(value).decode() == "client:se%3Acr%2Fet"  # RFC 6749 2.3.1
    assert form_of(request) == {"grant_type": "refresh_token", "refresh_token": "rt"}


@respx.mock
def test_revoke_posts_the_token() -> None:
    route = respx.post(f"{DOMAIN}/oauth2/revoke").respond(200)
    sync_oauth.revoke_token(Endpoints(DOMAIN, "client"), token="rt")
    assert form_of(route.calls.last.request) == {"token": "rt", "client_id": "client"}


@respx.mock
def test_cognito_error_bodies_become_oauth_errors() -> None:
    respx.post(f"{DOMAIN}/oauth2/token").respond(400, json={"error": "invalid_grant"})
    with pytest.raises(OAuthError) as caught:
        sync_oauth.refresh_tokens(Endpoints(DOMAIN, "c"), refresh_token="rt")
    assert caught.type is OAuthError
    assert caught.value.error == "invalid_grant"
    assert caught.value.status == 400


@respx.mock
def test_revoke_errors_become_oauth_errors() -> None:
    respx.post(f"{DOMAIN}/oauth2/revoke").respond(400, json={"error": "unsupported_token_type"})
    with pytest.raises(OAuthError) as caught:
        sync_oauth.revoke_token(Endpoints(DOMAIN, "c"), token="x")
    assert caught.value.error == "unsupported_token_type"


@pytest.mark.parametrize(
    ("status", "body"),
    [
        (500, b'{"error":"server_error"}'),
        (503, b"<html>busy</html>"),
        (400, b"<html>proxy</html>"),
        (400, b'{"error":"<script>"}'),
        (400, b'{"error":"' + b"a" * 100 + b'"}'),
        (302, b""),
    ],
)
def test_answers_that_say_nothing_of_the_request_are_unavailable(status: int, body: bytes) -> None:
    error = error_from_body(status, body, "the token endpoint")
    assert type(error) is OAuthUnavailableError
    assert "<script>" not in str(error)


@pytest.mark.parametrize(
    "body",
    [
        b"not json",
        b"[]",
        json.dumps({**TOKENS, "token_type": "mac"}).encode(),
        json.dumps({**TOKENS, "id_token": 5}).encode(),
        json.dumps({**TOKENS, "access_token": "x" * 20000}).encode(),
        json.dumps({**TOKENS, "refresh_token": ["r"]}).encode(),
        json.dumps({**TOKENS, "expires_in": -1}).encode(),
        json.dumps({**TOKENS, "expires_in": True}).encode(),
        json.dumps({k: v for k, v in TOKENS.items() if k != "id_token"}).encode(),
    ],
)
def test_malformed_token_answers_are_refused(body: bytes) -> None:
    with pytest.raises(OAuthUnavailableError):
        parse_token_body(body, "the token endpoint")


@respx.mock
def test_oversized_answers_are_cut_off() -> None:
    respx.post(f"{DOMAIN}/oauth2/token").respond(200, content=b" " * (MAX_BODY + 1))
    with pytest.raises(OAuthUnavailableError, match="at most"):
        sync_oauth.refresh_tokens(Endpoints(DOMAIN, "c"), refresh_token="rt")


@respx.mock
def test_transport_errors_are_unavailable() -> None:
    respx.post(f"{DOMAIN}/oauth2/token").mock(side_effect=httpx.ConnectError("refused"))
    with pytest.raises(OAuthUnavailableError) as caught:
        sync_oauth.refresh_tokens(Endpoints(DOMAIN, "c"), refresh_token="rt")
    assert caught.value.status is None
    assert isinstance(caught.value.__cause__, httpx.ConnectError)


@respx.mock
def test_redirects_are_not_followed() -> None:
    respx.post(f"{DOMAIN}/oauth2/token").respond(307, headers={"Location": "https://evil/"})
    respx.post("https://evil/").respond(200, json=TOKENS)
    with pytest.raises(OAuthUnavailableError):
        sync_oauth.refresh_tokens(Endpoints(DOMAIN, "c"), refresh_token="rt")


def test_async_calls_keep_nothing_across_event_loops() -> None:
    async def revoke() -> None:
        await aio_oauth.revoke_token(Endpoints(DOMAIN, "c"), token="rt")

    with respx.mock:
        route = respx.post(f"{DOMAIN}/oauth2/revoke").respond(200)
        for _ in range(3):  # a new loop each time, as Flask gives each async view
            anyio.run(revoke)
        assert route.call_count == 3


@pytest.mark.parametrize(
    "domain",
    ["http://auth.example.com", "ftp://x", "https://auth.example.com/path", "https://a?b", ""],
)
def test_domains_must_be_https_or_loopback(domain: str) -> None:
    with pytest.raises(ConfigurationError, match="COGNISES_DOMAIN"):
        Endpoints(domain, "c")


def test_domain_forms() -> None:
    assert Endpoints("auth.example.com", "c").token_url == "https://auth.example.com/oauth2/token"
    assert (
        Endpoints("http://127.0.0.1:9000/", "c").revoke_url == "http://127.0.0.1:9000/oauth2/revoke"
    )
    logout = Endpoints(DOMAIN, "c d").logout_url("https://app/?x=1")
    assert logout == f"{DOMAIN}/logout?client_id=c+d&logout_uri=https%3A%2F%2Fapp%2F%3Fx%3D1"
    assert "secret" not in repr(Endpoints(DOMAIN, "c", "secret"))


def test_a_server_that_never_answers_times_out() -> None:
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen()  # accepts connections, never answers
        port = silent.getsockname()[1]
        endpoints = Endpoints(f"http://127.0.0.1:{port}", "c", timeout=0.3)
        with pytest.raises(OAuthUnavailableError) as caught:
            sync_oauth.refresh_tokens(endpoints, refresh_token="rt")
    assert caught.value.error == "temporarily_unavailable"
