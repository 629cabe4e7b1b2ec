"""Revocation and freshness in Flask (issue 16), against the moto server over HTTP."""

from __future__ import annotations

import base64
import json
import logging
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import boto3
import httpx
import pytest
from flask import Flask
from flask_support import bearer, document, serve
from test_revocation import Clock, closed_port_url, get_user_calls

from cognises import sync
from cognises._claims import Claims
from cognises.errors import ConfigurationError
from cognises.flask import Cognises, current_claims, login_check, permission_required
from cognises.testing._cognito import PoolSetup, create_pool, create_user, log_in
from cognises.testing._emulator import MotoEmulator


@pytest.fixture(scope="module")
def cognito(moto_server: MotoEmulator) -> Any:
    return boto3.client("cognito-idp", **moto_server.client_kwargs())


@pytest.fixture(scope="module")
def pool(cognito: Any) -> PoolSetup:
    setup = create_pool(cognito, f"flask-revoke-{uuid.uuid4().hex[:8]}")
    create_user(cognito, setup, "alice", groups=["staff"])
    return setup


@pytest.fixture
def aws_env(monkeypatch: pytest.MonkeyPatch, moto_server: MotoEmulator) -> None:
    for name, value in (
        ("AWS_ACCESS_KEY_ID", "testing"),
        ("AWS_SECRET_ACCESS_KEY", "testing"),
        ("AWS_DEFAULT_REGION", moto_server.region),
    ):
        monkeypatch.setenv(name, value)


def make_app(
    moto_server: MotoEmulator, pool: PoolSetup, *, extension: bool = True, **config: Any
) -> tuple[Flask, Cognises | None]:
    app = Flask(__name__)
    app.testing = True  # a ConfigurationError reaches the test, not a 500
    app.config.update(
        COGNISES_REGION=moto_server.region,
        COGNISES_USER_POOL_ID=pool.user_pool_id,
        COGNISES_CLIENT_IDS=[pool.client_id],
        COGNISES_JWKS_URL=moto_server.jwks_url(pool.user_pool_id),
        COGNISES_TOKEN_USE="access",
        COGNISES_COGNITO_ENDPOINT_URL=moto_server.endpoint,
    )
    app.config.update(config)
    cognises = Cognises(app) if extension else None

    @app.route("/sync")
    @login_check(pass_response=False)
    def sync_view() -> str:
        return str(current_claims.username)

    @app.route("/async")
    @login_check(pass_response=False)
    async def async_view() -> str:
        return str(current_claims.username)

    @app.route("/editors")
    @login_check(pass_response=False)
    @permission_required(groups=["editors"], live=True)
    def editors() -> str:
        return ",".join(sorted(current_claims.groups))

    @app.route("/editors-async")
    @login_check(pass_response=False)
    @permission_required(document(editors=["edit_async"]), live=True)
    async def edit_async() -> str:
        return "ok"

    return app, cognises


def revoke(moto_server: MotoEmulator, pool: PoolSetup, tokens: dict[str, str]) -> None:
    sync.revoke(
        tokens["RefreshToken"],
        client_id=pool.client_id,
        region=moto_server.region,
        endpoint_url=moto_server.endpoint,
    )


@pytest.mark.parametrize("path", ["/sync", "/async"])
def test_revoked_then_refused_within_ttl(moto_server, pool, cognito, path):
    clock = Clock()
    online = sync.OnlineCheck(ttl=60, endpoint_url=moto_server.endpoint, clock=clock)
    app, _ = make_app(moto_server, pool, COGNISES_ONLINE_CHECK=online)
    client = app.test_client()
    tokens = log_in(cognito, pool, "alice")
    before = get_user_calls(moto_server)
    for _ in range(3):
        assert client.get(path, headers=bearer(tokens["AccessToken"])).text == "alice"
    assert get_user_calls(moto_server) == before + 1
    revoke(moto_server, pool, tokens)
    assert client.get(path, headers=bearer(tokens["AccessToken"])).status_code == 200
    clock.now += 61
    refused = client.get(path, headers=bearer(tokens["AccessToken"]))
    assert refused.status_code == 401
    assert "invalid_token" in refused.headers["WWW-Authenticate"]
    assert tokens["AccessToken"] not in refused.text


