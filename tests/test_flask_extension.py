"""The Cognises extension: config, handlers, one verifier and cache per app, testing helpers."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from typing import Any

import pytest
from flask import Flask, jsonify, redirect
from flask_support import bearer, closed_port_url, document
from jwks_server import JWKSServer, Reply
from werkzeug.exceptions import HTTPException, Unauthorized

import cognises
import cognises.flask
import cognises.testing
from cognises.aio import JWKSCache
from cognises.errors import ConfigurationError, ExpiredTokenError
from cognises.flask import Cognises, Rejection, current_claims, login_check, permission_required
from cognises.testing import LocalIssuer, use_local_issuer

GROUPS = document(admins=["report"], viewers=["read"])


@pytest.fixture(scope="module")
def issuer() -> LocalIssuer:
    return LocalIssuer(region="ap-south-1", user_pool_id="ap-south-1_Extension", client_id="web")


def config_for(issuer: LocalIssuer, **extra: Any) -> dict[str, Any]:
    return {
        "TESTING": True,
        "COGNISES_REGION": issuer.region,
        "COGNISES_USER_POOL_ID": issuer.user_pool_id,
        "COGNISES_CLIENT_IDS": [issuer.client_id],
        **extra,
    }


def routes(app: Flask, calls: list[str]) -> None:
    @app.route("/me")
    @login_check()
    def me(response: dict[str, Any]) -> Any:
        calls.append("me")
        return jsonify(email=response["user_email"], groups=response["user_group"])

    @app.route("/async-me")
    @login_check(pass_response=False)
    async def async_me() -> Any:
        calls.append("async-me")
        return jsonify(email=current_claims.email)

    @app.route("/report")
    @login_check()
    @permission_required(GROUPS)
    def report(response: dict[str, Any]) -> str:
        calls.append("report")
        return "report"


# -- configuration -------------------------------------------------------------------------------


def test_login_check_without_arguments_reads_the_config(issuer):
    app = Flask(__name__)
    app.config.update(config_for(issuer))
    extension = Cognises(app)
    calls: list[str] = []
    routes(app, calls)
    use_local_issuer(app, issuer)
    client = app.test_client()
    token = issuer.token(groups=["admins"])
    assert client.get("/me", headers=bearer(token)).get_json() == {
        "email": "alice@example.com",
        "groups": ["admins"],
    }
    assert client.get("/async-me", headers=bearer(token)).get_json() == {
        "email": "alice@example.com"
    }
    assert client.get("/report", headers=bearer(token)).status_code == 200
    # COGNISES_CLIENT_IDS is applied: a token of another client is refused.
    other = client.get("/me", headers=bearer(issuer.token(client_id="mobile")))
    assert other.get_json()["message"] == "token is invalid"
    assert calls == ["me", "async-me", "report"]
    assert app.extensions["cognises"].extension is extension
    verifier = extension.get_verifier(app)
    assert verifier.user_pool_id == issuer.user_pool_id
    assert verifier.rules.client_ids == frozenset({issuer.client_id})


def test_factory_pattern_with_init_app(issuer):
    extension = Cognises()
    url = closed_port_url()
    apps = []
    for _ in range(2):
        app = Flask(__name__)
        app.config.update(config_for(issuer, COGNISES_JWKS_URL=url))
        extension.init_app(app)
        routes(app, [])
        apps.append(app)
    use_local_issuer(apps[0], issuer)
    token = issuer.token()
    assert apps[0].test_client().get("/me", headers=bearer(token)).status_code == 200
    # The second app shares nothing with the first: it has no keys and cannot fetch them.
    assert apps[1].test_client().get("/me", headers=bearer(token)).status_code == 503
    first, second = (extension.get_verifier(app) for app in apps)
    assert first is not second
    assert first.jwks_cache is not second.jwks_cache


def test_without_extension_the_config_is_read_directly(issuer):
    app = Flask(__name__)
    app.config.update(config_for(issuer))
    routes(app, [])
    use_local_issuer(app, issuer)
    assert app.test_client().get("/me", headers=bearer(issuer.token())).status_code == 200
    assert app.extensions["cognises"].extension is None


def test_init_app_keeps_state_made_before_it_and_refuses_a_second_extension(issuer):
    app = Flask(__name__)
    app.config.update(config_for(issuer))
    use_local_issuer(app, issuer)  # makes the state before any extension exists
    state = app.extensions["cognises"]
    extension = Cognises(app)
    extension.init_app(app)  # twice with the same one is fine
    assert app.extensions["cognises"] is state
    assert state.extension is extension
    with pytest.raises(ConfigurationError, match="already initialised"):
        Cognises(app)


def test_missing_pool_config_is_a_clear_error(issuer):
    app = Flask(__name__)
    app.config.update(TESTING=True, COGNISES_REGION="us-east-1")
    extension = Cognises(app)
    routes(app, [])
    with pytest.raises(ConfigurationError, match="COGNISES_USER_POOL_ID"):
        app.test_client().get("/me", headers=bearer(issuer.token()))
    with pytest.raises(ConfigurationError, match="COGNISES_USER_POOL_ID"):
        extension.get_verifier(app)
    app.config["TESTING"] = False
    assert app.test_client().get("/me", headers=bearer(issuer.token())).status_code == 500


BAD_CONFIG = [
    ("COGNISES_TOKEN_LOCATION", "body"),
    ("COGNISES_TOKEN_LOCATION", []),
    ("COGNISES_TOKEN_USE", "refresh"),
    ("COGNISES_CLIENT_IDS", []),
    ("COGNISES_CLIENT_IDS", " , "),
    ("COGNISES_EXEMPT_OPTIONS", "yes"),
    ("COGNISES_COOKIE_NAME", ""),
    ("COGNISES_JWKS_URL", "ftp://example.com/keys"),
    ("COGNISES_JWKS_CACHE", {"ttl": 5}),
    ("COGNISES_REGION", "evil.example/"),
    ("COGNISES_REGION", "x@127.0.0.1:8000/"),
    ("COGNISES_USER_POOL_ID", "ap-south-1_Extension/../x"),
    ("COGNISES_USER_POOL_ID", "eu-west-1_Extension"),
    ("COGNISES_ADDITIONAL_REGIONS", "eu-west-1, evil.example/"),
    ("COGNISES_ADDITIONAL_REGIONS", ["eu-west-1", 7]),
]


@pytest.mark.parametrize(("key", "value"), BAD_CONFIG)
def test_bad_config_values_name_the_problem_at_init_app(issuer, key, value):
    app = Flask(__name__)
    app.config.update(config_for(issuer, **{key: value}))
    with pytest.raises(ConfigurationError, match=key):
        Cognises(app)
    with pytest.raises(ConfigurationError, match=key):
        Cognises().init_app(app)
    assert "cognises" not in app.extensions


@pytest.mark.parametrize(("key", "value"), BAD_CONFIG)
def test_bad_config_values_of_an_app_without_the_extension_fail_its_first_request(
    issuer, key, value
):
    app = Flask(__name__)
    app.config.update(config_for(issuer, **{key: value}))
    calls: list[str] = []
    routes(app, calls)
    expected = "jwks_url" if key == "COGNISES_JWKS_URL" else key
    with pytest.raises(ConfigurationError, match=expected):
        app.test_client().get("/me", headers=bearer(issuer.token()))
    assert calls == []


def test_client_ids_may_be_a_comma_separated_string(issuer):
    app = Flask(__name__)
    app.config.update(config_for(issuer, COGNISES_CLIENT_IDS="web, mobile"))
    routes(app, [])
    use_local_issuer(app, issuer)
    client = app.test_client()
    for client_id in ("web", "mobile"):
        token = issuer.token(client_id=client_id)
        assert client.get("/me", headers=bearer(token)).status_code == 200
    assert client.get("/me", headers=bearer(issuer.token(client_id="tv"))).status_code == 401


def test_named_pool_takes_client_ids_from_config_only_for_that_pool(issuer):
    other = LocalIssuer(region="ap-south-1", user_pool_id="ap-south-1_OtherPool", client_id="web")
    app = Flask(__name__)
    app.config.update(config_for(issuer, COGNISES_TOKEN_USE=None))

    @app.route("/same")
    @login_check(issuer.region, issuer.user_pool_id)
    def same(response: dict[str, Any]) -> str:
        return "same"

    @app.route("/other")
    @login_check(other.region, other.user_pool_id)
    def other_pool(response: dict[str, Any]) -> str:
        return "other"

    use_local_issuer(app, issuer)
    use_local_issuer(app, other)
    client = app.test_client()
    foreign = issuer.token(client_id="tv")
    assert client.get("/same", headers=bearer(foreign)).status_code == 401
    # COGNISES_TOKEN_USE=None (either kind) applies to every pool.
    access = issuer.token(token_use="access")
    assert client.get("/same", headers=bearer(access)).status_code == 200
    # Another pool: the config's client ids belong to the config's pool, not to this one.
    assert client.get("/other", headers=bearer(other.token(client_id="tv"))).status_code == 200


def test_realm_is_configurable_and_quoted(issuer):
    app = Flask(__name__)
    app.config.update(config_for(issuer, COGNISES_REALM='my "app"'))
    routes(app, [])
    response = app.test_client().get("/me")
    assert response.headers["WWW-Authenticate"] == 'Bearer realm="my \\"app\\""'


def test_a_given_jwks_cache_is_used(issuer):
    cache = JWKSCache(cooldown=1.0)
    app = Flask(__name__)
    app.config.update(config_for(issuer, COGNISES_JWKS_CACHE=cache))
    extension = Cognises(app)
    assert extension.get_verifier(app).jwks_cache is cache


# -- one verifier and one key cache per app ----------------------------------------------------


def test_all_views_and_requests_of_an_app_share_one_fetch(issuer):
    with JWKSServer() as server:
        server.reply = Reply.json(issuer.jwks())
        apps = []
        for _ in range(2):
            app = Flask(__name__)
            app.config.update(config_for(issuer, COGNISES_JWKS_URL=server.url()))
            calls: list[str] = []
            routes(app, calls)

            @app.route("/seed")
            @login_check(issuer.region, issuer.user_pool_id, client_ids=issuer.client_id)
            async def seed(response: dict[str, Any]) -> str:
                return "seed"

            apps.append(app)
        token = issuer.token(groups=["admins"])
        for app in apps:
            client = app.test_client()
            for path in ("/me", "/async-me", "/report", "/seed") * 3:
                assert client.get(path, headers=bearer(token)).status_code == 200
        # One fetch per app, whatever the view, its kind, or the decorator's form.
        assert server.count() == 2
        for app in apps:
            state = app.extensions["cognises"]
            assert len({id(b.verifier.jwks_cache) for b in state._bindings.values()}) == 1


# -- failure handlers ----------------------------------------------------------------------------


def test_custom_handlers_answer_instead_of_the_defaults(issuer):
    app = Flask(__name__)
    app.config.update(config_for(issuer))
    extension = Cognises(app)
    seen: list[Rejection] = []
    calls: list[str] = []

    @extension.unauthorized_handler
    def unauthorized(rejection: Rejection) -> Any:
        seen.append(rejection)
        return jsonify(why=rejection.reason), rejection.status, rejection.headers

    @extension.forbidden_handler
    def forbidden(rejection: Rejection) -> Any:
        seen.append(rejection)
        return redirect("/upgrade")

    routes(app, calls)
    use_local_issuer(app, issuer)
    client = app.test_client()
    missing = client.get("/me")
    assert (missing.status_code, missing.get_json()) == (401, {"why": "missing"})
    assert missing.headers["WWW-Authenticate"] == f'Bearer realm="{issuer.user_pool_id}"'
    expired = client.get("/me", headers=bearer(issuer.token(expires_in=-60)))
    assert (expired.status_code, expired.get_json()) == (401, {"why": "expired"})
    invalid = client.get("/me", headers=bearer("x.y.z"))
    assert invalid.get_json() == {"why": "invalid"}
    refused = client.get("/report", headers=bearer(issuer.token(groups=["viewers"])))
    assert (refused.status_code, refused.headers["Location"]) == (302, "/upgrade")
    assert [r.reason for r in seen] == ["missing", "expired", "invalid", "forbidden"]
    assert isinstance(seen[1].error, ExpiredTokenError)
    assert seen[0].error is None
    assert calls == []


def test_a_handler_answering_success_is_refused(issuer):
    app = Flask(__name__)
    app.config.update(config_for(issuer))
    extension = Cognises(app)
    calls: list[str] = []
    extension.unauthorized_handler(lambda rejection: "please log in")
    routes(app, calls)
    with pytest.raises(ConfigurationError, match="must not look like a success"):
        app.test_client().get("/me")
    app.config["TESTING"] = False
    assert app.test_client().get("/me").status_code == 500
    assert calls == []


def test_unavailable_keys_bypass_the_handlers(issuer):
    app = Flask(__name__)
    app.config.update(config_for(issuer, COGNISES_JWKS_URL=closed_port_url()))
    extension = Cognises(app)
    extension.unauthorized_handler(lambda rejection: ("custom", 401))
    routes(app, [])
    response = app.test_client().get("/me", headers=bearer(issuer.token()))
    assert response.status_code == 503
    assert response.get_json()["status"] == 503


def test_app_error_handlers_see_the_default_failures(issuer):
    app = Flask(__name__)
    app.config.update(config_for(issuer))
    calls: list[str] = []
    routes(app, calls)
    use_local_issuer(app, issuer)

    @app.errorhandler(Unauthorized)
    def on_401(error: HTTPException) -> Any:
        rejection = error.rejection  # type: ignore[attr-defined]
        return jsonify(code=error.code, reason=rejection.reason), 401

    @app.errorhandler(403)
    def on_403(error: HTTPException) -> Any:
        return jsonify(code=error.code, description=error.description), 403

    client = app.test_client()
    assert client.get("/me").get_json() == {"code": 401, "reason": "missing"}
    forbidden = client.get("/report", headers=bearer(issuer.token(groups=["viewers"])))
    assert forbidden.get_json() == {"code": 403, "description": "Forbidden access"}
    assert calls == []


def test_rejection_exceptions_are_werkzeug_ones():
    rejection = Rejection.missing(realm="r")
    error = rejection.to_exception()
    assert isinstance(error, Unauthorized)
    assert error.code == 401
    response = error.get_response()
    assert response.status_code == 401
    assert response.get_json() == {"message": "token is missing", "status": 401}
    assert response.headers["WWW-Authenticate"] == 'Bearer realm="r"'
    unavailable = Rejection.unavailable(ConfigurationError("x"), retry_after=0.0)
    assert unavailable.to_exception().get_response().headers["Retry-After"] == "1"
    assert Rejection.unavailable(ConfigurationError("x"), retry_after=9.2).headers == {
        "Retry-After": "10"
    }


# -- testing helpers and public names ------------------------------------------------------------


def test_use_local_issuer_without_an_issuer_matches_the_config(issuer):
    app = Flask(__name__)
    app.config.update(config_for(issuer))
    routes(app, [])
    local = use_local_issuer(app)
    assert (local.region, local.user_pool_id, local.client_id) == (
        issuer.region,
        issuer.user_pool_id,
        issuer.client_id,
    )
    client = app.test_client()
    assert client.get("/me", headers=bearer(local.token())).status_code == 200
    # After a rotation the new key is unknown until the app is told again.
    local.rotate()
    assert client.get("/me", headers=bearer(local.token())).status_code == 401
    use_local_issuer(app, local)
    assert client.get("/me", headers=bearer(local.token())).status_code == 200


def test_use_local_issuer_needs_a_pool_when_given_no_issuer():
    with pytest.raises(ConfigurationError, match="COGNISES_USER_POOL_ID"):
        use_local_issuer(Flask(__name__))


def test_public_names():
    assert cognises.flask.__all__ == [
        "Cognises",
        "Rejection",
        "current_aws_session",
        "current_aws_session_async",
        "current_claims",
        "login_check",
        "permission_required",
        "signin_blueprint",
    ]
    assert cognises.testing.__all__ == sorted(cognises.testing.__all__)
    for name in ("Cognises", "current_claims", "login_check", "permission_required"):
        assert getattr(cognises, name) is getattr(cognises.flask, name)
    for name in cognises.testing.__all__:
        assert getattr(cognises.testing, name) is not None


def test_importing_cognises_testing_loads_neither_moto_nor_flask():
    code = textwrap.dedent(
        """
        import sys
        import cognises.testing
        assert "moto" not in sys.modules
        assert "cognises.testing._emulator" not in sys.modules
        assert "flask" not in sys.modules
        assert cognises.testing.MotoEmulator.__name__ == "MotoEmulator"
        print("ok")
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=False
    )
    assert result.stdout.strip() == "ok", result.stderr


def test_the_sign_in_client_is_the_accepted_one_when_no_client_ids_are_set(caplog):
    issuer = LocalIssuer(region="us-east-1", user_pool_id="us-east-1_OneName1", client_id="web")
    app = Flask(__name__)
    app.config.update(
        COGNISES_REGION=issuer.region,
        COGNISES_USER_POOL_ID=issuer.user_pool_id,
        COGNISES_CLIENT_ID="web",
    )
    Cognises(app)

    @app.get("/me")
    @login_check(pass_response=False)
    def me() -> str:
        return "ok"

    use_local_issuer(app, issuer)
    client = app.test_client()
    assert client.get("/me", headers=bearer(issuer.token())).status_code == 200
    other = issuer.token(client_id="another-client")
    assert client.get("/me", headers=bearer(other)).status_code == 401
    assert "accepts tokens of every app client" not in caplog.text
