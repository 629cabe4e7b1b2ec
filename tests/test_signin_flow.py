"""Sign-in through the local managed login: the happy path, its cookies, and sign-out."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest
from flask import Flask
from signin_support import (
    APP_ORIGIN,
    CALLBACK,
    PASSWORD,
    location,
    make_app,
    make_issuer,
    managed_login,
    query,
    sign_in,
)

from cognises._oauth import code_challenge
from cognises.flask import current_claims, login_check, signin_blueprint
from cognises.testing import LocalIssuer, LocalManagedLogin, use_local_issuer


@pytest.fixture(scope="module")
def issuer() -> LocalIssuer:
    return make_issuer()


@pytest.fixture
def login(issuer: LocalIssuer) -> Iterator[LocalManagedLogin]:
    with managed_login(issuer) as server:
        yield server


def cookie_headers(response: object) -> dict[str, str]:
    headers = response.headers.getlist("Set-Cookie")  # type: ignore[attr-defined]
    return {h.split("=", 1)[0]: h for h in headers}


def test_anonymous_page_visit_is_sent_to_sign_in_and_back(
    issuer: LocalIssuer, login: LocalManagedLogin
) -> None:
    app = make_app(issuer, login)
    client = app.test_client()
    first = client.get("/page?tab=2")
    assert location(first) == "/auth/login?next=/page?tab%3D2"
    assert app.extensions["calls"] == []

    done = sign_in(client, "/page?tab=2")
    assert location(done) == "/page?tab=2"
    page = client.get("/page?tab=2")
    assert page.status_code == 200
    assert page.json == {"user": "alice", "groups": ["admins"]}
    assert login.calls["authorization_code"] == 1


def test_async_view_signs_in_too(issuer: LocalIssuer, login: LocalManagedLogin) -> None:
    client = make_app(issuer, login).test_client()
    sign_in(client, "/async-page")
    assert client.get("/async-page").json == {"user": "alice"}


def test_login_redirect_carries_pkce_s256_state_and_nonce(
    issuer: LocalIssuer, login: LocalManagedLogin
) -> None:
    client = make_app(issuer, login, COGNISES_SCOPES="openid email").test_client()
    answer = client.get("/auth/login")
    target = location(answer)
    assert target.startswith(f"{login.url}/oauth2/authorize?")
    params = query(target)
    assert params["response_type"] == "code"
    assert params["client_id"] == issuer.client_id
    assert params["redirect_uri"] == CALLBACK
    assert params["scope"] == "openid email"
    assert params["code_challenge_method"] == "S256"
    assert len(params["state"]) >= 43
    assert len(params["nonce"]) >= 43
    assert params["state"] != params["nonce"]
    assert len(params["code_challenge"]) == 43
    assert answer.headers["Cache-Control"] == "no-store"
    # A second login gets fresh values.
    again = query(location(client.get("/auth/login")))
    assert again["state"] != params["state"]
    assert again["code_challenge"] != params["code_challenge"]


def test_pkce_challenge_is_rfc7636_s256() -> None:
    # RFC 7636 appendix B.
    verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
    assert code_challenge(verifier) == "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"


def test_cookies_are_httponly_lax_host_only_path_root(
    issuer: LocalIssuer, login: LocalManagedLogin
) -> None:
    client = make_app(issuer, login).test_client()
    login_cookie = cookie_headers(client.get("/auth/login"))["cognises_login"]
    client2 = make_app(issuer, login).test_client()
    done = sign_in(client2)
    cookies = cookie_headers(done)
    for header in (login_cookie, cookies["token_cookie"], cookies["cognises_refresh"]):
        lowered = header.lower()
        assert "httponly" in lowered
        assert "samesite=lax" in lowered
        assert "path=/" in lowered
        assert "domain=" not in lowered
        assert "secure" not in lowered  # COGNISES_COOKIE_SECURE=False on http://localhost
    # The login transaction is over: its cookie is deleted by the callback.
    assert "expires=thu, 01 jan 1970" in cookies["cognises_login"].lower()


def test_cookies_are_secure_by_default(issuer: LocalIssuer, login: LocalManagedLogin) -> None:
    app = make_app(
        issuer,
        login,
        COGNISES_COOKIE_SECURE=True,
        COGNISES_REDIRECT_URI="https://app.example.com/auth/callback",
    )
    header = cookie_headers(app.test_client().get("/auth/login"))["cognises_login"]
    assert "; secure" in header.lower()


def test_refresh_token_cookie_is_encrypted_not_the_token(
    issuer: LocalIssuer, login: LocalManagedLogin
) -> None:
    client = make_app(issuer, login).test_client()
    sign_in(client)
    sealed = client.get_cookie("cognises_refresh")
    assert sealed is not None
    refresh_tokens = list(login._refresh)
    assert refresh_tokens
    assert all(token not in sealed.value for token in refresh_tokens)
    # The token cookie is the ID token that login_check reads.
    token = client.get_cookie("token_cookie")
    assert token is not None
    assert token.value.count(".") == 2


def test_token_use_access_puts_the_access_token_in_the_cookie(
    issuer: LocalIssuer, login: LocalManagedLogin
) -> None:
    client = make_app(issuer, login, COGNISES_TOKEN_USE="access").test_client()
    sign_in(client)
    assert client.get("/page").status_code == 200
    from cognises._token import decode_object

    token = client.get_cookie("token_cookie")
    assert token is not None
    payload = decode_object(token.value.split(".")[1].encode(), "payload")
    assert payload["token_use"] == "access"


def test_client_secret_goes_by_http_basic(issuer: LocalIssuer) -> None:
    with managed_login(issuer, client_secret="s3cret/+=") as login:
        client = make_app(issuer, login, COGNISES_CLIENT_SECRET="s3cret/+=").test_client()
        assert location(sign_in(client)) == "/page"
        wrong = make_app(issuer, login, COGNISES_CLIENT_SECRET="wrong").test_client()
        refused = sign_in(wrong)
        assert refused.status_code == 400
        assert b"invalid_client" in refused.data
        assert wrong.get_cookie("token_cookie") is None


def test_sign_out_revokes_clears_and_goes_to_managed_login_logout(
    issuer: LocalIssuer, login: LocalManagedLogin
) -> None:
    client = make_app(issuer, login).test_client()
    sign_in(client)
    assert len(login._refresh) == 1
    answer = client.get("/auth/logout")
    target = location(answer)
    assert target.startswith(f"{login.url}/logout?")
    assert query(target) == {"client_id": issuer.client_id, "logout_uri": f"{APP_ORIGIN}/"}
    assert login.calls["revoke"] == 1
    assert login._refresh == {}  # revoked at the authorization server
    assert client.get_cookie("token_cookie") is None
    assert client.get_cookie("cognises_refresh") is None
    assert answer.headers["Cache-Control"] == "no-store"
    assert urlsplit(location(client.get("/page"))).path == "/auth/login"


def test_sign_out_still_signs_out_when_revocation_fails(issuer: LocalIssuer) -> None:
    with managed_login(issuer) as login:
        app = make_app(issuer, login)
        client = app.test_client()
        sign_in(client)
    # The server is gone: revocation cannot reach it.
    answer = client.get("/auth/logout")
    assert answer.status_code == 302
    assert client.get_cookie("token_cookie") is None
    assert client.get_cookie("cognises_refresh") is None


def test_blueprint_name_and_prefix_are_the_apps_choice(issuer: LocalIssuer) -> None:
    callback = f"{APP_ORIGIN}/account/callback"
    with LocalManagedLogin(issuer, redirect_uris=[callback]) as login:
        login.add_user("alice", PASSWORD)
        app = Flask(__name__)
        app.config.update(
            TESTING=True,
            SECRET_KEY="another test secret key",
            COGNISES_REGION=issuer.region,
            COGNISES_USER_POOL_ID=issuer.user_pool_id,
            COGNISES_CLIENT_IDS=[issuer.client_id],
            COGNISES_DOMAIN=login.url,
            COGNISES_CLIENT_ID=issuer.client_id,
            COGNISES_REDIRECT_URI=callback,
            COGNISES_COOKIE_SECURE=False,
        )
        app.register_blueprint(signin_blueprint(name="account", url_prefix="/account"))
        use_local_issuer(app, issuer)

        @app.route("/page")
        @login_check(redirect=True, pass_response=False)
        def page() -> str:
            return str(current_claims.username)

        client = app.test_client()
        assert location(client.get("/page")) == "/account/login?next=/page"
        assert location(sign_in(client)) == "/page"
        assert client.get("/page").data == b"alice"
        assert "account.logout" in {rule.endpoint for rule in app.url_map.iter_rules()}


def test_a_token_too_big_for_a_cookie_fails_the_sign_in_clearly(
    issuer: LocalIssuer, caplog: pytest.LogCaptureFixture
) -> None:
    with managed_login(issuer) as login:
        login._users["alice"].groups = [f"group-{i:03d}-{'x' * 40}" for i in range(100)]
        client = make_app(issuer, login).test_client()
        with caplog.at_level(logging.WARNING, logger="cognises.flask"):
            answer = sign_in(client)
    # Not a cookie the browser would drop, sending the user round in circles.
    assert answer.status_code == 502
    assert b"fits in a cookie" in answer.data
    assert client.get_cookie("token_cookie") is None
    assert "more than browsers keep in a cookie" in caplog.text
    assert "eyJ" not in caplog.text  # never the token itself
