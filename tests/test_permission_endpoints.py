"""Permissions of blueprint views: bare view names and endpoint names (issue 12, section 5).

``posts.delete`` and ``users.delete`` are both views called ``delete``: a group allowed
``delete`` may use both (as it always could), one allowed ``users.delete`` only that one.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import pytest
from flask import Blueprint, Flask
from flask_support import bearer, document

from cognises.flask import login_check, permission_required
from cognises.testing import LocalIssuer, use_local_issuer

KINDS = ["sync", "async"]
GROUPS = document(
    post_moderators=["posts.delete"],
    user_admins=["users.delete", "users.nested.delete"],
    deleters=["delete"],
    readers=["read"],
)


@pytest.fixture(scope="module")
def issuer() -> LocalIssuer:
    return LocalIssuer(region="eu-west-1", user_pool_id="eu-west-1_Blueprint", client_id="web")


def delete_view(kind: str, calls: list[str], label: str) -> Callable[..., Any]:
    if kind == "sync":

        def delete(response: Any) -> str:
            calls.append(label)
            return label

        return delete

    async def delete(response: Any) -> str:  # type: ignore[misc]
        calls.append(label)
        return label

    return delete


def make_app(issuer: LocalIssuer, kind: str, calls: list[str], **decorated: Any) -> Flask:
    app = Flask(__name__)
    app.config.update(TESTING=True)
    use_local_issuer(app, issuer)
    protect = login_check(issuer.region, issuer.user_pool_id, client_ids="web")
    users = Blueprint("users", __name__)
    nested = Blueprint("nested", __name__)
    for name, blueprint in (("posts", Blueprint("posts", __name__)), ("users", users)):
        view = delete_view(kind, calls, name)
        blueprint.add_url_rule(
            "/delete", methods=["POST"], view_func=protect(permission_required(GROUPS)(view))
        )
        if name == "users":
            inner = delete_view(kind, calls, "users.nested")
            nested.add_url_rule(
                "/delete", methods=["POST"], view_func=protect(permission_required(GROUPS)(inner))
            )
            users.register_blueprint(nested, url_prefix="/nested")
        app.register_blueprint(blueprint, url_prefix=f"/{name}")
    return app


def status(app: Flask, issuer: LocalIssuer, path: str, *groups: str) -> int:
    token = issuer.token(groups=list(groups))
    return app.test_client().post(path, headers=bearer(token)).status_code


@pytest.mark.parametrize("kind", KINDS)
def test_an_endpoint_name_allows_only_that_blueprints_view(issuer, kind):
    calls: list[str] = []
    app = make_app(issuer, kind, calls)
    assert sorted(app.view_functions) == [
        "posts.delete", "static", "users.delete", "users.nested.delete"
    ]  # fmt: skip
    assert status(app, issuer, "/posts/delete", "post_moderators") == 200
    assert status(app, issuer, "/users/delete", "post_moderators") == 403
    assert status(app, issuer, "/users/nested/delete", "post_moderators") == 403
    assert status(app, issuer, "/users/delete", "user_admins") == 200
    assert status(app, issuer, "/users/nested/delete", "user_admins") == 200
    assert status(app, issuer, "/posts/delete", "user_admins") == 403
    assert status(app, issuer, "/posts/delete", "readers") == 403
    assert calls == ["posts", "users", "users.nested"]


@pytest.mark.parametrize("kind", KINDS)
def test_a_bare_name_still_allows_every_view_of_that_name(issuer, kind):
    calls: list[str] = []
    app = make_app(issuer, kind, calls)
    for path in ("/posts/delete", "/users/delete", "/users/nested/delete"):
        assert status(app, issuer, path, "deleters") == 200
    assert calls == ["posts", "users", "users.nested"]


def test_a_refusal_names_both_forms_it_looked_for(issuer, caplog):
    app = make_app(issuer, "sync", [])
    with caplog.at_level(logging.DEBUG, logger="cognises.flask"):
        assert status(app, issuer, "/users/delete", "readers") == 403
    assert "allowed_functions hold 'delete' or 'users.delete'" in caplog.text


def test_a_bare_name_shared_by_two_endpoints_is_warned_of_once_per_app(issuer, caplog):
    with caplog.at_level(logging.WARNING, logger="cognises.flask"):
        app = make_app(issuer, "sync", [])
        for _ in range(3):
            status(app, issuer, "/posts/delete", "deleters")
            status(app, issuer, "/users/delete", "deleters")
    warnings = [r for r in caplog.records if "endpoints" in r.getMessage()]
    assert len(warnings) == 1
    message = warnings[0].getMessage()
    assert warnings[0].levelno == logging.WARNING
    assert "'delete'" in message
    assert "posts.delete, users.delete, users.nested.delete" in message
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="cognises.flask"):
        other = make_app(issuer, "async", [])
        status(other, issuer, "/users/delete", "deleters")
    assert sum("endpoints" in r.getMessage() for r in caplog.records) == 1


def test_no_warning_when_no_group_allows_the_shared_bare_name(issuer, caplog):
    qualified_only = document(post_moderators=["posts.delete"], user_admins=["users.delete"])
    app = Flask(__name__)
    app.config.update(TESTING=True)
    use_local_issuer(app, issuer)
    protect = login_check(issuer.region, issuer.user_pool_id, client_ids="web")
    with caplog.at_level(logging.WARNING, logger="cognises.flask"):
        for name in ("posts", "users"):
            blueprint = Blueprint(name, __name__)
            view = delete_view("sync", [], name)
            blueprint.add_url_rule(
                "/delete",
                methods=["POST"],
                view_func=protect(permission_required(qualified_only)(view)),
            )
            app.register_blueprint(blueprint, url_prefix=f"/{name}")
        assert status(app, issuer, "/users/delete", "user_admins") == 200
        assert status(app, issuer, "/users/delete", "post_moderators") == 403
    # Neither "no group allows" (an endpoint name does) nor a shared-name warning.
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING] == []


def test_an_endpoint_name_does_not_reach_a_view_called_from_another_endpoint(issuer):
    app = Flask(__name__)
    app.config.update(TESTING=True)
    use_local_issuer(app, issuer)
    protect = login_check(issuer.region, issuer.user_pool_id, client_ids="web")
    admin = Blueprint("admin", __name__)

    @permission_required(document(g=["admin.index"]))
    def purge(response: Any) -> str:
        return "purged"

    @admin.route("/")
    @protect
    def index(response: Any) -> str:
        # Calls another protected function itself: its permission is its own name.
        return purge(response)

    app.register_blueprint(admin, url_prefix="/admin")
    token = issuer.token(groups=["g"])
    assert app.test_client().get("/admin/", headers=bearer(token)).status_code == 403


def test_an_explicit_permission_is_matched_as_written(issuer):
    app = Flask(__name__)
    app.config.update(TESTING=True)
    use_local_issuer(app, issuer)
    protect = login_check(issuer.region, issuer.user_pool_id, client_ids="web")
    users = Blueprint("users", __name__)
    doc = document(a=["remove_user"], b=["users.delete"], c=["delete"])

    @users.route("/delete", methods=["POST"])
    @protect
    @permission_required(doc, permission="remove_user")
    def delete(response: Any) -> str:
        return "ok"

    app.register_blueprint(users, url_prefix="/users")
    assert status(app, issuer, "/users/delete", "a") == 200
    assert status(app, issuer, "/users/delete", "b") == 403
    assert status(app, issuer, "/users/delete", "c") == 403


# Decorated once, at import, and registered on every app that wants them: the usual way.
SHARED = {name: Blueprint(name, __name__) for name in ("posts", "users")}
for _name, _blueprint in SHARED.items():
    _blueprint.add_url_rule(
        "/delete",
        methods=["POST"],
        view_func=login_check("eu-west-1", "eu-west-1_Blueprint", client_ids="web")(
            permission_required(GROUPS)(delete_view("sync", [], _name))
        ),
    )


def test_blueprints_shared_by_two_apps_keep_each_apps_endpoints_and_warning(issuer, caplog):
    for _ in range(2):
        app = Flask(__name__)
        app.config.update(TESTING=True)
        use_local_issuer(app, issuer)
        for name, blueprint in SHARED.items():
            app.register_blueprint(blueprint, url_prefix=f"/{name}")
        caplog.clear()
        with caplog.at_level(logging.WARNING, logger="cognises.flask"):
            assert status(app, issuer, "/posts/delete", "post_moderators") == 200
            assert status(app, issuer, "/users/delete", "post_moderators") == 403
            assert status(app, issuer, "/users/delete", "user_admins") == 200
        shared = [r.getMessage() for r in caplog.records if "endpoints" in r.getMessage()]
        assert len(shared) == 1
        assert "posts.delete, users.delete" in shared[0]
