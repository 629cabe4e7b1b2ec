"""examples/app.py and examples/group_detail.json, tested the way users test their own apps."""

from __future__ import annotations

import importlib.util
import inspect
from pathlib import Path
from types import ModuleType

import pytest
from flask_support import bearer

from cognises._groupdetail import load_group_detail, validate_group_detail
from cognises.errors import ConfigurationError
from cognises.testing import LocalIssuer, use_local_issuer

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"

# view -> (method, the groups that may use it)
MATRIX = {
    "/protected": ("GET", {"admins", "editors", "viewers"}),
    "/admin_panel": ("GET", {"admins"}),
    "/update_data": ("POST", {"admins", "editors"}),
    "/view_data": ("GET", {"admins", "editors", "viewers"}),
}


@pytest.fixture(scope="module")
def example() -> ModuleType:
    spec = importlib.util.spec_from_file_location("cognises_example", EXAMPLES / "app.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def issuer() -> LocalIssuer:
    return LocalIssuer(region="eu-central-1", user_pool_id="eu-central-1_Example1", client_id="c1")


@pytest.fixture
def client(example, issuer):
    app = example.create_app(
        {
            "COGNISES_REGION": issuer.region,
            "COGNISES_USER_POOL_ID": issuer.user_pool_id,
            "COGNISES_CLIENT_IDS": issuer.client_id,
        }
    )
    use_local_issuer(app, issuer)
    return app.test_client()


def test_group_document_is_valid_with_three_seed_style_groups():
    document = load_group_detail(EXAMPLES / "group_detail.json")
    specs = validate_group_detail(document)
    assert [spec.name for spec in specs] == ["admins", "editors", "viewers"]
    assert all(entry["created"] == "false" for entry in document)
    assert all(not spec.created for spec in specs)


@pytest.mark.parametrize("path", sorted(MATRIX))
@pytest.mark.parametrize("group", ["admins", "editors", "viewers", "strangers", None])
def test_each_view_is_open_to_exactly_its_groups(client, issuer, path, group):
    method, allowed = MATRIX[path]
    token = issuer.token(groups=[group] if group else None)
    response = client.open(path, method=method, headers=bearer(token))
    assert response.status_code == (200 if group in allowed else 403)


def test_views_refuse_missing_and_foreign_tokens(client, issuer):
    for path, (method, _) in MATRIX.items():
        assert client.open(path, method=method).status_code == 401
        foreign = issuer.token(groups=["admins"], client_id="someone-else")
        assert client.open(path, method=method, headers=bearer(foreign)).status_code == 401


def test_example_has_sync_and_async_views_and_seed_answers(example, client, issuer):
    app = client.application
    kinds = {inspect.iscoroutinefunction(app.view_functions[name]) for name in app.view_functions}
    assert kinds == {True, False}
    token = issuer.token(groups=["viewers"], email="vic@example.com")
    assert client.get("/protected", headers=bearer(token)).get_data(as_text=True) == (
        "vic@example.com"
    )
    assert client.get("/view_data", headers=bearer(token)).get_json() == {
        "data": [1, 2, 3],
        "groups": ["viewers"],
    }
    assert client.get("/whoami", headers=bearer(token)).get_json() == {
        "username": "alice",
        "email": "vic@example.com",
        "groups": ["viewers"],
    }
    assert client.get("/").get_json() == {"status": "ok"}


def test_example_reads_the_environment(example, issuer, monkeypatch):
    monkeypatch.setenv("COGNISES_USER_POOL_ID", issuer.user_pool_id)
    monkeypatch.setenv("COGNISES_REGION", issuer.region)
    monkeypatch.delenv("COGNISES_CLIENT_IDS", raising=False)
    monkeypatch.setenv("COGNISES_JWKS_URL", "http://127.0.0.1:1/jwks.json")
    app = example.create_app()
    assert app.config["COGNISES_USER_POOL_ID"] == issuer.user_pool_id
    assert app.config["COGNISES_JWKS_URL"] == "http://127.0.0.1:1/jwks.json"
    verifier = app.extensions["cognises"].extension.get_verifier(app)
    assert verifier.jwks_url == "http://127.0.0.1:1/jwks.json"
    assert verifier.rules.client_ids is None
    monkeypatch.delenv("COGNISES_USER_POOL_ID")
    with pytest.raises(ConfigurationError, match="COGNISES_USER_POOL_ID"):
        example.create_app()
