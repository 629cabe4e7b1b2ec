"""Every way the sign-in callback refuses: a clear 4xx/5xx page, never a partial sign-in."""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import urlencode

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from flask.testing import FlaskClient
from flask_support import closed_port_url
from signin_support import (
    APP_ORIGIN,
    authorize,
    location,
    make_app,
    make_issuer,
    managed_login,
    query,
    sign_in,
)
from werkzeug.test import TestResponse

from cognises.testing import LocalIssuer, LocalManagedLogin


@pytest.fixture(scope="module")
def issuer() -> LocalIssuer:
    return make_issuer()


@pytest.fixture
def login(issuer: LocalIssuer) -> Iterator[LocalManagedLogin]:
    with managed_login(issuer) as server:
        yield server


@pytest.fixture
def client(issuer: LocalIssuer, login: LocalManagedLogin) -> FlaskClient:
    return make_app(issuer, login).test_client()


def start(client: FlaskClient) -> dict[str, str]:
    """Begin a sign-in; the parameters sent to managed login."""
    return query(location(client.get("/auth/login")))


def callback(client: FlaskClient, **params: str) -> TestResponse:
    return client.get(f"/auth/callback?{urlencode(params)}")


def assert_not_signed_in(client: FlaskClient, answer: TestResponse, status: int) -> None:
    assert answer.status_code == status, answer.data
    assert answer.mimetype == "text/html"
    assert answer.headers["Cache-Control"] == "no-store"
    assert client.get_cookie("token_cookie") is None
    assert client.get_cookie("cognises_refresh") is None
    assert client.get_cookie("cognises_login") is None  # the transaction is over
    assert location(client.get("/page")).startswith("/auth/login")


def test_callback_without_a_login_cookie(client: FlaskClient) -> None:
    answer = callback(client, code="abc", state="xyz")
    assert_not_signed_in(client, answer, 400)
    assert b"No sign-in was started in this browser" in answer.data


def test_callback_with_a_forged_login_cookie(client: FlaskClient) -> None:
    start(client)
    cookie = client.get_cookie("cognises_login")
    assert cookie is not None
    tampered = cookie.value[:-4] + ("AAAA" if not cookie.value.endswith("AAAA") else "BBBB")
    client.set_cookie("cognises_login", tampered)
    assert_not_signed_in(client, callback(client, code="abc", state="x"), 400)


def test_callback_with_another_state(client: FlaskClient) -> None:
    start(client)
    answer = callback(client, code="abc", state="not-the-state")
    assert_not_signed_in(client, answer, 400)
    assert b"state" in answer.data


def test_callback_with_no_state(client: FlaskClient) -> None:
    start(client)
    assert_not_signed_in(client, callback(client, code="abc"), 400)


def test_replayed_callback_is_refused(client: FlaskClient, login: LocalManagedLogin) -> None:
    params = start(client)
    sealed = client.get_cookie("cognises_login")
    assert sealed is not None
    back = authorize(f"{login.url}/oauth2/authorize?{urlencode(params)}")
    path = back.removeprefix(APP_ORIGIN)
    assert location(client.get(path)) == "/"
    # The same answer again, with the login cookie put back as an attacker who copied it would.
    other = client.application.test_client()
    other.set_cookie("cognises_login", sealed.value)
    answer = other.get(path)
    assert_not_signed_in(other, answer, 400)
    assert b"already used" in answer.data


def test_access_denied_is_401_and_escapes_what_the_server_said(client: FlaskClient) -> None:
    params = start(client)
    answer = callback(
        client,
        state=params["state"],
        error="access_denied",
        error_description="<script>alert(1)</script>" + "x" * 500,
    )
    assert_not_signed_in(client, answer, 401)
    assert b"<script>" not in answer.data
    assert b"&lt;script&gt;" in answer.data
    assert b"x" * 300 not in answer.data  # bounded


def test_other_authorization_errors_are_400(client: FlaskClient) -> None:
    params = start(client)
    answer = callback(client, state=params["state"], error="invalid_scope")
    assert_not_signed_in(client, answer, 400)
    assert b"invalid_scope" in answer.data


def test_callback_without_a_code(client: FlaskClient) -> None:
    params = start(client)
    assert_not_signed_in(client, callback(client, state=params["state"]), 400)


def test_invalid_grant_from_the_token_endpoint(client: FlaskClient) -> None:
    params = start(client)
    answer = callback(client, state=params["state"], code="never-issued")
    assert_not_signed_in(client, answer, 400)
    assert b"invalid_grant" in answer.data


def test_wrong_pkce_verifier_is_invalid_grant(
    client: FlaskClient, login: LocalManagedLogin
) -> None:
    params = start(client)
    # Managed login is asked with another challenge than the one this browser's verifier makes.
    params["code_challenge"] = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
    back = authorize(f"{login.url}/oauth2/authorize?{urlencode(params)}")
    answer = client.get(back.removeprefix(APP_ORIGIN))
    assert_not_signed_in(client, answer, 400)
    assert b"invalid_grant" in answer.data


def test_id_token_with_another_nonce_is_401(client: FlaskClient, login: LocalManagedLogin) -> None:
    params = start(client)
    params["nonce"] = "someone-elses-nonce-" + "x" * 30
    back = authorize(f"{login.url}/oauth2/authorize?{urlencode(params)}")
    answer = client.get(back.removeprefix(APP_ORIGIN))
    assert_not_signed_in(client, answer, 401)
    assert b"nonce" in answer.data


def test_tokens_signed_by_a_stranger_are_401(issuer: LocalIssuer) -> None:
    stranger = make_issuer()
    # Same kid, another key: the signature check is what must catch it.
    stranger.keys = {issuer.kid: rsa.generate_private_key(public_exponent=65537, key_size=2048)}
    stranger.kid = issuer.kid
    with managed_login(stranger) as login:
        app = make_app(issuer, login)
        client = app.test_client()
        answer = sign_in(client)
        assert_not_signed_in(client, answer, 401)
        assert b"did not pass verification" in answer.data


def test_keys_unavailable_is_503(issuer: LocalIssuer) -> None:
    other_pool = LocalIssuer(
        region="eu-west-1", user_pool_id="eu-west-1_Other", client_id="webclient"
    )
    with managed_login(other_pool) as login:
        app = make_app(
            issuer,
            login,
            COGNISES_USER_POOL_ID=other_pool.user_pool_id,
            COGNISES_JWKS_URL=closed_port_url(),
        )
        client = app.test_client()
        answer = sign_in(client)
        assert answer.status_code == 503
        assert client.get_cookie("token_cookie") is None


def test_token_endpoint_unreachable_is_502(issuer: LocalIssuer, login: LocalManagedLogin) -> None:
    dead = closed_port_url().removesuffix("/jwks.json")
    client = make_app(issuer, login, COGNISES_DOMAIN=dead).test_client()
    params = start(client)
    answer = callback(client, state=params["state"], code="abc")
    assert_not_signed_in(client, answer, 502)


def test_login_next_is_kept_only_when_same_origin(
    client: FlaskClient, login: LocalManagedLogin
) -> None:
    for given, expected in [
        ("/reports?q=1", "/reports?q=1"),
        ("//evil.example", "/"),
        ("/\\evil.example", "/"),
        ("https://evil.example/", "/"),
        ("/\tevil", "/"),
    ]:
        params = query(location(client.get("/auth/login?" + urlencode({"next": given}))))
        back = authorize(f"{login.url}/oauth2/authorize?{urlencode(params)}")
        assert location(client.get(back.removeprefix(APP_ORIGIN))) == expected