def test_online_check_from_config_keys(moto_server, pool, cognito):
    app, cognises = make_app(
        moto_server, pool, COGNISES_ONLINE_CHECK=True, COGNISES_ONLINE_CHECK_TTL=5
    )
    assert cognises is not None
    assert cognises.get_verifier(app).online_check.ttl == 5
    tokens = log_in(cognito, pool, "alice")
    cognito.admin_user_global_sign_out(UserPoolId=pool.user_pool_id, Username="alice")
    fresh = log_in(cognito, pool, "alice")  # signed in after the sign-out: fine
    client = app.test_client()
    assert client.get("/async", headers=bearer(tokens["AccessToken"])).status_code == 401
    assert client.get("/sync", headers=bearer(tokens["AccessToken"])).status_code == 401
    assert client.get("/sync", headers=bearer(fresh["AccessToken"])).status_code == 200


@pytest.mark.parametrize("path", ["/sync", "/async"])
def test_cognito_down_is_503_by_default(moto_server, pool, cognito, path):
    app, _ = make_app(
        moto_server,
        pool,
        COGNISES_ONLINE_CHECK=True,
        COGNISES_COGNITO_ENDPOINT_URL=closed_port_url(),
    )
    answer = app.test_client().get(
        path, headers=bearer(log_in(cognito, pool, "alice")["AccessToken"])
    )
    assert answer.status_code == 503
    assert int(answer.headers["Retry-After"]) >= 1


def test_cognito_down_with_fail_open_passes_with_a_warning(moto_server, pool, cognito, caplog):
    app, _ = make_app(
        moto_server,
        pool,
        COGNISES_ONLINE_CHECK=True,
        COGNISES_FAIL_OPEN=True,
        COGNISES_COGNITO_ENDPOINT_URL=closed_port_url(),
    )
    token = log_in(cognito, pool, "alice")["AccessToken"]
    with caplog.at_level(logging.WARNING, logger="cognises"):
        assert app.test_client().get("/async", headers=bearer(token)).text == "alice"
    assert "fail_open" in caplog.text
    assert token not in caplog.text


@pytest.mark.parametrize("how", ["config", "loader"])
def test_is_revoked_from_the_app(moto_server, pool, cognito, how):
    denylist = sync.Denylist()
    if how == "config":
        app, _ = make_app(moto_server, pool, COGNISES_IS_REVOKED=denylist)
    else:
        app, cognises = make_app(moto_server, pool)
        assert cognises is not None
        assert cognises.revocation_loader(denylist) is denylist
    client = app.test_client()
    tokens, other = log_in(cognito, pool, "alice"), log_in(cognito, pool, "alice")
    for path in ("/sync", "/async"):
        assert client.get(path, headers=bearer(tokens["AccessToken"])).status_code == 200
    with app.test_request_context():
        denylist.add(
            sync.CognitoVerifier(
                moto_server.region,
                pool.user_pool_id,
                client_ids=pool.client_id,
                token_use="access",
                jwks_url=moto_server.jwks_url(pool.user_pool_id),
            ).verify(tokens["AccessToken"])
        )
    for path in ("/sync", "/async"):
        assert client.get(path, headers=bearer(tokens["AccessToken"])).status_code == 401
        assert client.get(path, headers=bearer(other["AccessToken"])).status_code == 200


def test_async_revocation_loader_on_sync_and_async_views(moto_server, pool, cognito):
    app, cognises = make_app(moto_server, pool)
    assert cognises is not None
    asked: list[str] = []

    @cognises.revocation_loader
    async def is_revoked(claims: Claims) -> bool:
        asked.append(claims["origin_jti"])
        return True

    for path in ("/sync", "/async"):
        assert (
            app.test_client()
            .get(path, headers=bearer(log_in(cognito, pool, "alice")["AccessToken"]))
            .status_code
            == 401
        )
    assert len(asked) == 2


