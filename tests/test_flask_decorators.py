"""login_check and permission_required on def and async def views, through app.test_client()."""

from __future__ import annotations

import inspect
import json
import logging
from collections.abc import Callable
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from flask import Flask, jsonify
from flask.testing import FlaskClient
from flask_support import bearer, closed_port_url, document
from jwks_server import JWKSServer, Reply

from cognises.errors import ConfigurationError, GroupDetailError
from cognises.flask import current_claims, login_check, permission_required
from cognises.testing import LocalIssuer, use_local_issuer

KINDS = ["sync", "async"]

GROUPS = document(
    admins=["report", "admin_only"],
    editors=["report", "edit"],
    viewers=["read"],
)


@pytest.fixture(scope="module")
def issuer() -> LocalIssuer:
    return LocalIssuer(region="eu-west-1", user_pool_id="eu-west-1_Decorate1", client_id="app1")


@pytest.fixture(params=KINDS)
def kind(request: pytest.FixtureRequest) -> str:
    return str(request.param)


class Recorder:
    """Views that record what they were called with; a rejected request leaves no trace."""

    def __init__(self) -> None:
        self.calls: list[Any] = []

    def view(self, kind: str, name: str) -> Callable[..., Any]:
        calls = self.calls

        def answer(args: tuple[Any, ...]) -> Any:
            response = args[0] if args else {"email": current_claims.email}
            calls.append(response)
            return jsonify(response)

        if kind == "sync":

            def view(*args: Any, **kwargs: Any) -> Any:
                return answer(args)

        else:

            async def view(*args: Any, **kwargs: Any) -> Any:
                return answer(args)

        view.__name__ = view.__qualname__ = name
        return view


def make_app(issuer: LocalIssuer, **config: Any) -> Flask:
    app = Flask(__name__)
    app.config.update(TESTING=True, **config)
    use_local_issuer(app, issuer)
    return app


def raw_client(app: Flask) -> FlaskClient:
    """A test client that sends Cookie headers as given (its own cookie jar would drop them)."""
    return app.test_client(use_cookies=False)


def protect(issuer: LocalIssuer, **options: Any) -> Callable[[Callable[..., Any]], Any]:
    options.setdefault("client_ids", issuer.client_id)
    return login_check(issuer.region, issuer.user_pool_id, **options)


def add(app: Flask, view: Callable[..., Any], *decorators: Any, **route: Any) -> None:
    for decorator in reversed(decorators):
        view = decorator(view)
    app.add_url_rule(f"/{view.__name__}", view_func=view, **route)


@pytest.fixture
def recorder() -> Recorder:
    return Recorder()


@pytest.fixture
def app(issuer: LocalIssuer, kind: str, recorder: Recorder) -> Flask:
    app = make_app(issuer)
    add(app, recorder.view(kind, "profile"), protect(issuer))
    add(app, recorder.view(kind, "report"), protect(issuer), permission_required(GROUPS))
    return app


def challenge(realm: str, error: str | None = None, description: str | None = None) -> str:
    text = f'Bearer realm="{realm}"'
    if error:
        text += f', error="{error}", error_description="{description}"'
    return text


# -- success -------------------------------------------------------------------------------


def test_valid_token_gets_the_seed_response_dict(app, issuer, recorder):
    claims = issuer.claims(groups=["editors", "viewers"])
    response = raw_client(app).get("/profile", headers=bearer(issuer.sign(claims)))
    assert response.status_code == 200
    expected = {
        "status": 200,
        "message": "Validation successful",
        "user_email": "alice@example.com",
        "user_group": ["editors", "viewers"],
        "claims": claims,
    }
    assert response.get_json() == expected
    assert recorder.calls == [expected]


def test_user_without_groups_gets_an_empty_group_list(app, issuer, recorder):
    response = raw_client(app).get("/profile", headers=bearer(issuer.token(groups=None)))
    assert response.status_code == 200
    assert response.get_json()["user_group"] == []


