"""CSRF for cookie-authenticated unsafe requests, and the same-origin ``next`` of sign-in."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from flask.testing import FlaskClient
from hypothesis import given
from hypothesis import strategies as st
from signin_support import make_app, make_issuer, managed_login, sign_in

from cognises.flask._redirects import MAX_NEXT, safe_next
from cognises.testing import LocalIssuer, LocalManagedLogin


@pytest.fixture(scope="module")
def issuer() -> LocalIssuer:
    return make_issuer()


@pytest.fixture
def login(issuer: LocalIssuer) -> Iterator[LocalManagedLogin]:
    with managed_login(issuer) as server:
        yield server


@pytest.fixture
def signed_in(issuer: LocalIssuer, login: LocalManagedLogin) -> FlaskClient:
    client = make_app(
        issuer, login, COGNISES_TRUSTED_ORIGINS=["https://admin.example.com"]
    ).test_client()
    sign_in(client)
    return client


@pytest.mark.parametrize("method", ["POST", "DELETE"])
def test_cookie_request_from_another_origin_is_refused(signed_in: FlaskClient, method: str) -> None:
    answer = signed_in.open("/api", method=method, headers={"Origin": "https://evil.example"})
    assert answer.status_code == 403
    assert b"Origin" in answer.data
    assert signed_in.application.extensions["calls"] == []


def test_cookie_request_with_a_foreign_referer_is_refused(signed_in: FlaskClient) -> None:
    answer = signed_in.post("/api", headers={"Referer": "https://evil.example/form"})
    assert answer.status_code == 403


def test_cookie_request_with_neither_header_is_refused(signed_in: FlaskClient) -> None:
    assert signed_in.post("/api").status_code == 403


def test_null_origin_is_refused(signed_in: FlaskClient) -> None:
    assert signed_in.post("/api", headers={"Origin": "null"}).status_code == 403


def test_same_origin_form_or_fetch_passes(signed_in: FlaskClient) -> None:
    assert signed_in.post("/api", headers={"Origin": "http://localhost"}).status_code == 200
    referer = {"Referer": "http://localhost/page?x=1"}
    assert signed_in.delete("/api", headers=referer).status_code == 200


def test_trusted_origin_passes(signed_in: FlaskClient) -> None:
    answer = signed_in.post("/api", headers={"Origin": "https://admin.example.com"})
    assert answer.status_code == 200


def test_lookalike_origins_are_refused(signed_in: FlaskClient) -> None:
    for origin in ("http://localhost.evil.example", "http://localhost:8080", "https://localhost"):
        assert signed_in.post("/api", headers={"Origin": origin}).status_code == 403, origin


def test_bearer_requests_are_exempt(signed_in: FlaskClient, issuer: LocalIssuer) -> None:
    token = issuer.token(username="alice")
    signed_in.delete_cookie("token_cookie")
    signed_in.delete_cookie("cognises_refresh")
    answer = signed_in.post(
        "/api", headers={"Authorization": f"Bearer {token}", "Origin": "https://evil.example"}
    )
    assert answer.status_code == 200


def test_requests_without_our_cookies_are_not_checked(
    issuer: LocalIssuer, login: LocalManagedLogin
) -> None:
    client = make_app(issuer, login).test_client()
    assert client.post("/open", headers={"Origin": "https://evil.example"}).status_code == 200


def test_safe_methods_are_not_checked(signed_in: FlaskClient) -> None:
    assert signed_in.get("/api", headers={"Origin": "https://evil.example"}).status_code == 200


def test_post_logout_is_checked_too(signed_in: FlaskClient) -> None:
    assert (
        signed_in.post("/auth/logout", headers={"Origin": "https://evil.example"}).status_code
        == 403
    )
    assert signed_in.get_cookie("token_cookie") is not None
    answer = signed_in.post("/auth/logout", headers={"Origin": "http://localhost"})
    assert answer.status_code == 302
    assert signed_in.get_cookie("token_cookie") is None


def test_post_to_a_redirecting_page_gets_401_not_a_redirect(
    issuer: LocalIssuer, login: LocalManagedLogin
) -> None:
    client = make_app(issuer, login).test_client()
    assert client.post("/page", headers={"Origin": "http://localhost"}).status_code == 401
    assert client.get("/page").status_code == 302


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("/a/b?c=d#e", "/a/b?c=d#e"),
        ("/", "/"),
        ("//evil.example", "/"),
        ("///evil.example", "/"),
        ("/\\evil.example", "/"),
        ("/a\\b", "/"),
        ("\\\\evil.example", "/"),
        ("https://evil.example", "/"),
        ("http:/evil.example", "/"),
        ("javascript:alert(1)", "/"),
        ("evil.example", "/"),
        ("/\t/evil.example", "/"),
        ("/\n/evil.example", "/"),
        ("/\x00", "/"),
        ("/ /evil", "/"),
        ("/caf\u00e9", "/"),
        ("/" + "a" * MAX_NEXT, "/"),
        ("", "/"),
        (None, "/"),
        (["/list"], "/"),
    ],
)
def test_safe_next(value: object, expected: str) -> None:
    assert safe_next(value) == expected


@given(st.text(max_size=60))
def test_safe_next_never_leaves_the_site(value: str) -> None:
    kept = safe_next(value)
    assert kept.startswith("/")
    assert not kept.startswith("//")
    assert "\\" not in kept
    assert all(" " < c < "\x7f" for c in kept)
