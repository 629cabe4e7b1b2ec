"""Sign-in config checks, the sealed cookies, and the local managed login's own answers."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any
from unittest import mock
from urllib.parse import urlencode

import httpx
import pytest
from flask import Flask
from signin_support import CALLBACK, PASSWORD, make_app, make_issuer, managed_login, query

from cognises.errors import ConfigurationError
from cognises.flask import login_check
from cognises.flask._session_cookies import Sealer
from cognises.flask._signin_config import SignInConfig
from cognises.testing import LocalIssuer, LocalManagedLogin
from cognises.testing._authserver import _Grant

BASE: dict[str, Any] = {
    "SECRET_KEY": "0123456789abcdef",
    "COGNISES_DOMAIN": "auth.example.com",
    "COGNISES_CLIENT_ID": "client",
    "COGNISES_REDIRECT_URI": "https://app.example.com/auth/callback",
}


@pytest.fixture(scope="module")
def issuer() -> LocalIssuer:
    return make_issuer()


@pytest.fixture
def login(issuer: LocalIssuer) -> Iterator[LocalManagedLogin]:
    with managed_login(issuer) as server:
        yield server


def test_defaults() -> None:
    config = SignInConfig.from_config(BASE)
    assert config.endpoints.domain == "https://auth.example.com"
    assert config.scopes == ("openid", "email", "profile")
    assert config.logout_uri == "https://app.example.com/"
    assert config.secure is True
    assert config.token_cookie == "token_cookie"
    assert config.trusted_origins == {"https://app.example.com"}
    assert "0123456789" not in repr(config)


@pytest.mark.parametrize(
    ("change", "key"),
    [
        ({"COGNISES_DOMAIN": None}, "COGNISES_DOMAIN"),
        ({"COGNISES_CLIENT_ID": ""}, "COGNISES_CLIENT_ID"),
        ({"COGNISES_REDIRECT_URI": "/auth/callback"}, "COGNISES_REDIRECT_URI"),
        ({"COGNISES_REDIRECT_URI": "https://app/cb#frag"}, "COGNISES_REDIRECT_URI"),
        ({"COGNISES_CLIENT_SECRET": ""}, "COGNISES_CLIENT_SECRET"),
        ({"COGNISES_SCOPES": "email profile"}, "COGNISES_SCOPES"),
        ({"COGNISES_COOKIE_SECURE": "no"}, "COGNISES_COOKIE_SECURE"),
        ({"COGNISES_COOKIE_SECURE": False}, "COGNISES_COOKIE_SECURE"),
        ({"COGNISES_TRUSTED_ORIGINS": ["https://a.example/path"]}, "COGNISES_TRUSTED_ORIGINS"),
        ({"COGNISES_REFRESH_COOKIE_MAX_AGE": 0}, "COGNISES_REFRESH_COOKIE_MAX_AGE"),
        ({"COGNISES_REFRESH_LEEWAY": -1}, "COGNISES_REFRESH_LEEWAY"),
        ({"COGNISES_REFRESH_COOKIE_NAME": "a;b"}, "COGNISES_REFRESH_COOKIE_NAME"),
        ({"COGNISES_LOGOUT_URI": "somewhere"}, "COGNISES_LOGOUT_URI"),
        ({"SECRET_KEY": None}, "SECRET_KEY"),
        ({"SECRET_KEY": "short"}, "SECRET_KEY"),
    ],
)
def test_bad_values_name_their_key(change: dict[str, Any], key: str) -> None:
    with pytest.raises(ConfigurationError, match=key):
        SignInConfig.from_config({**BASE, **change})


def test_insecure_cookies_only_on_local_http() -> None:
    local = {**BASE, "COGNISES_REDIRECT_URI": "http://localhost:5000/cb"}
    assert SignInConfig.from_config({**local, "COGNISES_COOKIE_SECURE": False}).secure is False
    loopback = {**BASE, "COGNISES_REDIRECT_URI": "http://127.0.0.1:5000/cb"}
    assert SignInConfig.from_config({**loopback, "COGNISES_COOKIE_SECURE": False}).secure is False


def test_config_errors_surface_on_the_first_sign_in_request(
    issuer: LocalIssuer, login: LocalManagedLogin
) -> None:
    app = make_app(issuer, login, SECRET_KEY=None)
    with pytest.raises(ConfigurationError, match="SECRET_KEY"):
        app.test_client().get("/auth/login")


def test_redirect_needs_the_blueprint() -> None:
    app = Flask(__name__)
    app.config.update(
        TESTING=True, COGNISES_REGION="eu-west-1", COGNISES_USER_POOL_ID="eu-west-1_X"
    )

    @app.route("/page")
    @login_check(redirect=True)
    def page(response: Any) -> str:
        return "page"

    with pytest.raises(ConfigurationError, match="signin_blueprint"):
        app.test_client().get("/page")


def test_sealed_values_open_only_for_their_purpose_and_cookie() -> None:
    key = b"k" * 32
    refresh, login = Sealer(key, "refresh token"), Sealer(key, "login transaction")
    sealed = refresh.seal("cognises_refresh", b"secret value")
    assert b"secret value" not in sealed.encode()
    assert refresh.open("cognises_refresh", sealed, max_age=60) == b"secret value"
    assert login.open("cognises_refresh", sealed, max_age=60) is None  # another purpose
    assert refresh.open("token_cookie", sealed, max_age=60) is None  # another cookie
    assert Sealer(b"x" * 32, "refresh token").open("cognises_refresh", sealed, max_age=60) is None
    flipped = sealed[:20] + ("A" if sealed[20] != "A" else "B") + sealed[21:]
    assert refresh.open("cognises_refresh", flipped, max_age=60) is None
    for junk in ("", "!!!", "A" * 5000, "\u00e9", "AAAA"):
        assert refresh.open("cognises_refresh", junk, max_age=60) is None
    with mock.patch("time.time", return_value=time.time() + 120):
        assert refresh.open("cognises_refresh", sealed, max_age=60) is None  # too old


def test_duplicate_refresh_cookies_are_ignored(
    issuer: LocalIssuer, login: LocalManagedLogin
) -> None:
    app = make_app(issuer, login)
    client = app.test_client()
    token = issuer.token(username="alice", expires_in=-30)
    answer = client.get(
        "/api", headers={"Cookie": f"token_cookie={token}; cognises_refresh=a; cognises_refresh=b"}
    )
    assert answer.status_code == 401
    assert login.calls["refresh_token"] == 0


# -- the local managed login -------------------------------------------------------------


def authorize_params(issuer: LocalIssuer, **change: str) -> dict[str, str]:
    params = {
        "response_type": "code",
        "client_id": issuer.client_id,
        "redirect_uri": CALLBACK,
        "scope": "openid email",
        "state": "st",
        "code_challenge": "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
        "code_challenge_method": "S256",
    }
    params.update(change)
    return {k: v for k, v in params.items() if v}


@pytest.mark.parametrize(
    ("change", "error"),
    [
        ({"response_type": "token"}, "unsupported_response_type"),
        ({"scope": "openid admin"}, "invalid_scope"),
        ({"code_challenge_method": "plain"}, "invalid_request"),
        ({"code_challenge_method": ""}, "invalid_request"),
    ],
)
def test_authorize_errors_go_back_to_the_app(
    issuer: LocalIssuer, login: LocalManagedLogin, change: dict[str, str], error: str
) -> None:
    with httpx.Client(trust_env=False) as http:
        answer = http.get(
            f"{login.url}/oauth2/authorize", params=authorize_params(issuer, **change)
        )
    assert answer.status_code == 302
    assert query(answer.headers["Location"]) == {"error": error, "state": "st"}


@pytest.mark.parametrize(
    "change", [{"client_id": "other"}, {"redirect_uri": "https://evil.example/cb"}]
)
def test_authorize_never_redirects_to_an_unregistered_uri(
    issuer: LocalIssuer, login: LocalManagedLogin, change: dict[str, str]
) -> None:
    with httpx.Client(trust_env=False, follow_redirects=True) as http:
        answer = http.get(
            f"{login.url}/oauth2/authorize", params=authorize_params(issuer, **change)
        )
    assert answer.status_code == 400
    assert "redirect_mismatch" in answer.text


def test_wrong_password_shows_the_form_again(issuer: LocalIssuer, login: LocalManagedLogin) -> None:
    fields = {**authorize_params(issuer), "username": "alice", "password": "wrong"}
    with httpx.Client(trust_env=False) as http:
        answer = http.post(f"{login.url}/login", data=fields)
    assert answer.status_code == 400
    assert "Incorrect username or password." in answer.text
    assert 'name="state" value="st"' in answer.text


def test_managed_login_session_skips_the_form_until_logout(
    issuer: LocalIssuer, login: LocalManagedLogin
) -> None:
    params = authorize_params(issuer)
    with httpx.Client(trust_env=False) as http:
        http.post(f"{login.url}/login", data={**params, "username": "alice", "password": PASSWORD})
        again = http.get(f"{login.url}/oauth2/authorize", params=params)
        assert again.status_code == 302
        assert "code" in query(again.headers["Location"])
        out = http.get(
            f"{login.url}/logout?"
            + urlencode({"client_id": issuer.client_id, "logout_uri": "http://localhost/"})
        )
        assert out.status_code == 302
        assert out.headers["Location"] == "http://localhost/"
        assert http.get(f"{login.url}/oauth2/authorize", params=params).status_code == 200


def test_logout_refuses_unregistered_uris(issuer: LocalIssuer, login: LocalManagedLogin) -> None:
    with httpx.Client(trust_env=False) as http:
        answer = http.get(
            f"{login.url}/logout",
            params={"client_id": issuer.client_id, "logout_uri": "https://evil.example/"},
        )
    assert answer.status_code == 400


@pytest.mark.parametrize(
    ("form", "error"),
    [
        ({"grant_type": "password", "client_id": "webclient"}, "unsupported_grant_type"),
        ({"grant_type": "authorization_code", "client_id": "other"}, "invalid_client"),
        (
            {"grant_type": "authorization_code", "client_id": "webclient", "code": "x"},
            "invalid_grant",
        ),
        (
            {"grant_type": "refresh_token", "client_id": "webclient", "refresh_token": "x"},
            "invalid_grant",
        ),
    ],
)
def test_token_endpoint_errors_as_cognito_sends_them(
    login: LocalManagedLogin, form: dict[str, str], error: str
) -> None:
    with httpx.Client(trust_env=False) as http:
        answer = http.post(f"{login.url}/oauth2/token", data=form)
    assert answer.status_code == 400
    assert answer.json() == {"error": error}
    assert answer.headers["Content-Type"].startswith("application/json")


def test_token_endpoint_wants_a_form(login: LocalManagedLogin) -> None:
    with httpx.Client(trust_env=False) as http:
        answer = http.post(f"{login.url}/oauth2/token", json={"grant_type": "refresh_token"})
    assert answer.json() == {"error": "invalid_request"}


def test_rotation_grace_period(issuer: LocalIssuer) -> None:
    with managed_login(issuer, rotate_refresh_tokens=True, grace_period=60) as login:
        login._refresh["rt"] = _Grant("alice", ["openid"], "origin", int(time.time()))
        with httpx.Client(trust_env=False) as http:
            form = {
                "grant_type": "refresh_token",
                "client_id": issuer.client_id,
                "refresh_token": "rt",
            }
            first = http.post(f"{login.url}/oauth2/token", data=form).json()
            second = http.post(f"{login.url}/oauth2/token", data=form).json()
        assert first["refresh_token"] != second["refresh_token"]  # both answered: grace period
