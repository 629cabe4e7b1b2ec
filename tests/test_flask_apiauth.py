"""API servers and machine clients in Flask: scopes, machine tokens, check=, audiences and
several pools, on def and async def views, through app.test_client()."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask, jsonify
from flask_support import bearer, document

from cognises.errors import ConfigurationError, InvalidIssuerError, PermissionDenied
from cognises.flask import Cognises, current_claims, login_check, permission_required
from cognises.testing import LocalIssuer, use_local_issuer

KINDS = ["sync", "async"]
MACHINE = "machineclient0000000000001"
API = "https://api.example.test"


@pytest.fixture(scope="module")
def issuer() -> LocalIssuer:
    return LocalIssuer(region="eu-west-1", user_pool_id="eu-west-1_FlaskApi1", client_id="app1")


@pytest.fixture(scope="module")
def second() -> LocalIssuer:
    return LocalIssuer(region="us-west-2", user_pool_id="us-west-2_FlaskApi2", client_id="app2")


@pytest.fixture(params=KINDS)
def kind(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def machine_token(issuer: LocalIssuer, scope: str = "orders/read", **extra: Any) -> str:
    now = int(time.time())
    claims = {
        "sub": MACHINE,
        "token_use": "access",
        "scope": scope,
        "auth_time": now,
        "iss": issuer.issuer,
        "exp": now + 3600,
        "iat": now,
        "version": 2,
        "jti": str(uuid.uuid4()),
        "client_id": MACHINE,
        **extra,
    }
    return issuer.sign(claims)


def user_token(issuer: LocalIssuer, scope: str = "", **options: Any) -> str:
    extra = {"scope": scope} if scope else {}
    return issuer.token(token_use="access", extra=extra, **options)


class App:
    """A Flask app whose views record each call; a refused request leaves no trace."""

    def __init__(self, issuer: LocalIssuer | None, kind: str, **config: Any) -> None:
        self.flask = Flask(__name__)
        self.flask.config.update(TESTING=True, **config)
        self.extension = Cognises(self.flask)
        self.rejections: list[Any] = []
        if issuer is not None:
            use_local_issuer(self.flask, issuer)

        @self.extension.forbidden_handler
        def forbidden(rejection: Any) -> Any:
            self.rejections.append(rejection)
            return rejection.to_exception().get_response()

        self.kind = kind
        self.calls: list[Any] = []
        self.client = self.flask.test_client(use_cookies=False)

    def add(self, name: str, *decorators: Any) -> None:
        calls = self.calls

        if self.kind == "sync":

            def view(*args: Any) -> Any:
                calls.append(args[0] if args else dict(current_claims))
                return jsonify(ok=True)

        else:

            async def view(*args: Any) -> Any:
                calls.append(args[0] if args else dict(current_claims))
                return jsonify(ok=True)

        view.__name__ = view.__qualname__ = name
        for decorator in reversed(decorators):
            view = decorator(view)
        self.flask.add_url_rule(f"/{name}", view_func=view)

    def get(self, name: str, token: str) -> Any:
        return self.client.get(f"/{name}", headers=bearer(token))


def api_login(issuer: LocalIssuer, **options: Any) -> Callable[..., Any]:
    options.setdefault("client_ids", [issuer.client_id, MACHINE])
    return login_check(issuer.region, issuer.user_pool_id, token_use="access", **options)


# --------------------------------------------------------------------------- scopes


def test_scopes_all_of_by_default_with_an_rfc6750_challenge(issuer, kind):
    app = App(issuer, kind)
    app.add(
        "orders", api_login(issuer), permission_required(scopes=["orders/read", "orders/write"])
    )
    assert app.get("orders", machine_token(issuer, "orders/write orders/read")).status_code == 200
    refused = app.get("orders", machine_token(issuer, "orders/read"))
    assert refused.status_code == 403
    assert refused.get_json() == {"message": "Forbidden access", "status": 403}
    assert refused.headers["WWW-Authenticate"] == (
        f'Bearer realm="{issuer.user_pool_id}", error="insufficient_scope", '
        'error_description="Forbidden access", scope="orders/read orders/write"'
    )
    assert len(app.calls) == 1


def test_any_scopes_and_both_kinds_together(issuer, kind):
    app = App(issuer, kind)
    app.add("any", api_login(issuer), permission_required(any_scopes=["a/x", "a/y"]))
    app.add("both", api_login(issuer), permission_required(scopes="a/x", any_scopes=["b/1", "b/2"]))
    assert app.get("any", machine_token(issuer, "a/y")).status_code == 200
    assert app.get("any", machine_token(issuer, "b/1")).status_code == 403
    assert app.get("both", machine_token(issuer, "a/x b/2")).status_code == 200
    assert app.get("both", machine_token(issuer, "a/x")).status_code == 403
    assert app.get("both", machine_token(issuer, "b/1 b/2")).status_code == 403
    assert (
        'scope="a/x b/1 b/2"'
        in app.get("both", machine_token(issuer, "a/x")).headers["WWW-Authenticate"]
    )
    assert len(app.calls) == 2


@pytest.mark.parametrize("space", ["\u00a0", "\u2003"])
def test_scopes_cannot_be_injected_with_unicode_spaces(issuer, kind, space):
    app = App(issuer, kind)
    app.add("admin", api_login(issuer), permission_required(scopes=["admin"]))
    assert app.get("admin", machine_token(issuer, f"orders/read{space}admin")).status_code == 403
    assert app.calls == []


def test_a_scope_claim_that_is_a_list_is_401(issuer, kind):
    app = App(issuer, kind)
    app.add("orders", api_login(issuer), permission_required(scopes=["orders/read"]))
    response = app.get("orders", machine_token(issuer, scope=["orders/read"]))  # type: ignore[arg-type]
    assert response.status_code == 401
    assert app.calls == []


@pytest.mark.parametrize(
    ("groups", "scope", "allowed", "status"),
    [
        (["admins"], "orders/read", True, 200),
        (["viewers"], "orders/read", True, 403),  # the group fails
        (["admins"], "openid", True, 403),  # the scope fails
        (["admins"], "orders/read", False, 403),  # the check fails
        ([], "", False, 403),
    ],
)
def test_groups_scopes_and_check_must_all_pass(issuer, kind, groups, scope, allowed, status):
    app = App(issuer, kind)
    seen: list[Any] = []

    def tenant(claims: Any, request: Any) -> None:
        seen.append(request.path)
        if not allowed:
            raise PermissionDenied("not this tenant")

    app.add(
        "mixed",
        api_login(issuer),
        permission_required(groups=["admins"], scopes="orders/read", check=tenant),
    )
    response = app.get("mixed", user_token(issuer, scope, groups=groups))
    assert response.status_code == status
    assert len(app.calls) == (status == 200)
    # The check runs only once the groups and scopes have passed.
    assert seen == (["/mixed"] if groups == ["admins"] and scope == "orders/read" else [])


# --------------------------------------------------------------------------- machine tokens


def test_a_machine_token_gets_the_seed_response_dict_without_user_fields(issuer, kind):
    app = App(issuer, kind)
    app.add("whoami", api_login(issuer))
    response = app.get("whoami", machine_token(issuer))
    assert response.status_code == 200
    (sent,) = app.calls
    assert sent["user_email"] is None
    assert sent["user_group"] == []
    assert sent["claims"]["client_id"] == MACHINE


@pytest.mark.parametrize(
    "rule",
    [
        pytest.param(lambda: permission_required(groups=["admins"]), id="groups"),
        pytest.param(lambda: permission_required(document(admins=["report"])), id="group-document"),
    ],
)
def test_a_machine_token_on_a_group_protected_view_is_403_saying_why(issuer, kind, rule):
    app = App(issuer, kind)
    app.add("report", api_login(issuer), rule())
    # Even with a cognito:groups claim a trigger might have added.
    response = app.get("report", machine_token(issuer, **{"cognito:groups": ["admins"]}))
    assert response.status_code == 403
    assert app.calls == []
    assert "machine token" in str(app.rejections[0].error)


# --------------------------------------------------------------------------- check=


@pytest.mark.parametrize("check_kind", KINDS)
def test_a_view_check_sees_claims_and_request(issuer, kind, check_kind):
    app = App(issuer, kind)
    seen: list[Any] = []

    def rule(claims: Any, request: Any) -> None:
        seen.append((claims.client_id, request.args.get("tenant")))
        if request.args.get("tenant") != "a":
            raise PermissionDenied("expected tenant a")

    async def async_rule(claims: Any, request: Any) -> None:
        rule(claims, request)

    app.add(
        "t",
        api_login(issuer),
        permission_required(check=rule if check_kind == "sync" else async_rule),
    )
    token = machine_token(issuer)
    assert app.client.get("/t?tenant=a", headers=bearer(token)).status_code == 200
    assert app.client.get("/t?tenant=b", headers=bearer(token)).status_code == 403
    assert seen == [(MACHINE, "a"), (MACHINE, "b")]
    assert len(app.calls) == 1


def test_a_view_check_raising_a_token_error_is_401(issuer, kind):
    app = App(issuer, kind)

    def revoked(claims: Any, request: Any) -> None:
        raise InvalidIssuerError("revoked", claim="jti")

    app.add("r", api_login(issuer), permission_required(check=revoked))
    response = app.get("r", machine_token(issuer))
    assert response.status_code == 401
    assert 'error="invalid_token"' in response.headers["WWW-Authenticate"]
    assert app.calls == []


def test_a_bug_in_a_view_check_is_no_401(issuer, kind):
    app = App(issuer, kind)

    def buggy(claims: Any, request: Any) -> None:
        raise KeyError("tenant")

    app.add("b", api_login(issuer), permission_required(check=buggy))
    app.add("f", api_login(issuer), permission_required(check=lambda claims, request: False))
    with pytest.raises(KeyError):  # TESTING propagates it; in production, a 500
        app.get("b", machine_token(issuer))
    with pytest.raises(ConfigurationError, match="returns None"):
        app.get("f", machine_token(issuer))
    assert app.calls == []


def test_the_verifiers_check_answers_401_or_403_on_every_request(issuer, second, kind):
    verdicts: list[Exception | None] = [None, PermissionDenied("suspended"), None]

    def check(header: Any, claims: Any) -> None:
        verdict = verdicts.pop(0) if verdicts else InvalidIssuerError("gone", claim="iss")
        if verdict is not None:
            raise verdict

    pools = [
        {
            "region": issuer.region,
            "user_pool_id": issuer.user_pool_id,
            "check": check,
            "token_use": "access",
        },
    ]
    app = App(issuer, kind, COGNISES_POOLS=pools)
    app.add("p", login_check())
    token = user_token(issuer)  # the same token each time: result-cache hits after the second
    assert [app.get("p", token).status_code for _ in range(4)] == [200, 403, 200, 401]
    assert len(app.calls) == 2


# --------------------------------------------------------------------------- audiences, pools


def test_cognises_audiences_binds_access_tokens_to_this_api(issuer, kind):
    app = App(
        issuer,
        kind,
        COGNISES_REGION=issuer.region,
        COGNISES_USER_POOL_ID=issuer.user_pool_id,
        COGNISES_CLIENT_IDS=[issuer.client_id, MACHINE],
        COGNISES_TOKEN_USE="access",
        COGNISES_AUDIENCES=f"{API}, urn:other",
    )
    app.add("bound", login_check())
    assert app.get("bound", user_token(issuer)).status_code == 401  # bound to no resource
    assert app.get("bound", machine_token(issuer, aud="urn:other")).status_code == 200
    ok = issuer.token(token_use="access", extra={"aud": [API, "urn:third"]})
    assert app.get("bound", ok).status_code == 200
    wrong = issuer.token(token_use="access", extra={"aud": "https://elsewhere.test"})
    assert app.get("bound", wrong).status_code == 401


def test_cognises_pools_route_each_token_to_its_pool(issuer, second, kind):
    pools = [
        {"region": issuer.region, "user_pool_id": issuer.user_pool_id, "client_ids": "app1"},
        {
            "region": second.region,
            "user_pool_id": second.user_pool_id,
            "client_ids": "app2",
            "token_use": "access",
        },
    ]
    app = App(issuer, kind, COGNISES_POOLS=pools)
    use_local_issuer(app.flask, second)
    app.add("any", login_check())
    assert app.get("any", issuer.token()).status_code == 200
    assert app.get("any", second.token(token_use="access")).status_code == 200
    assert app.get("any", second.token()).status_code == 401  # the second takes access only
    stranger = LocalIssuer(user_pool_id="eu-west-1_Stranger9", client_id="app1")
    assert app.get("any", stranger.token()).status_code == 401
    # iss of the first pool, kid (and key) of the second.
    forged = second.sign(issuer.claims())
    assert app.get("any", forged).status_code == 401
    assert len(app.calls) == 2
    verifier = app.extension.get_verifier(app.flask)
    assert [p.user_pool_id for p in verifier.pools] == [issuer.user_pool_id, second.user_pool_id]


def test_use_local_issuer_after_the_first_request_reaches_the_pools(issuer, second, kind):
    pools = [
        {"region": issuer.region, "user_pool_id": issuer.user_pool_id, "client_ids": "app1"},
        {"region": second.region, "user_pool_id": second.user_pool_id, "client_ids": "app2"},
    ]
    app = App(issuer, kind, COGNISES_POOLS=pools)
    app.add("any", login_check())
    assert app.get("any", issuer.token()).status_code == 200
    use_local_issuer(app.flask, second)
    assert app.get("any", second.token()).status_code == 200


@pytest.mark.parametrize(
    ("config", "words"),
    [
        ({"COGNISES_POOLS": {"region": "us-east-1"}}, "list of dicts"),
        ({"COGNISES_POOLS": []}, "at least one"),
        ({"COGNISES_POOLS": ["us-east-1_X"]}, "expected a dict"),
        ({"COGNISES_POOLS": [{"region": "us-east-1"}]}, "user_pool_id"),
        (
            {
                "COGNISES_POOLS": [
                    {"region": "us-east-1", "user_pool_id": "us-east-1_Pool1", "colour": 1}
                ]
            },
            "colour",
        ),
        (
            {
                "COGNISES_POOLS": [
                    {"region": "us-east-1", "user_pool_id": "us-east-1_Pool1", "token_use": "x"}
                ]
            },
            "token_use",
        ),
        (
            {
                "COGNISES_POOLS": [{"region": "us-east-1", "user_pool_id": "us-east-1_Pool1"}],
                "COGNISES_REGION": "us-east-1",
                "COGNISES_USER_POOL_ID": "us-east-1_Pool2",
            },
            "both set",
        ),
        (
            {
                "COGNISES_REGION": "us-east-1",
                "COGNISES_USER_POOL_ID": "us-east-1_Pool2",
                "COGNISES_AUDIENCES": 7,
            },
            "AUDIENCES",
        ),
    ],
)
def test_bad_pool_and_audience_config_is_refused_naming_the_key(config, words):
    # Refused when the extension is set up (Cognises(app)) where the config alone shows
    # it, else when the pools are made, at the first request.
    with pytest.raises(ConfigurationError, match=words):  # noqa: PT012
        app = App(None, "sync", **config)
        app.add("v", login_check())
        app.get("v", "x.y.z")


def test_login_check_options_do_not_mix_with_cognises_pools(issuer):
    app = App(
        issuer, "sync", COGNISES_POOLS=[{"region": "us-east-1", "user_pool_id": "us-east-1_Pool1"}]
    )
    app.add("v", login_check(token_use="access"))
    with pytest.raises(ConfigurationError, match="COGNISES_POOLS"):
        app.get("v", "x.y.z")


def test_an_async_verifier_check_runs_on_def_and_async_def_views(issuer, kind):
    seen: list[str] = []

    async def check(header: Any, claims: Any) -> None:
        seen.append(claims.client_id)
        if claims.client_id != MACHINE:
            raise PermissionDenied("machines only")

    pools = [
        {
            "region": issuer.region,
            "user_pool_id": issuer.user_pool_id,
            "client_ids": [issuer.client_id, MACHINE],
            "token_use": "access",
            "check": check,
        }
    ]
    app = App(issuer, kind, COGNISES_POOLS=pools)
    app.add("m", login_check())
    token = machine_token(issuer)
    assert [app.get("m", token).status_code for _ in range(3)] == [200, 200, 200]
    assert app.get("m", user_token(issuer)).status_code == 403
    assert seen == [MACHINE, MACHINE, MACHINE, issuer.client_id]
    assert len(app.calls) == 3
