"""Shared pieces of the sign-in tests: an app, a local managed login, and a browser walk."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
from flask import Flask, jsonify
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from cognises.flask import current_claims, login_check, signin_blueprint
from cognises.flask._state import state_for
from cognises.testing import LocalIssuer, LocalManagedLogin, use_local_issuer

APP_ORIGIN = "http://localhost"
CALLBACK = f"{APP_ORIGIN}/auth/callback"
PASSWORD = "Correct-Horse-9"


def make_issuer() -> LocalIssuer:
    return LocalIssuer(region="eu-west-1", user_pool_id="eu-west-1_SignIn", client_id="webclient")


@contextlib.contextmanager
def managed_login(issuer: LocalIssuer, **options: Any) -> Iterator[LocalManagedLogin]:
    server = LocalManagedLogin(
        issuer, redirect_uris=[CALLBACK], logout_uris=[f"{APP_ORIGIN}/"], **options
    )
    server.add_user("alice", PASSWORD, groups=["admins"])
    with server:
        yield server


def make_app(issuer: LocalIssuer, login: LocalManagedLogin, **config: Any) -> Flask:
    app = Flask(__name__)
    app.config.update(
        TESTING=True,
        SECRET_KEY="test secret key, long enough",
        COGNISES_REGION=issuer.region,
        COGNISES_USER_POOL_ID=issuer.user_pool_id,
        COGNISES_CLIENT_IDS=[issuer.client_id],
        COGNISES_DOMAIN=login.url,
        COGNISES_CLIENT_ID=issuer.client_id,
        COGNISES_REDIRECT_URI=CALLBACK,
        COGNISES_COOKIE_SECURE=False,
        COGNISES_REFRESH_LEEWAY=0,
    )
    app.config.update(config)
    app.register_blueprint(signin_blueprint(), url_prefix="/auth")
    use_local_issuer(app, issuer)
    calls: list[str] = []
    app.extensions["calls"] = calls

    @app.route("/page", methods=["GET", "POST"])
    @login_check(redirect=True, pass_response=False)
    def page() -> Any:
        calls.append("page")
        return jsonify(user=current_claims.username, groups=current_claims.groups)

    @app.route("/async-page")
    @login_check(redirect=True, pass_response=False)
    async def async_page() -> Any:
        calls.append("async-page")
        return jsonify(user=current_claims.username)

    @app.route("/api", methods=["GET", "POST", "DELETE"])
    @login_check(pass_response=False)
    def api() -> Any:
        calls.append("api")
        return jsonify(user=current_claims.username)

    @app.route("/open", methods=["GET", "POST"])
    def open_view() -> str:
        return "open"

    return app


def location(response: TestResponse) -> str:
    assert response.status_code in (302, 303), response.status_code
    return str(response.headers["Location"])


def query(url: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}


def authorize(login_url: str, username: str = "alice", password: str = PASSWORD) -> str:
    """Walk managed login as a browser would: the form, then its POST; the callback URL."""
    with httpx.Client(trust_env=False) as http:
        form = http.get(login_url)
        assert form.status_code == 200, form.text
        fields = dict(query(login_url), username=username, password=password)
        answer = http.post(
            f"{urlsplit(login_url).scheme}://{urlsplit(login_url).netloc}/login", data=fields
        )
        assert answer.status_code == 302, answer.text
        return answer.headers["Location"]


def sign_in(client: FlaskClient, path: str = "/page") -> TestResponse:
    """From a protected page to signed in; returns the callback's answer."""
    login = location(client.get(path))
    to_managed_login = location(client.get(login))
    callback = authorize(to_managed_login)
    return client.get(callback.removeprefix(APP_ORIGIN))


def signin_state(app: Flask) -> Any:
    signin = state_for(app).signin
    with app.app_context():
        signin.config(app)
    return signin
