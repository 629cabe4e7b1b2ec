"""End to end: a real werkzeug server, real tokens from a moto user pool, requests over HTTP."""

from __future__ import annotations

import base64
import importlib.util
import json
import uuid
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import boto3
import httpx
import pytest
from flask import Flask, jsonify
from flask_support import bearer, document, serve

from cognises import Cognises, current_claims, login_check, permission_required
from cognises.testing import LocalIssuer
from cognises.testing._cognito import PoolSetup, create_pool, create_user, log_in
from cognises.testing._emulator import MotoEmulator

GROUPS = document(admins=["admin", "async_admin"], viewers=["read"])
EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "app.py"


@pytest.fixture(scope="module")
def pool(moto_server: MotoEmulator) -> tuple[PoolSetup, dict[str, dict[str, str]]]:
    cognito = boto3.client("cognito-idp", **moto_server.client_kwargs())
    setup = create_pool(cognito, f"flask-{uuid.uuid4().hex[:8]}")
    users = {
        "alice": ["admins"],
        "bob": ["viewers"],
        "carol": [],
        "dave": ["strangers"],
        "erin": ["editors", "viewers"],
    }
    for name, groups in users.items():
        create_user(cognito, setup, name, groups=groups, email=f"{name}@example.com")
    return setup, {name: log_in(cognito, setup, name) for name in users}


def _app(moto_server: MotoEmulator, setup: PoolSetup) -> Flask:
    app = Flask(__name__)
    app.config.update(
        COGNISES_REGION=moto_server.region,
        COGNISES_USER_POOL_ID=setup.user_pool_id,
        COGNISES_CLIENT_IDS=setup.client_id,
        COGNISES_JWKS_URL=moto_server.jwks_url(setup.user_pool_id),
    )
    Cognises(app)

    @app.route("/admin")
    @login_check()
    @permission_required(GROUPS)
    def admin(response: dict[str, Any]) -> Any:
        return jsonify(user=response["user_email"], groups=response["user_group"])

    @app.route("/async_admin")
    @login_check()
    @permission_required(GROUPS)
    async def async_admin(response: dict[str, Any]) -> Any:
        return jsonify(user=response["user_email"], groups=response["user_group"])

    @app.route("/whoami")
    @login_check(pass_response=False)
    async def whoami() -> Any:
        return jsonify(user=current_claims.username, email=current_claims.email)

    return app


@pytest.fixture(scope="module")
def http(moto_server: MotoEmulator, pool) -> Iterator[httpx.Client]:
    setup, _ = pool
    with serve(_app(moto_server, setup)) as base, httpx.Client(base_url=base) as client:
        yield client


@pytest.mark.parametrize("path", ["/admin", "/async_admin"])
def test_allowed_user_gets_in_with_a_real_token(http, pool, path):
    _, tokens = pool
    response = http.get(path, headers=bearer(tokens["alice"]["IdToken"]))
    assert response.status_code == 200
    assert response.json() == {"user": "alice@example.com", "groups": ["admins"]}
    cookie = http.get(path, headers={"Cookie": f"token_cookie={tokens['alice']['IdToken']}"})
    assert cookie.status_code == 200


@pytest.mark.parametrize("path", ["/admin", "/async_admin"])
@pytest.mark.parametrize("user", ["bob", "carol", "dave", "erin"])
def test_users_without_an_allowing_group_are_forbidden(http, pool, path, user):
    _, tokens = pool
    response = http.get(path, headers=bearer(tokens[user]["IdToken"]))
    assert response.status_code == 403
    assert response.json() == {"message": "Forbidden access", "status": 403}
    assert 'error="insufficient_scope"' in response.headers["WWW-Authenticate"]


@pytest.mark.parametrize("path", ["/admin", "/async_admin", "/whoami"])
def test_missing_token_over_http(http, pool, path):
    setup, _ = pool
    response = http.get(path)
    assert response.status_code == 401
    assert response.json() == {"message": "token is missing", "status": 401}
    assert response.headers["WWW-Authenticate"] == f'Bearer realm="{setup.user_pool_id}"'


def _segments(token: str) -> list[str]:
    return token.split(".")


def _decode(segment: str) -> dict[str, Any]:
    return json.loads(base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4)))


def _forgeries(tokens: dict[str, dict[str, str]]) -> dict[str, str]:
    bob = tokens["bob"]["IdToken"]
    header, payload, signature = _segments(bob)
    claims = _decode(payload)
    claims["cognito:groups"] = ["admins"]
    raised = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    # A key of our own, under the pool's real kid.
    impostor = LocalIssuer()
    resigned = impostor.sign(claims, header=_decode(header), key=impostor.keys[impostor.kid])
    return {
        "groups-edited": f"{header}.{raised}.{signature}",
        "resigned-with-another-key": resigned,
        "access-token-for-id": tokens["alice"]["AccessToken"],
        "refresh-token": tokens["alice"]["RefreshToken"],
    }


@pytest.mark.parametrize(
    "forgery",
    ["groups-edited", "resigned-with-another-key", "access-token-for-id", "refresh-token"],
)
@pytest.mark.parametrize("path", ["/admin", "/async_admin", "/whoami"])
def test_forged_tokens_are_invalid(http, pool, path, forgery):
    _, tokens = pool
    response = http.get(path, headers=bearer(_forgeries(tokens)[forgery]))
    assert response.status_code == 401
    assert response.json() == {"message": "token is invalid", "status": 401}
    assert 'error="invalid_token"' in response.headers["WWW-Authenticate"]


def test_current_claims_over_http(http, pool):
    _, tokens = pool
    response = http.get("/whoami", headers=bearer(tokens["erin"]["IdToken"], "bearer"))
    assert response.json() == {"user": "erin", "email": "erin@example.com"}


# -- the example app, pointed at moto as the demo does ---------------------------------------


def load_example() -> ModuleType:
    spec = importlib.util.spec_from_file_location("cognises_example_app", EXAMPLE)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_example_app_against_moto(moto_server, pool):
    setup, tokens = pool
    app = load_example().create_app(
        {
            "COGNISES_REGION": moto_server.region,
            "COGNISES_USER_POOL_ID": setup.user_pool_id,
            "COGNISES_CLIENT_IDS": setup.client_id,
            "COGNISES_JWKS_URL": moto_server.jwks_url(setup.user_pool_id),
        }
    )
    with serve(app) as base, httpx.Client(base_url=base) as client:

        def status(method: str, path: str, user: str | None) -> int:
            headers = bearer(tokens[user]["IdToken"]) if user else {}
            return client.request(method, path, headers=headers).status_code

        assert status("GET", "/", None) == 200
        assert status("GET", "/protected", None) == 401
        assert status("GET", "/protected", "alice") == 200
        assert status("POST", "/protected", "bob") == 200
        assert status("GET", "/protected", "carol") == 403
        assert status("GET", "/admin_panel", "alice") == 200
        assert status("GET", "/admin_panel", "erin") == 403
        assert status("POST", "/update_data", "erin") == 200
        assert status("POST", "/update_data", "bob") == 403
        assert status("GET", "/view_data", "bob") == 200
        assert status("GET", "/view_data", "dave") == 403
        protected = client.get("/protected", headers=bearer(tokens["alice"]["IdToken"]))
        assert protected.text == "alice@example.com"
        whoami = client.get("/whoami", headers=bearer(tokens["erin"]["IdToken"])).json()
        # moto keeps a user's groups in a set: their order in the token varies between runs.
        assert sorted(whoami.pop("groups")) == ["editors", "viewers"]
        assert whoami == {"username": "erin", "email": "erin@example.com"}
