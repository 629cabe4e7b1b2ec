"""Flask behind an ALB: ``COGNISES_TOKEN_LOCATION = "alb"``, def and async def views.

The ALB's keys come from ``LocalAlb.serve()`` on 127.0.0.1; the pool's from a
``LocalIssuer`` the app trusts (``use_local_issuer``).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask, jsonify
from flask_support import closed_port_url

from cognises.errors import ConfigurationError
from cognises.flask import Cognises, current_claims, login_check, permission_required
from cognises.testing import AlbKeyServer, LocalAlb, LocalIssuer, use_local_issuer


def closed_key_url() -> str:
    """A key URL on 127.0.0.1 where nothing listens."""
    return closed_port_url().replace("/jwks.json", "/{kid}")


OTHER_ARN = "arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/app/other/1"


@pytest.fixture
def pool() -> LocalIssuer:
    return LocalIssuer()


@pytest.fixture
def alb(pool: LocalIssuer) -> LocalAlb:
    return LocalAlb(region=pool.region, client_id=pool.client_id, issuer=pool.issuer)


@pytest.fixture
def keys(alb: LocalAlb) -> Iterator[AlbKeyServer]:
    with alb.serve() as server:
        yield server


def make_app(pool: LocalIssuer, alb: LocalAlb, key_url: str, **config: Any) -> Flask:
    app = Flask(__name__)
    app.config.update(
        TESTING=True,
        COGNISES_REGION=pool.region,
        COGNISES_USER_POOL_ID=pool.user_pool_id,
        COGNISES_CLIENT_IDS=pool.client_id,
        COGNISES_TOKEN_LOCATION="alb",
        COGNISES_ALB_ARNS=alb.arn,
        COGNISES_ALB_KEY_URL=key_url,
    )
    app.config.update(config)
    Cognises(app)

    @app.get("/me")
    @login_check()
    def me(response: dict[str, Any]) -> Any:
        return jsonify(
            email=response["user_email"],
            groups=response["user_group"],
            token_use=current_claims.token_use,
            username=current_claims.username,
        )

    @app.get("/async-me")
    @login_check(pass_response=False)
    async def async_me() -> Any:
        return jsonify(email=current_claims.email, groups=current_claims.groups)

    @app.get("/admin")
    @login_check()
    @permission_required(groups=["admins"])
    def admin(response: dict[str, Any]) -> Any:
        return jsonify(ok=True)

    @app.get("/async-admin")
    @login_check(pass_response=False)
    @permission_required(groups=["admins"])
    async def async_admin() -> Any:
        return jsonify(ok=True)

    use_local_issuer(app, pool)
    return app


def alb_headers(
    alb: LocalAlb, pool: LocalIssuer, *, groups: list[str] | None = None, **options: Any
) -> dict[str, str]:
    data = options.pop("data", None) or alb.token(username="alice", email="alice@example.com")
    access = options.pop("access", None) or pool.token(
        token_use="access", username="alice", groups=groups or []
    )
    return {"x-amzn-oidc-data": data, "x-amzn-oidc-accesstoken": access, **options}


@pytest.mark.parametrize("path", ["/me", "/async-me"])
def test_a_request_through_the_alb_reaches_the_view(pool, alb, keys, path):
    client = make_app(pool, alb, keys.key_url).test_client()
    answer = client.get(path, headers=alb_headers(alb, pool, groups=["staff"]))
    assert answer.status_code == 200, answer.get_json()
    body = answer.get_json()
    assert body["email"] == "alice@example.com"  # from the ALB's token
    assert body["groups"] == ["staff"]  # from the pool's access token
    if path == "/me":
        assert body["token_use"] == "access"
        assert body["username"] == "alice"
    assert keys.requests == [f"/{alb.kid}"]


@pytest.mark.parametrize("path", ["/admin", "/async-admin"])
def test_groups_come_from_the_access_token(pool, alb, keys, path):
    client = make_app(pool, alb, keys.key_url).test_client()
    assert client.get(path, headers=alb_headers(alb, pool, groups=["admins"])).status_code == 200
    assert client.get(path, headers=alb_headers(alb, pool, groups=["staff"])).status_code == 403


@pytest.mark.parametrize("path", ["/admin", "/async-admin"])
def test_groups_in_the_alb_token_grant_nothing(pool, alb, keys, path):
    client = make_app(pool, alb, keys.key_url).test_client()
    data = alb.token(username="alice", extra={"cognito:groups": ["admins"], "scope": "admin"})
    answer = client.get(path, headers=alb_headers(alb, pool, data=data))
    assert answer.status_code == 403


@pytest.mark.parametrize("path", ["/me", "/async-me", "/admin"])
@pytest.mark.parametrize(
    "missing",
    [
        ("x-amzn-oidc-data",),
        ("x-amzn-oidc-accesstoken",),
        ("x-amzn-oidc-data", "x-amzn-oidc-accesstoken"),
    ],
)
def test_a_request_without_the_alb_headers_gets_401(pool, alb, keys, path, missing):
    client = make_app(pool, alb, keys.key_url).test_client()
    headers = alb_headers(alb, pool)
    for name in missing:
        del headers[name]
    answer = client.get(path, headers=headers)
    assert answer.status_code == 401
    assert "WWW-Authenticate" in answer.headers


@pytest.mark.parametrize("path", ["/me", "/async-me"])
def test_a_bearer_token_does_not_stand_in_for_the_alb_headers(pool, alb, keys, path):
    client = make_app(pool, alb, keys.key_url).test_client()
    headers = {"Authorization": f"Bearer {pool.token(token_use='access')}"}
    assert client.get(path, headers=headers).status_code == 401


@pytest.mark.parametrize("path", ["/me", "/async-me"])
def test_a_forged_alb_token_gets_401(pool, alb, keys, path, caplog):
    caplog.set_level(logging.DEBUG, logger="cognises.flask")
    client = make_app(pool, alb, keys.key_url).test_client()
    forger = LocalAlb(region=pool.region, client_id=pool.client_id, issuer=pool.issuer)
    forger.arn, forger.kid = alb.arn, alb.kid
    forger.keys = {alb.kid: forger.keys.popitem()[1]}  # the right kid, another key
    headers = alb_headers(alb, pool, data=forger.token(username="alice"))
    answer = client.get(path, headers=headers)
    assert answer.status_code == 401
    assert "found one that does not match" in caplog.text


@pytest.mark.parametrize("path", ["/me", "/async-me"])
def test_another_albs_token_gets_401_and_no_fetch(pool, alb, keys, path):
    client = make_app(pool, alb, keys.key_url).test_client()
    alb.arn = OTHER_ARN
    assert client.get(path, headers=alb_headers(alb, pool)).status_code == 401
    assert keys.requests == []


@pytest.mark.parametrize("path", ["/me", "/async-me"])
def test_someone_elses_access_token_gets_401(pool, alb, keys, path):
    client = make_app(pool, alb, keys.key_url).test_client()
    access = pool.token(token_use="access", username="root", groups=["admins"])
    assert client.get(path, headers=alb_headers(alb, pool, access=access)).status_code == 401


def test_an_id_token_in_place_of_the_access_token_gets_401(pool, alb, keys):
    client = make_app(pool, alb, keys.key_url, COGNISES_TOKEN_USE="id").test_client()
    headers = alb_headers(alb, pool, access=pool.token(token_use="id", username="alice"))
    assert client.get("/me", headers=headers).status_code == 401


@pytest.mark.parametrize("path", ["/me", "/async-me"])
def test_an_unreachable_alb_key_server_gets_503(pool, alb, path):
    client = make_app(pool, alb, closed_key_url()).test_client()
    answer = client.get(path, headers=alb_headers(alb, pool))
    assert answer.status_code == 503
    assert int(answer.headers["Retry-After"]) > 0


def test_the_key_is_fetched_once_for_the_app(pool, alb, keys):
    client = make_app(pool, alb, keys.key_url).test_client()
    for path in ("/me", "/async-me", "/admin", "/async-admin", "/me"):
        assert (
            client.get(path, headers=alb_headers(alb, pool, groups=["admins"])).status_code == 200
        )
    assert keys.requests == [f"/{alb.kid}"]


@pytest.mark.parametrize(
    ("config", "match"),
    [
        ({"COGNISES_ALB_ARNS": None}, "COGNISES_ALB_ARNS"),
        ({"COGNISES_ALB_ARNS": []}, "COGNISES_ALB_ARNS"),
        ({"COGNISES_ALB_ARNS": "not-an-arn"}, "alb_arns"),
        ({"COGNISES_TOKEN_LOCATION": ["alb", "header"]}, "'alb' alone"),
        ({"COGNISES_ALB_KEY_URL": "http://keys.example/{kid}"}, "key_url"),
        ({"COGNISES_ALB_KEY_URL": 5}, "COGNISES_ALB_KEY_URL"),
    ],
)
def test_bad_alb_config_is_a_clear_error(pool, alb, keys, config, match):
    # At Cognises(app) where the config alone shows it, else at the first request.
    with pytest.raises(ConfigurationError, match=match):  # noqa: PT012
        app = make_app(pool, alb, keys.key_url, **config)
        app.test_client().get("/me", headers=alb_headers(alb, pool))


def test_alb_arns_may_be_a_comma_separated_string(pool, alb, keys):
    app = make_app(pool, alb, keys.key_url, COGNISES_ALB_ARNS=f"{OTHER_ARN}, {alb.arn}")
    assert app.test_client().get("/me", headers=alb_headers(alb, pool)).status_code == 200


@pytest.mark.parametrize("path", ["/me", "/async-me"])
def test_an_identity_header_of_another_user_gets_401(pool, alb, keys, path):
    client = make_app(pool, alb, keys.key_url).test_client()
    good = alb_headers(alb, pool, **{"x-amzn-oidc-identity": alb.claims(username="alice")["sub"]})
    assert client.get(path, headers=good).status_code == 200
    bad = alb_headers(alb, pool, **{"x-amzn-oidc-identity": alb.claims(username="root")["sub"]})
    assert client.get(path, headers=bad).status_code == 401