def test_access_tokens_are_accepted_when_asked_for(issuer, kind, recorder):
    app = make_app(issuer)
    add(app, recorder.view(kind, "api"), protect(issuer, token_use="access"))
    client = raw_client(app)
    ok = client.get("/api", headers=bearer(issuer.token(token_use="access", groups=["a"])))
    assert ok.status_code == 200
    assert ok.get_json()["user_group"] == ["a"]
    assert ok.get_json()["user_email"] is None
    refused = client.get("/api", headers=bearer(issuer.token(token_use="id")))
    assert refused.status_code == 401
    assert refused.get_json() == {"message": "token is invalid", "status": 401}


# -- failures: status, body, headers, and the view never called ------------------------------


def test_missing_token_is_401_with_a_realm_challenge(app, issuer, recorder):
    response = raw_client(app).get("/profile")
    assert response.status_code == 401
    assert response.get_json() == {"message": "token is missing", "status": 401}
    assert response.headers["WWW-Authenticate"] == challenge(issuer.user_pool_id)
    assert response.mimetype == "application/json"
    assert recorder.calls == []


def _other_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.mark.parametrize(
    "make_token",
    [
        pytest.param(lambda issuer: "not-a-jwt", id="garbage"),
        pytest.param(lambda issuer: issuer.token() + "x", id="truncated-signature"),
        pytest.param(
            lambda issuer: issuer.sign(issuer.claims(), key=_other_key()), id="forged-signature"
        ),
        pytest.param(lambda issuer: issuer.token(client_id="someone-else"), id="other-client"),
        pytest.param(lambda issuer: issuer.token(token_use="access"), id="access-for-id"),
        pytest.param(
            lambda issuer: LocalIssuer(user_pool_id=issuer.user_pool_id).token(), id="other-pool"
        ),
    ],
)
def test_invalid_token_is_401_invalid_token(app, issuer, recorder, make_token):
    response = raw_client(app).get("/profile", headers=bearer(make_token(issuer)))
    assert response.status_code == 401
    assert response.get_json() == {"message": "token is invalid", "status": 401}
    assert response.headers["WWW-Authenticate"] == challenge(
        issuer.user_pool_id, "invalid_token", "token is invalid"
    )
    assert recorder.calls == []


def test_expired_token_is_401_token_has_expired(app, issuer, recorder):
    token = issuer.token(groups=["admins"], expires_in=-60)
    for path in ("/profile", "/report"):
        response = raw_client(app).get(path, headers=bearer(token))
        assert response.status_code == 401
        assert response.get_json() == {"message": "token has expired", "status": 401}
        assert response.headers["WWW-Authenticate"] == challenge(
            issuer.user_pool_id, "invalid_token", "token has expired"
        )
    assert recorder.calls == []


def test_forbidden_is_403_insufficient_scope(app, issuer, recorder):
    response = raw_client(app).get("/report", headers=bearer(issuer.token(groups=["viewers"])))
    assert response.status_code == 403
    assert response.get_json() == {"message": "Forbidden access", "status": 403}
    assert response.headers["WWW-Authenticate"] == challenge(
        issuer.user_pool_id, "insufficient_scope", "Forbidden access"
    )
    assert recorder.calls == []


def test_unreachable_keys_are_503_with_retry_after(kind, recorder):
    issuer = LocalIssuer(user_pool_id="us-east-1_Unreach01")
    app = Flask(__name__)
    app.config["TESTING"] = True
    url = closed_port_url()
    add(app, recorder.view(kind, "profile"), protect(issuer, jwks_url=url))
    client = raw_client(app)
    for _ in range(2):
        response = client.get("/profile", headers=bearer(issuer.token()))
        assert response.status_code == 503
        assert response.get_json() == {
            "message": "token cannot be verified now, try again later",
            "status": 503,
        }
        assert int(response.headers["Retry-After"]) >= 1
        assert "WWW-Authenticate" not in response.headers
    assert recorder.calls == []
    # The second request was answered from the failure's cooldown, without a new fetch.
    cache = app.extensions["cognises"]._jwks_cache
    assert cache.fetch_count(url) == 1


