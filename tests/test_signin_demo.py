"""The demo's browser sign-in: the example app, a moto pool, and managed login signing with
moto's key, so the app verifies the tokens against moto's JWKS as it would against AWS."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType
from typing import Any

import boto3
import pytest
from signin_support import authorize, location

from cognises.cli import _demo_signin
from cognises.cli._demo import USERS
from cognises.testing._cognito import PASSWORD, create_pool
from cognises.testing._emulator import MotoEmulator

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def example_module() -> ModuleType:
    spec = importlib.util.spec_from_file_location("cognises_example_signin", EXAMPLES / "app.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def demo(moto_server: MotoEmulator) -> Any:
    cognito = boto3.client("cognito-idp", **moto_server.client_kwargs())
    pool = create_pool(cognito, "signin-demo")
    login = _demo_signin.start_managed_login(
        moto_server.region, pool.user_pool_id, pool.client_id, USERS, PASSWORD
    )
    try:
        app = example_module().create_app(
            {
                "COGNISES_REGION": moto_server.region,
                "COGNISES_USER_POOL_ID": pool.user_pool_id,
                "COGNISES_CLIENT_ID": pool.client_id,
                "COGNISES_JWKS_URL": moto_server.jwks_url(pool.user_pool_id),
                **_demo_signin.signin_env(login),
            }
        )
        app.config["TESTING"] = True
        url = _demo_signin.open_signin(app, login, 80)
        yield app, login, url
    finally:
        login.stop()


def test_demo_users_sign_in_and_their_groups_apply(demo: Any) -> None:
    app, login, url = demo
    assert url == "http://localhost:80/home"
    client = app.test_client()
    to_login = location(client.get("/home"))
    assert to_login == "/auth/login?next=/home"
    callback = authorize(location(client.get(to_login)), "bob", PASSWORD)
    assert location(client.get(callback.removeprefix("http://localhost:80"))) == "/home"
    home = client.get("/home")
    assert home.status_code == 200
    assert b"Signed in as bob" in home.data
    assert b"Groups: editors" in home.data
    assert client.get("/protected").status_code == 200  # editors may
    assert client.get("/admin_panel").status_code == 403  # admins only
    assert login.calls["authorization_code"] == 1


def test_demo_sign_in_needs_the_right_password(demo: Any) -> None:
    app, _, _ = demo
    client = app.test_client()
    target = location(client.get("/auth/login"))
    with pytest.raises(AssertionError):
        authorize(target, "alice", "wrong")


def test_example_app_has_no_sign_in_unless_configured() -> None:
    app = example_module().create_app({"COGNISES_USER_POOL_ID": "us-east-1_X"})
    assert "cognises" not in app.blueprints
    assert app.test_client().get("/home").status_code == 404