def test_revocation_config_is_checked_at_init(moto_server, pool):
    for key, value in (
        ("COGNISES_IS_REVOKED", "not callable"),
        ("COGNISES_ONLINE_CHECK", "yes"),
        ("COGNISES_ONLINE_CHECK_TTL", 0),
        ("COGNISES_LIVE_GROUPS_TTL", True),
        ("COGNISES_FAIL_OPEN", "no"),
        ("COGNISES_COGNITO_ENDPOINT_URL", 9),
        ("COGNISES_LIVE_GROUPS", object()),
    ):
        with pytest.raises(ConfigurationError, match=key):
            make_app(moto_server, pool, **{key: value})
    with pytest.raises(ConfigurationError, match="a function of the claims"):
        Cognises().revocation_loader("no")  # type: ignore[arg-type]


def test_both_is_revoked_and_a_loader_are_refused(moto_server, pool, cognito):
    app, cognises = make_app(moto_server, pool, COGNISES_IS_REVOKED=lambda claims: False)
    assert cognises is not None
    cognises.revocation_loader(lambda claims: False)
    with pytest.raises(ConfigurationError, match="both"):
        app.test_client().get(
            "/sync", headers=bearer(log_in(cognito, pool, "alice")["AccessToken"])
        )


def test_online_check_with_id_tokens_is_a_configuration_error(moto_server, pool, cognito):
    app, _ = make_app(moto_server, pool, COGNISES_ONLINE_CHECK=True, COGNISES_TOKEN_USE="id")
    with pytest.raises(ConfigurationError, match="online_check"):
        app.test_client().get("/sync", headers=bearer(log_in(cognito, pool, "alice")["IdToken"]))


# --- live groups -------------------------------------------------------------------------


@pytest.mark.usefixtures("aws_env")
@pytest.mark.parametrize("path", ["/editors", "/editors-async"])
def test_group_removal_is_403_within_ttl(moto_server, pool, cognito, path):
    username = f"gina-{uuid.uuid4().hex[:6]}"
    create_user(cognito, pool, username, groups=["staff", "editors"])
    clock = Clock()
    live = sync.LiveGroups(
        moto_server.region,
        pool.user_pool_id,
        ttl=30,
        endpoint_url=moto_server.endpoint,
        clock=clock,
    )
    app, _ = make_app(moto_server, pool, COGNISES_LIVE_GROUPS=live)
    client = app.test_client()
    token = log_in(cognito, pool, username)["AccessToken"]
    assert client.get(path, headers=bearer(token)).status_code == 200
    cognito.admin_remove_user_from_group(
        UserPoolId=pool.user_pool_id, Username=username, GroupName="editors"
    )
    assert client.get(path, headers=bearer(token)).status_code == 200  # within ttl
    clock.now += 31
    assert client.get(path, headers=bearer(token)).status_code == 403
    # The token still says editors: without live=True it would pass.
    cognito.admin_add_user_to_group(
        UserPoolId=pool.user_pool_id, Username=username, GroupName="editors"
    )
    clock.now += 31
    assert client.get(path, headers=bearer(token)).status_code == 200


@pytest.mark.usefixtures("aws_env")
def test_live_groups_grant_a_group_the_token_lacks(moto_server, pool, cognito):
    username = f"hal-{uuid.uuid4().hex[:6]}"
    create_user(cognito, pool, username, groups=["staff"])
    app, _ = make_app(moto_server, pool)
    token = log_in(cognito, pool, username)["AccessToken"]
    client = app.test_client()
    assert client.get("/editors", headers=bearer(token)).status_code == 403
    cognito.admin_add_user_to_group(
        UserPoolId=pool.user_pool_id, Username=username, GroupName="editors"
    )
    app2, _ = make_app(moto_server, pool)  # a fresh app: nothing cached
    answer = app2.test_client().get("/editors", headers=bearer(token))
    assert answer.status_code == 200
    assert answer.text == "staff"  # current_claims keeps the token's groups