def test_jwks_server_error_is_503(kind, recorder):
    issuer = LocalIssuer(user_pool_id="us-east-1_Jwks500x1")
    with JWKSServer() as server:
        server.reply = Reply(status=500, body=b"oops")
        app = Flask(__name__)
        app.config["TESTING"] = True
        add(app, recorder.view(kind, "profile"), protect(issuer, jwks_url=server.url()))
        response = raw_client(app).get("/profile", headers=bearer(issuer.token()))
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "10"  # the cache's default cooldown
    assert server.count() == 1
    assert recorder.calls == []


# -- where the token comes from ----------------------------------------------------------------


@pytest.mark.parametrize("scheme", ["Bearer", "bearer", "BEARER", "bEaReR"])
def test_bearer_scheme_is_case_insensitive(app, issuer, scheme):
    response = raw_client(app).get("/profile", headers=bearer(issuer.token(), scheme))
    assert response.status_code == 200


def test_token_cookie_is_read(app, issuer, recorder):
    response = raw_client(app).get("/profile", headers={"Cookie": f"token_cookie={issuer.token()}"})
    assert response.status_code == 200
    assert recorder.calls[0]["user_email"] == "alice@example.com"


def test_token_cookie_set_by_the_server_is_read(issuer, kind, recorder):
    app = make_app(issuer)
    add(app, recorder.view(kind, "profile"), protect(issuer))

    @app.route("/login")
    def log_in() -> Any:
        response = jsonify(ok=True)
        response.set_cookie("token_cookie", issuer.token(), httponly=True)
        return response

    client = app.test_client()
    assert client.get("/profile").status_code == 401
    client.get("/login")
    assert client.get("/profile").status_code == 200


def test_same_token_in_header_and_cookie_is_one_token(app, issuer):
    token = issuer.token()
    headers = {**bearer(token), "Cookie": f"token_cookie={token}"}
    assert raw_client(app).get("/profile", headers=headers).status_code == 200


@pytest.mark.parametrize(
    "headers",
    [
        pytest.param(lambda t, u: {**bearer(t), "Cookie": f"token_cookie={u}"}, id="header+cookie"),
        pytest.param(lambda t, u: {"Cookie": f"token_cookie={t}; token_cookie={u}"}, id="2cookies"),
        pytest.param(lambda t, u: [("Authorization", f"Bearer {t}")] * 2, id="two-headers"),
        pytest.param(lambda t, u: {"Authorization": f"Basic {t}"}, id="basic-scheme"),
        pytest.param(lambda t, u: {"Authorization": t}, id="no-scheme"),
        pytest.param(lambda t, u: {"Authorization": "Bearer"}, id="scheme-only"),
        pytest.param(lambda t, u: {"Authorization": f"Bearer {t} {u}"}, id="two-parts"),
    ],
)
def test_ambiguous_or_odd_credentials_are_invalid(app, issuer, recorder, headers):
    response = raw_client(app).get(
        "/profile", headers=headers(issuer.token(), issuer.token(username="bob"))
    )
    assert response.status_code == 401
    assert response.get_json() == {"message": "token is invalid", "status": 401}
    assert 'error="invalid_token"' in response.headers["WWW-Authenticate"]
    assert recorder.calls == []


@pytest.mark.parametrize(
    "headers", [{"Authorization": ""}, {"Authorization": "   "}, {"Cookie": "token_cookie="}]
)
def test_blank_credentials_count_as_missing(app, headers):
    response = raw_client(app).get("/profile", headers=headers)
    assert response.status_code == 401
    assert response.get_json()["message"] == "token is missing"


