"""The public testing helpers: the pytest plugin, the emulator helpers, use_local_issuer."""

from __future__ import annotations

import pytest
from flask import Flask

from cognises import login_check, permission_required
from cognises.errors import ConfigurationError
from cognises.flask import Cognises
from cognises.testing import LocalIssuer, use_local_issuer

PLUGIN_TESTS = """
from flask import Flask

from cognises.flask import Cognises, login_check, permission_required
from cognises.testing import use_local_issuer


def make_app(config):
    app = Flask(__name__)
    app.config.update(config)
    Cognises(app)

    @app.get("/admin")
    @login_check(pass_response=False)
    @permission_required(groups=["admins"])
    def admin():
        return "ok"

    return app


def test_real_tokens_from_the_emulated_pool(cognises_pool):
    cognises_pool.add_user("alice", groups=["admins"])
    cognises_pool.add_user("bob", groups=["editors"])
    client = make_app(cognises_pool.flask_config()).test_client()
    alice = cognises_pool.tokens("alice")["IdToken"]
    bob = cognises_pool.tokens("bob")["IdToken"]
    assert client.get("/admin", headers={"Authorization": f"Bearer {alice}"}).status_code == 200
    assert client.get("/admin", headers={"Authorization": f"Bearer {bob}"}).status_code == 403
    assert client.get("/admin").status_code == 401


def test_local_issuer_fixture(cognises_issuer):
    app = make_app({
        "COGNISES_REGION": cognises_issuer.region,
        "COGNISES_USER_POOL_ID": cognises_issuer.user_pool_id,
        "COGNISES_CLIENT_IDS": [cognises_issuer.client_id],
    })
    use_local_issuer(app, cognises_issuer)
    token = cognises_issuer.token(groups=["admins"])
    response = app.test_client().get("/admin", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200
"""


def test_the_pytest_plugin_fixtures_work_in_a_users_suite(pytester: pytest.Pytester) -> None:
    pytester.makeconftest('pytest_plugins = ["cognises.testing.pytest_plugin"]')
    pytester.makepyfile(test_app=PLUGIN_TESTS)
    result = pytester.runpytest_subprocess("-q", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=2)


def _seed_app(region: str, pool: str) -> Flask:
    app = Flask(__name__)

    @app.route("/protected")
    @login_check(region, pool)
    @permission_required(groups=["admins"])
    def protected(response):  # type: ignore[no-untyped-def]
        return response["user_email"]

    return app


def test_use_local_issuer_finds_the_pool_of_seed_form_views() -> None:
    app = _seed_app("eu-west-1", "eu-west-1_SeedPool1")
    issuer = use_local_issuer(app)
    assert (issuer.region, issuer.user_pool_id) == ("eu-west-1", "eu-west-1_SeedPool1")
    client = app.test_client()
    token = issuer.token(groups=["admins"])
    response = client.get("/protected", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200
    assert response.text == "alice@example.com"
    other = LocalIssuer(region="eu-west-1", user_pool_id="eu-west-1_SeedPool1")
    forged = other.token(groups=["admins"])  # same pool, another key: not trusted
    assert (
        client.get("/protected", headers={"Authorization": f"Bearer {forged}"}).status_code == 401
    )


def test_use_local_issuer_uses_the_client_ids_a_seed_view_names() -> None:
    app = Flask(__name__)

    @app.route("/p")
    @login_check("eu-west-1", "eu-west-1_SeedPool1", client_ids=["zclient", "aclient"])
    def p(response):  # type: ignore[no-untyped-def]
        return "ok"

    issuer = use_local_issuer(app)
    assert issuer.client_id == "aclient"
    token = issuer.token()
    assert app.test_client().get("/p", headers={"Authorization": f"Bearer {token}"}).text == "ok"


def test_use_local_issuer_refuses_to_guess_between_pools() -> None:
    app = _seed_app("eu-west-1", "eu-west-1_SeedPool1")

    @app.route("/other")
    @login_check("us-east-1", "us-east-1_OtherPool")
    def other(response):  # type: ignore[no-untyped-def]
        return "ok"

    with pytest.raises(ConfigurationError, match="several pools"):
        use_local_issuer(app)


def test_use_local_issuer_without_config_or_views_says_what_it_needs() -> None:
    app = Flask(__name__)
    Cognises(app)
    with pytest.raises(ConfigurationError, match="found neither"):
        use_local_issuer(app)


def test_a_view_without_a_parameter_for_the_response_is_refused_at_decoration() -> None:
    with pytest.raises(ConfigurationError, match=r"pass_response=False"):

        @login_check("eu-west-1", "eu-west-1_SeedPool1")
        def view():  # type: ignore[no-untyped-def]
            return "never"

    @login_check("eu-west-1", "eu-west-1_SeedPool1", pass_response=False)
    def fine():  # type: ignore[no-untyped-def]
        return "ok"

    @login_check("eu-west-1", "eu-west-1_SeedPool1")
    def variadic(*args):  # type: ignore[no-untyped-def]
        return "ok"

    assert callable(fine)
    assert callable(variadic)


def test_the_public_names_of_cognises_testing() -> None:
    import cognises.testing as testing
    from cognises.testing._emulator import FaultInjector, MotoEmulator

    assert testing.MotoEmulator is MotoEmulator
    assert testing.FaultInjector is FaultInjector
    for name in testing.__all__:
        assert getattr(testing, name) is not None
    with pytest.raises(AttributeError):
        testing.NoSuchHelper  # noqa: B018
