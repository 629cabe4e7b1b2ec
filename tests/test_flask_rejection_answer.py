"""The default answer to a rejected request, with and without the app's error handlers.

With no handler that could see it, ``reject`` answers with the default response directly
(Flask's exception path costs a rejected request more than its token's verification);
whenever anything of the app could see the exception, it is raised as before.
"""

from __future__ import annotations

from typing import Any

import pytest
from flask import Blueprint, Flask, jsonify
from flask_support import bearer, document, local_app
from werkzeug.exceptions import HTTPException

from cognises.errors import InvalidSignatureError
from cognises.flask import Rejection, login_check, permission_required
from cognises.flask import _rejection as rejection_module
from cognises.testing import LocalIssuer


@pytest.fixture
def issuer() -> LocalIssuer:
    return LocalIssuer()


def make_app(issuer: LocalIssuer, **config: Any) -> Flask:
    app = local_app(issuer, **config)

    @app.route("/report")
    @login_check()
    @permission_required(document(admins=["report"]))
    def report(response: dict[str, Any]) -> str:
        return "report"

    return app


@pytest.fixture
def raised(monkeypatch: pytest.MonkeyPatch) -> list[Rejection]:
    """The rejections whose exception was made (the exception path was taken)."""
    made: list[Rejection] = []
    original = rejection_module.RejectionHTTPException.__init__

    def spy(self: Any, rejection: Rejection, response: Any = None) -> None:
        made.append(rejection)
        original(self, rejection, response)

    monkeypatch.setattr(rejection_module.RejectionHTTPException, "__init__", spy)
    return made


def default_answer(rejection: Rejection) -> tuple[int, bytes, dict[str, str]]:
    response = rejection.to_exception().get_response()
    return response.status_code, response.get_data(), dict(response.headers)


@pytest.mark.parametrize(
    ("headers", "status", "reason"),
    [
        ({}, 401, "missing"),
        ({"Authorization": "Bearer not-a-token"}, 401, "invalid"),
        ("expired", 401, "expired"),
        ("viewer", 403, "forbidden"),
    ],
)
def test_without_handlers_the_answer_is_the_exceptions_own_and_none_is_raised(
    issuer, raised, headers, status, reason
):
    app = make_app(issuer)
    if headers == "expired":
        headers = bearer(issuer.token(expires_in=-600))
    elif headers == "viewer":
        headers = bearer(issuer.token(groups=["viewers"]))
    response = app.test_client().get("/report", headers=headers)
    assert raised == []
    realm = issuer.user_pool_id
    expected = {
        "missing": Rejection.missing(realm=realm),
        "invalid": Rejection.bad_token(InvalidSignatureError("x"), realm=realm, expired=False),
        "expired": Rejection.bad_token(InvalidSignatureError("x"), realm=realm, expired=True),
        "forbidden": Rejection.forbidden(InvalidSignatureError("x"), realm=realm),
    }[reason]
    raised.clear()
    code, body, expected_headers = default_answer(expected)
    assert response.status_code == code == status
    assert response.get_data() == body
    assert response.get_json() == {"message": expected.message, "status": status}
    for name in ("Content-Type", "WWW-Authenticate"):
        assert response.headers[name] == expected_headers[name]


def test_after_request_hooks_see_the_direct_answer(issuer, raised):
    app = make_app(issuer)
    seen: list[int] = []

    @app.after_request
    def record(response: Any) -> Any:
        seen.append(response.status_code)
        response.headers["X-Seen"] = "yes"
        return response

    response = app.test_client().get("/report")
    assert (response.status_code, response.headers["X-Seen"], seen, raised) == (
        401,
        "yes",
        [401],
        [],
    )


def register_code_handler(app: Flask) -> None:
    app.register_error_handler(401, lambda e: (jsonify(handled="code"), 401))


def register_http_exception_handler(app: Flask) -> None:
    app.register_error_handler(HTTPException, lambda e: (jsonify(handled="http"), e.code))


def register_exception_handler(app: Flask) -> None:
    app.register_error_handler(Exception, lambda e: (jsonify(handled="exception"), 401))


def register_blueprint_handler(app: Flask) -> None:
    blueprint = Blueprint("other", __name__)
    blueprint.register_error_handler(401, lambda e: (jsonify(handled="blueprint"), 401))

    @blueprint.route("/other/report")
    @login_check()
    def other(response: dict[str, Any]) -> str:
        return "other"

    app.register_blueprint(blueprint)


@pytest.mark.parametrize(
    ("register", "path", "handled"),
    [
        (register_code_handler, "/report", "code"),
        (register_http_exception_handler, "/report", "http"),
        (register_exception_handler, "/report", "exception"),
        (register_blueprint_handler, "/other/report", "blueprint"),
    ],
)
def test_any_handler_that_could_see_the_exception_gets_it(issuer, raised, register, path, handled):
    app = make_app(issuer)
    register(app)
    response = app.test_client().get(path)
    assert response.status_code == 401
    assert response.get_json() == {"handled": handled}
    assert [r.reason for r in raised] == ["missing"]


def test_a_handler_for_another_status_leaves_the_direct_answer(issuer, raised):
    app = make_app(issuer)
    app.register_error_handler(404, lambda e: ("nothing here", 404))
    app.register_error_handler(KeyError, lambda e: ("key", 500))
    response = app.test_client().get("/report")
    assert response.status_code == 401
    assert response.get_json() == {"message": "token is missing", "status": 401}
    assert raised == []


def test_trapped_http_exceptions_are_raised(issuer, raised):
    # Trapped, the exception is not answered by its own response: with TESTING it reaches
    # the caller, as Flask does for any trapped HTTP exception.
    app = make_app(issuer, TRAP_HTTP_EXCEPTIONS=True, TESTING=True)
    with pytest.raises(HTTPException) as caught:
        app.test_client().get("/report")
    assert caught.value.code == 401
    assert [r.reason for r in raised] == ["missing"]


def test_an_app_class_with_its_own_exception_handling_gets_the_exception(issuer, raised):
    handled: list[int] = []

    class Tracing(Flask):
        def handle_http_exception(self, e: HTTPException) -> Any:
            handled.append(e.code or 0)
            return super().handle_http_exception(e)

    app = make_app(issuer)
    app.__class__ = Tracing
    response = app.test_client().get("/report")
    assert (response.status_code, handled, [r.reason for r in raised]) == (
        401,
        [401],
        ["missing"],
    )


def test_a_handler_added_after_the_first_request_is_seen(issuer, raised):
    app = make_app(issuer)
    client = app.test_client()
    assert client.get("/report").status_code == 401
    assert raised == []
    # Flask refuses new handlers once serving; tests reach past that, and still must
    # see their handler called.
    app.error_handler_spec[None][401][HTTPException] = lambda e: ("late", 401)
    response = client.get("/report")
    assert response.get_data() == b"late"
    assert [r.reason for r in raised] == ["missing"]