def test_locations_and_names_are_configurable(issuer, kind, recorder):
    app = make_app(
        issuer,
        COGNISES_TOKEN_LOCATION="cookie",
        COGNISES_COOKIE_NAME="id_token",
    )
    add(app, recorder.view(kind, "profile"), protect(issuer))
    client = raw_client(app)
    token = issuer.token()
    assert client.get("/profile", headers=bearer(token)).status_code == 401
    assert client.get("/profile", headers={"Cookie": f"token_cookie={token}"}).status_code == 401
    assert client.get("/profile", headers={"Cookie": f"id_token={token}"}).status_code == 200

    app = make_app(
        issuer,
        COGNISES_TOKEN_LOCATION=["header"],
        COGNISES_HEADER_NAME="X-Token",
        COGNISES_HEADER_SCHEME="JWT",
    )
    add(app, recorder.view(kind, "profile"), protect(issuer))
    client = raw_client(app)
    assert client.get("/profile", headers={"X-Token": f"jwt {token}"}).status_code == 200
    assert client.get("/profile", headers=bearer(token)).status_code == 401
    odd = client.get("/profile", headers={"X-Token": f"Bearer {token}"})
    assert odd.get_json()["message"] == "token is invalid"


# -- the seed README's examples, as written ---------------------------------------------------

SEED_LOGIN_CHECK = """
from cognises import login_check

@app.route('/protected', methods=['GET','POST'])
@login_check('cognito_pool_region', 'cognito_pool_id')
def protected(response):
\tif response['status'] == 200:
\t\treturn response['user_email']
\telse:
\t\treturn response['message']
"""

SEED_PERMISSION_REQUIRED = """
from cognises import login_check, permission_required

@app.route('/protected', methods=['GET','POST'])
@login_check('cognito_pool_region', 'cognito_pool_id')
@permission_required(group_details)
def protected(response):
\tif response['status'] == 200:
\t\treturn response['user_email']
\telse:
\t\treturn response['message']
"""

# The README's sample group document, as written there.
SEED_GROUP_DETAILS = json.loads("""
[
  {
    "group_name": "Group1",
    "group_policy": {
      "Version": "2012-10-17",
      "Statement": [
        {
          "Sid": "Stmt1524591948858",
          "Action": "cognito-idp:*",
          "Effect": "Allow",
          "Resource": "arn:aws:cognito-idp:us-east-1:userid:userpool/pool_id"
        }
      ]
    },
    "created": "false",
    "allowed_functions": ["protected", "admin_panel", "update_data"]
  },
  {
    "group_name": "String",
    "group_policy": {
      "Version": "2012-10-17",
      "Statement": [
        {
          "Sid": "Stmt1524591948858",
          "Action": "cognito-idp:*",
          "Effect": "Allow",
          "Resource": "arn:aws:cognito-idp:us-east-1:userid:userpool/pool_id"
        }
      ]
    },
    "created": "false",
    "allowed_functions": ["public", "view_data"]
  }
]
""")


# The README's placeholders, filled in as a user would: a real region and a pool id of it.
SEED_POOL = ("'cognito_pool_region', 'cognito_pool_id'", "'us-east-1', 'us-east-1_SeedPool1'")


def seed_app(source: str, kind: str) -> tuple[Flask, LocalIssuer]:
    if kind == "async":
        source = source.replace("def protected(", "async def protected(")
    source = source.replace(*SEED_POOL)
    app = Flask(__name__)
    issuer = LocalIssuer(region="us-east-1", user_pool_id="us-east-1_SeedPool1")
    use_local_issuer(app, issuer)
    namespace = {"app": app, "group_details": SEED_GROUP_DETAILS}
    exec(compile(source, "<seed README>", "exec"), namespace)
    assert inspect.iscoroutinefunction(app.view_functions["protected"]) == (kind == "async")
    return app, issuer