@pytest.mark.usefixtures("aws_env")
@pytest.mark.parametrize("path", ["/editors", "/editors-async"])
def test_live_groups_cognito_down(moto_server, pool, cognito, path, caplog):
    username = f"ivy-{uuid.uuid4().hex[:6]}"
    create_user(cognito, pool, username, groups=["editors"])
    token = log_in(cognito, pool, username)["AccessToken"]
    down, _ = make_app(moto_server, pool, COGNISES_COGNITO_ENDPOINT_URL=closed_port_url())
    assert down.test_client().get(path, headers=bearer(token)).status_code == 503
    open_, _ = make_app(
        moto_server, pool, COGNISES_COGNITO_ENDPOINT_URL=closed_port_url(), COGNISES_FAIL_OPEN=True
    )
    with caplog.at_level(logging.WARNING, logger="cognises"):
        assert open_.test_client().get(path, headers=bearer(token)).status_code == 200
    assert "fail_open" in caplog.text


def test_live_needs_a_group_rule():
    with pytest.raises(ConfigurationError, match="live=True"):
        permission_required(scopes=["read"], live=True)


@pytest.mark.usefixtures("aws_env")
def test_live_groups_of_another_pool_are_refused(moto_server, pool, cognito):
    live = sync.LiveGroups(moto_server.region, "us-east-1_other", endpoint_url=moto_server.endpoint)
    app, _ = make_app(moto_server, pool, COGNISES_LIVE_GROUPS=live)
    with pytest.raises(ConfigurationError, match="COGNISES_LIVE_GROUPS"):
        app.test_client().get(
            "/editors", headers=bearer(log_in(cognito, pool, "alice")["AccessToken"])
        )


def test_a_loader_registered_after_the_first_request_is_refused(moto_server, pool, cognito):
    app, cognises = make_app(moto_server, pool)
    assert cognises is not None
    token = log_in(cognito, pool, "alice")["AccessToken"]
    assert app.test_client().get("/sync", headers=bearer(token)).status_code == 200
    with pytest.raises(ConfigurationError, match="after the first request"):
        cognises.revocation_loader(lambda claims: True)


@pytest.mark.parametrize("path", ["/sync", "/async"])
def test_200_concurrent_requests_over_http_make_one_get_user(
    moto_server, pool, cognito, faults, path
):
    online = sync.OnlineCheck(ttl=60, endpoint_url=moto_server.endpoint)
    app, _ = make_app(moto_server, pool, COGNISES_ONLINE_CHECK=online)
    token = log_in(cognito, pool, "alice")["AccessToken"]
    before = get_user_calls(moto_server)
    faults.reset(latency=0.05)  # the first GetUser is still in flight while others arrive
    with serve(app, quiet=True) as base, httpx.Client(base_url=base) as http:

        def ask(_: int) -> int:
            return http.get(path, headers=bearer(token)).status_code

        with ThreadPoolExecutor(max_workers=32) as pool_of_threads:
            statuses = list(pool_of_threads.map(ask, range(200)))
    assert statuses == [200] * 200
    assert get_user_calls(moto_server) == before + 1


def test_cognises_pools_get_the_apps_revocation_hooks(moto_server, pool, cognito):
    denylist = sync.Denylist()
    app, _ = make_app(
        moto_server,
        pool,
        COGNISES_REGION=None,
        COGNISES_USER_POOL_ID=None,
        COGNISES_POOLS=[
            {
                "region": moto_server.region,
                "user_pool_id": pool.user_pool_id,
                "client_ids": pool.client_id,
                "jwks_url": moto_server.jwks_url(pool.user_pool_id),
            }
        ],
        COGNISES_IS_REVOKED=denylist,
    )
    tokens = log_in(cognito, pool, "alice")
    client = app.test_client()
    assert client.get("/async", headers=bearer(tokens["AccessToken"])).status_code == 200
    denylist.add(key=_origin(tokens["AccessToken"]), until=time.time() + 3600)
    assert client.get("/async", headers=bearer(tokens["AccessToken"])).status_code == 401
    assert client.get("/sync", headers=bearer(tokens["AccessToken"])).status_code == 401


def _origin(token: str) -> str:
    payload = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))["origin_jti"]
