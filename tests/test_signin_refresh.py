"""Refresh before the view: expiry and leeway, rotation, one refresh for concurrent requests."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from flask.testing import FlaskClient
from signin_support import location, make_app, make_issuer, managed_login, sign_in

from cognises._oauth import TokenSet
from cognises.errors import OAuthError
from cognises.flask._refresh import RefreshFlights, expires_within
from cognises.testing import LocalIssuer, LocalManagedLogin


@pytest.fixture(scope="module")
def issuer() -> LocalIssuer:
    return make_issuer()


@pytest.fixture
def login(issuer: LocalIssuer) -> Iterator[LocalManagedLogin]:
    with managed_login(issuer) as server:
        yield server


def expire(client: FlaskClient, issuer: LocalIssuer, seconds_ago: int = 30) -> str:
    """Put an expired ID token of alice in the token cookie; returns it."""
    token = issuer.token(username="alice", groups=["admins"], expires_in=-seconds_ago)
    client.set_cookie("token_cookie", token)
    return token


def token_of(client: FlaskClient) -> str | None:
    cookie = client.get_cookie("token_cookie")
    return cookie.value if cookie else None


def refresh_of(client: FlaskClient) -> str | None:
    cookie = client.get_cookie("cognises_refresh")
    return cookie.value if cookie else None


def test_expired_token_is_refreshed_before_the_view(
    issuer: LocalIssuer, login: LocalManagedLogin
) -> None:
    app = make_app(issuer, login)
    client = app.test_client()
    sign_in(client)
    old = expire(client, issuer)
    answer = client.get("/page")
    assert answer.status_code == 200
    assert answer.json == {"user": "alice", "groups": ["admins"]}
    assert login.calls["refresh_token"] == 1
    fresh = token_of(client)
    assert fresh not in (None, old)
    assert answer.headers["Cache-Control"] == "no-store"
    # The fresh token is good: no second refresh.
    assert client.get("/page").status_code == 200
    assert login.calls["refresh_token"] == 1


def test_async_view_gets_the_refreshed_token(issuer: LocalIssuer, login: LocalManagedLogin) -> None:
    client = make_app(issuer, login).test_client()
    sign_in(client)
    expire(client, issuer)
    assert client.get("/async-page").json == {"user": "alice"}
    assert login.calls["refresh_token"] == 1


def test_token_expiring_within_the_leeway_is_refreshed(issuer: LocalIssuer) -> None:
    with managed_login(issuer, token_lifetime=60) as login:
        client = make_app(issuer, login, COGNISES_REFRESH_LEEWAY=120).test_client()
        sign_in(client)
        assert client.get("/page").status_code == 200
        assert login.calls["refresh_token"] == 1


def test_token_far_from_expiry_is_not_refreshed(issuer: LocalIssuer) -> None:
    with managed_login(issuer, token_lifetime=600) as login:
        client = make_app(issuer, login, COGNISES_REFRESH_LEEWAY=120).test_client()
        sign_in(client)
        assert client.get("/page").status_code == 200
        assert login.calls["refresh_token"] == 0


def test_missing_token_cookie_is_refreshed_from_the_refresh_cookie(
    issuer: LocalIssuer, login: LocalManagedLogin
) -> None:
    client = make_app(issuer, login).test_client()
    sign_in(client)
    client.delete_cookie("token_cookie")  # a session cookie, gone after a browser restart
    assert client.get("/page").status_code == 200
    assert login.calls["refresh_token"] == 1


def test_rotated_refresh_token_is_stored_and_used(issuer: LocalIssuer) -> None:
    with managed_login(issuer, rotate_refresh_tokens=True) as login:
        client = make_app(issuer, login).test_client()
        sign_in(client)
        first = refresh_of(client)
        expire(client, issuer)
        assert client.get("/page").status_code == 200
        second = refresh_of(client)
        assert second not in (None, first)
        # The old refresh token is spent (no grace period): only the stored new one works.
        expire(client, issuer, seconds_ago=40)
        assert client.get("/page").status_code == 200
        assert login.calls["refresh_token"] == 2
        assert refresh_of(client) not in (None, first, second)


def test_without_rotation_the_refresh_cookie_is_left_alone(
    issuer: LocalIssuer, login: LocalManagedLogin
) -> None:
    client = make_app(issuer, login).test_client()
    sign_in(client)
    expire(client, issuer)
    answer = client.get("/page")
    assert answer.status_code == 200
    assert not any("cognises_refresh" in h for h in answer.headers.getlist("Set-Cookie"))


def test_concurrent_requests_of_one_browser_refresh_once(issuer: LocalIssuer) -> None:
    with managed_login(issuer, rotate_refresh_tokens=True) as login:
        app = make_app(issuer, login)
        client = app.test_client()
        sign_in(client)
        expired = expire(client, issuer)
        sealed = refresh_of(client)
        assert sealed is not None

        def one_request(_: int) -> tuple[int, str | None]:
            browser_tab = app.test_client()
            browser_tab.set_cookie("token_cookie", expired)
            browser_tab.set_cookie("cognises_refresh", sealed)
            answer = browser_tab.get("/page")
            return answer.status_code, token_of(browser_tab)

        with ThreadPoolExecutor(8) as pool:
            results = list(pool.map(one_request, range(16)))
        assert login.calls["refresh_token"] == 1
        assert {status for status, _ in results} == {200}
        assert len({token for _, token in results}) == 1  # all got the one fresh token


def test_failed_refresh_signs_out(issuer: LocalIssuer, login: LocalManagedLogin) -> None:
    client = make_app(issuer, login).test_client()
    sign_in(client)
    login._refresh.clear()  # revoked behind our back
    # Expired a second ago: within the verifier's leeway, yet it must not be accepted.
    expire(client, issuer, seconds_ago=1)
    answer = client.get("/page")
    assert location(answer).startswith("/auth/login?next=/page")
    assert token_of(client) is None
    assert refresh_of(client) is None
    assert client.get("/api").status_code == 401


def test_failed_refresh_on_an_api_view_is_401(
    issuer: LocalIssuer, login: LocalManagedLogin
) -> None:
    client = make_app(issuer, login).test_client()
    sign_in(client)
    login._refresh.clear()
    expire(client, issuer)
    assert client.get("/api").status_code == 401
    assert token_of(client) is None


def test_refreshed_tokens_are_verified(issuer: LocalIssuer) -> None:
    with managed_login(issuer) as login:
        client = make_app(issuer, login).test_client()
        sign_in(client)
        # From now on the server signs with a key the app does not trust.
        login.issuer = make_issuer()
        login.issuer.keys = {
            issuer.kid: rsa.generate_private_key(public_exponent=65537, key_size=2048)
        }
        login.issuer.kid = issuer.kid
        expire(client, issuer)
        assert location(client.get("/page")).startswith("/auth/login")
        assert token_of(client) is None


def test_bearer_requests_are_not_refreshed(issuer: LocalIssuer, login: LocalManagedLogin) -> None:
    client = make_app(issuer, login).test_client()
    sign_in(client)
    expired = expire(client, issuer)
    answer = client.get("/api", headers={"Authorization": f"Bearer {expired}"})
    assert answer.status_code == 401
    assert login.calls["refresh_token"] == 0


def test_a_tampered_refresh_cookie_is_ignored(
    issuer: LocalIssuer, login: LocalManagedLogin
) -> None:
    client = make_app(issuer, login).test_client()
    sign_in(client)
    sealed = refresh_of(client)
    assert sealed is not None
    client.set_cookie("cognises_refresh", sealed[:-6] + "AAAAAA")
    expire(client, issuer)
    assert client.get("/api").status_code == 401
    assert login.calls["refresh_token"] == 0


def test_expires_within() -> None:
    issuer = make_issuer()
    now = 1_000_000.0
    token = issuer.token(issued_at=now, expires_in=100)
    assert not expires_within(token, 50, now)
    assert expires_within(token, 100, now)
    assert expires_within(token, 0, now + 100)
    assert expires_within(None, 0, now)
    assert expires_within("not.a.token", 0, now)
    assert expires_within(issuer.sign({"exp": "soon"}), 0, now)


def test_flights_share_one_refresh_and_its_failure() -> None:
    flights = RefreshFlights()
    entered, go = threading.Event(), threading.Event()
    calls: list[int] = []
    answer = TokenSet("id", "access", None, 3600)

    def slow() -> TokenSet:
        calls.append(1)
        entered.set()
        assert go.wait(10)
        return answer

    with ThreadPoolExecutor(4) as pool:
        leader = pool.submit(flights.run, "rt", slow)
        assert entered.wait(10)
        followers = [pool.submit(flights.run, "rt", slow) for _ in range(3)]
        go.set()
        assert leader.result() is answer
        assert all(f.result() is answer for f in followers)
    assert len(calls) == 1
    assert flights.run("rt", slow) is answer  # kept for later requests with the same token
    assert len(calls) == 1

    def failing() -> TokenSet:
        calls.append(1)
        raise OAuthError("no", error="invalid_grant", status=400)

    with pytest.raises(OAuthError):
        flights.run("other", failing)
    with pytest.raises(OAuthError):
        flights.run("other", failing)  # a failure is not kept: the next request tries again
    assert len(calls) == 3


def test_failed_refresh_signs_out_an_async_view_too(
    issuer: LocalIssuer, login: LocalManagedLogin
) -> None:
    client = make_app(issuer, login).test_client()
    sign_in(client)
    login._refresh.clear()
    expire(client, issuer, seconds_ago=1)  # within the verifier's leeway
    assert location(client.get("/async-page")).startswith("/auth/login?next=/async-page")
    assert client.application.extensions["calls"] == []