def test_seed_login_check_example_runs_unchanged(kind):
    app, issuer = seed_app(SEED_LOGIN_CHECK, kind)
    client = raw_client(app)
    for method in (client.get, client.post):
        ok = method("/protected", headers={"Cookie": f"token_cookie={issuer.token()}"})
        assert ok.status_code == 200
        assert ok.get_data(as_text=True) == "alice@example.com"
    missing = client.get("/protected")
    assert missing.status_code == 401
    assert missing.get_json() == {"message": "token is missing", "status": 401}
    expired = client.post("/protected", headers=bearer(issuer.token(expires_in=-60)))
    assert expired.status_code == 401
    assert expired.get_json() == {"message": "token has expired", "status": 401}


def test_seed_permission_required_example_runs_unchanged(kind):
    app, issuer = seed_app(SEED_PERMISSION_REQUIRED, kind)
    client = raw_client(app)
    ok = client.get("/protected", headers=bearer(issuer.token(groups=["Group1"])))
    assert ok.status_code == 200
    assert ok.get_data(as_text=True) == "alice@example.com"
    forbidden = client.post("/protected", headers=bearer(issuer.token(groups=["String"])))
    assert forbidden.status_code == 403
    assert forbidden.get_json() == {"message": "Forbidden access", "status": 403}
    assert client.get("/protected").status_code == 401


def test_seed_examples_placeholders_are_refused_where_they_are_written():
    # Left unfilled, they would build the key URL https://cognito-idp.cognito_pool_region...
    for source in (SEED_LOGIN_CHECK, SEED_PERMISSION_REQUIRED):
        namespace = {"app": Flask(__name__), "group_details": SEED_GROUP_DETAILS}
        with pytest.raises(ConfigurationError, match="'cognito_pool_region'"):
            exec(compile(source, "<seed README>", "exec"), namespace)


# -- permission_required -------------------------------------------------------------------------


def test_any_group_that_allows_the_view_lets_the_user_in(app, issuer, recorder):
    # viewers does not allow "report", editors does; the seed looked at the first group only.
    response = raw_client(app).get(
        "/report", headers=bearer(issuer.token(groups=["viewers", "editors"]))
    )
    assert response.status_code == 200
    assert response.get_json()["user_group"] == ["viewers", "editors"]


@pytest.mark.parametrize(
    "groups",
    [
        pytest.param(None, id="no-groups"),
        pytest.param(["strangers"], id="group-not-in-document"),
        pytest.param(["viewers", "strangers"], id="none-allows"),
    ],
)
def test_permission_fails_closed(app, issuer, recorder, groups):
    response = raw_client(app).get("/report", headers=bearer(issuer.token(groups=groups)))
    assert response.status_code == 403
    assert response.get_json() == {"message": "Forbidden access", "status": 403}
    assert recorder.calls == []


def test_permission_name_can_be_given(issuer, kind, recorder):
    app = make_app(issuer)
    add(
        app,
        recorder.view(kind, "dashboard"),
        protect(issuer),
        permission_required(GROUPS, permission="admin_only"),
    )
    client = raw_client(app)
    assert (
        client.get("/dashboard", headers=bearer(issuer.token(groups=["admins"]))).status_code == 200
    )
    assert (
        client.get("/dashboard", headers=bearer(issuer.token(groups=["editors"]))).status_code
        == 403
    )
    assert len(recorder.calls) == 1


def test_group_document_may_be_a_path(issuer, kind, recorder, tmp_path):
    path = tmp_path / "groups.json"
    path.write_text(json.dumps(GROUPS))
    app = make_app(issuer)
    add(app, recorder.view(kind, "read"), protect(issuer), permission_required(str(path)))
    client = raw_client(app)
    assert client.get("/read", headers=bearer(issuer.token(groups=["viewers"]))).status_code == 200
    assert client.get("/read", headers=bearer(issuer.token(groups=["admins"]))).status_code == 403


def test_plain_groups_form_allows_any_of_them(issuer, kind, recorder):
    app = make_app(issuer)
    add(
        app,
        recorder.view(kind, "staff"),
        protect(issuer),
        permission_required(groups=["admins", "editors"]),
    )
    add(app, recorder.view(kind, "solo"), protect(issuer), permission_required(groups="admins"))
    client = raw_client(app)

    def status(path: str, groups: list[str] | None) -> int:
        return client.get(path, headers=bearer(issuer.token(groups=groups))).status_code

    assert status("/staff", ["viewers", "editors"]) == 200
    assert status("/staff", ["viewers"]) == 403
    assert status("/staff", None) == 403
    assert status("/solo", ["admins"]) == 200
    assert status("/solo", ["editors"]) == 403


def test_a_view_no_group_allows_is_reported_when_decorated(recorder, caplog):
    permission_required(GROUPS)(recorder.view("sync", "read"))
    assert caplog.records == []
    permission_required(GROUPS)(recorder.view("sync", "typo_in_name"))
    (record,) = caplog.records
    assert record.levelno == logging.WARNING
    assert "'typo_in_name'" in record.getMessage()


def test_bad_group_document_fails_at_decoration():
    broken = [{"group_name": "x", "allowed_functions": "report"}]
    with pytest.raises(GroupDetailError) as info:
        permission_required(broken)
    assert any("allowed_functions" in problem for problem in info.value.problems)
    with pytest.raises(GroupDetailError):
        permission_required("/nonexistent/groups.json")


@pytest.mark.parametrize(
    ("call", "phrase"),
    [
        pytest.param(lambda: permission_required(), "neither", id="neither"),
        pytest.param(
            lambda: permission_required(GROUPS, groups=["admins"]), "both", id="document+groups"
        ),
        pytest.param(
            lambda: permission_required(groups=["a"], permission="x"), "permission=", id="perm"
        ),
        pytest.param(lambda: permission_required(groups=[]), "non-empty", id="no-groups"),
        pytest.param(lambda: permission_required(lambda r: r), "must be called", id="bare"),
        pytest.param(lambda: login_check(lambda r: r), "must be called", id="bare-login"),
        pytest.param(lambda: login_check("us-east-1"), "both", id="region-only"),
        pytest.param(
            lambda: login_check("us-east-1", "us-east-1_AbCd", token_use="refresh"),
            "token_use",
            id="tu",
        ),
        pytest.param(
            lambda: login_check("us-east-1", "us-east-1_AbCd", client_ids=[]),
            "client",
            id="clients",
        ),
    ],
)
def test_misuse_is_a_configuration_error_at_once(call, phrase):
    with pytest.raises(ConfigurationError, match=phrase):
        call()


def test_permission_required_above_login_check_fails_at_decoration(issuer, kind, recorder):
    view = protect(issuer)(recorder.view(kind, "report"))
    with pytest.raises(ConfigurationError, match="above login_check"):
        permission_required(GROUPS)(view)
    with pytest.raises(ConfigurationError, match="above login_check"):
        permission_required(groups=["admins"])(view)


def test_permission_required_without_login_check_is_an_error_not_a_pass(issuer, kind, recorder):
    app = make_app(issuer)
    add(app, recorder.view(kind, "report"), permission_required(GROUPS))
    token = issuer.token(groups=["admins"])
    with pytest.raises(ConfigurationError, match="before any login_check"):
        raw_client(app).get("/report", headers=bearer(token))
    app.config["TESTING"] = False
    response = raw_client(app).get("/report", headers=bearer(token))
    assert response.status_code == 500
    assert recorder.calls == []


def test_one_requests_login_does_not_leak_into_the_next(issuer, kind, recorder):
    # A test may hold an app context around several requests, and g lives with it.
    app = make_app(issuer)
    add(app, recorder.view(kind, "profile"), protect(issuer))
    add(app, recorder.view(kind, "report"), permission_required(GROUPS))
    client = raw_client(app)
    with app.app_context():
        ok = client.get("/profile", headers=bearer(issuer.token(groups=["admins"])))
        assert ok.status_code == 200
        with pytest.raises(ConfigurationError):
            client.get("/report")
    assert len(recorder.calls) == 1


# -- OPTIONS ---------------------------------------------------------------------------------


def test_options_preflight_is_answered_without_a_token_or_the_view(issuer, kind, recorder):
    app = make_app(issuer)
    add(app, recorder.view(kind, "report"), protect(issuer), permission_required(GROUPS))
    add(
        app,
        recorder.view(kind, "explicit"),
        protect(issuer),
        permission_required(GROUPS),
        methods=["GET", "OPTIONS"],
    )
    client = raw_client(app)
    automatic = client.options("/report")  # Flask answers this one before any decorator
    assert automatic.status_code == 200
    explicit = client.options("/explicit")  # this one reaches login_check
    assert explicit.status_code == 200
    assert set(explicit.headers["Allow"].split(", ")) == {"GET", "HEAD", "OPTIONS"}
    assert recorder.calls == []


def test_options_exemption_can_be_turned_off(issuer, kind, recorder):
    app = make_app(issuer, COGNISES_EXEMPT_OPTIONS=False)
    add(app, recorder.view(kind, "explicit"), protect(issuer), methods=["GET", "OPTIONS"])
    client = raw_client(app)
    assert client.options("/explicit").status_code == 401
    assert client.options("/explicit", headers=bearer(issuer.token())).status_code == 200
    assert len(recorder.calls) == 1


# -- current_claims, pass_response, wraps --------------------------------------------------------


def test_current_claims_without_the_response_argument(issuer, kind, recorder):
    app = make_app(issuer)
    add(app, recorder.view(kind, "me"), protect(issuer, pass_response=False))
    add(
        app,
        recorder.view(kind, "report"),
        protect(issuer, pass_response=False),
        permission_required(GROUPS),
    )
    client = raw_client(app)
    token = issuer.token(groups=["admins"], email="carol@example.com")
    assert client.get("/me", headers=bearer(token)).get_json() == {"email": "carol@example.com"}
    assert client.get("/report", headers=bearer(token)).get_json() == {"email": "carol@example.com"}
    forbidden = client.get("/report", headers=bearer(issuer.token(groups=["viewers"])))
    assert forbidden.status_code == 403


def test_current_claims_outside_a_protected_view_is_an_error(issuer):
    app = make_app(issuer)

    @app.route("/open")
    def open_view() -> str:
        return str(current_claims.email)

    with pytest.raises(RuntimeError, match="login_check"):
        raw_client(app).get("/open")


def test_wrappers_keep_names_and_kind(issuer, kind, recorder):
    view = recorder.view(kind, "report")
    wrapped = protect(issuer)(permission_required(GROUPS)(view))
    assert wrapped.__name__ == "report"
    assert wrapped.__wrapped__.__wrapped__ is view
    assert inspect.iscoroutinefunction(wrapped) == (kind == "async")
    app = make_app(issuer)
    app.route("/r")(wrapped)
    assert app.view_functions["report"] is wrapped


# -- logging -------------------------------------------------------------------------------------


def test_tokens_and_claims_are_never_logged_above_debug(app, issuer, caplog):
    caplog.set_level(logging.DEBUG)
    token = issuer.token(groups=["viewers"], email="secret-person@example.com")
    client = raw_client(app)
    client.get("/profile", headers=bearer(token))
    client.get("/report", headers=bearer(token))
    client.get("/profile", headers=bearer(token[:-2]))
    client.get("/profile", headers=bearer(issuer.token(expires_in=-60)))
    assert any(r.levelno == logging.DEBUG and "rejected" in r.getMessage() for r in caplog.records)
    for record in caplog.records:
        message = record.getMessage()
        assert token[:40] not in message
        assert token.split(".")[2][:20] not in message
        if record.levelno > logging.DEBUG:
            assert "secret-person" not in message
            assert "viewers" not in message
