"""An example Flask app protected with cognises, written the seed's way.

Groups and the views each may use are in ``group_detail.json`` beside this file (the same
document ``cognises provision`` creates the groups from). Configure with environment
variables:

``COGNISES_USER_POOL_ID`` (required)
    the user pool, e.g. ``us-east-1_AbCdEfGhI``.
``COGNISES_REGION``
    its region; default ``us-east-1``.
``COGNISES_CLIENT_IDS``
    the app client whose tokens are accepted (several: separate with commas);
    unset accepts every client of the pool.
``COGNISES_JWKS_URL``
    where to fetch the pool's keys when not from Cognito itself, e.g. a moto server's
    ``http://127.0.0.1:5000/<pool id>/.well-known/jwks.json``.

Run it with ``flask --app examples/app.py run`` and call it with an ID token, as
``Authorization: Bearer <token>`` or in the ``token_cookie`` cookie.

Sign-in for browsers (``/auth/login``, then ``/home``) is on when ``COGNISES_DOMAIN`` (the
user pool's managed-login domain) is set, with ``COGNISES_REDIRECT_URI`` (this app's
``/auth/callback`` URL, registered on the app client), ``SECRET_KEY``, and
``COGNISES_COOKIE_SECURE=false`` when serving on http://localhost. ``cognises demo
--serve`` turns it on against a local managed login.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from flask import Flask, jsonify
from markupsafe import escape

from cognises import Cognises, current_claims, login_check, permission_required
from cognises.errors import ConfigurationError
from cognises.flask import signin_blueprint

GROUP_DETAIL = Path(__file__).with_name("group_detail.json")


def create_app(environ: Mapping[str, str] | None = None) -> Flask:
    """The app, configured from ``environ`` (default: the process environment)."""
    env = os.environ if environ is None else environ
    pool_id = env.get("COGNISES_USER_POOL_ID")
    if not pool_id:
        raise ConfigurationError("set COGNISES_USER_POOL_ID to the user pool's id")
    region = env.get("COGNISES_REGION") or "us-east-1"

    app = Flask(__name__)
    # login_check(region, pool_id) below names this same pool, so it takes the client ids
    # and the JWKS URL from here too.
    app.config.update(
        COGNISES_REGION=region,
        COGNISES_USER_POOL_ID=pool_id,
        COGNISES_CLIENT_IDS=env.get("COGNISES_CLIENT_IDS") or None,
        COGNISES_JWKS_URL=env.get("COGNISES_JWKS_URL") or None,
    )
    Cognises(app)

    @app.route("/")
    def index() -> dict[str, Any]:
        return {"status": "ok"}

    @app.route("/protected", methods=["GET", "POST"])
    @login_check(region, pool_id)
    @permission_required(GROUP_DETAIL)
    def protected(response):  # the seed README's view, as written there
        if response["status"] == 200:
            return response["user_email"]
        else:  # noqa: RET505 - kept as the seed wrote it
            return response["message"]

    @app.route("/admin_panel")
    @login_check(region, pool_id)
    @permission_required(GROUP_DETAIL)
    def admin_panel(response: dict[str, Any]) -> dict[str, Any]:
        return {"panel": "admin", "user": response["user_email"]}

    @app.route("/update_data", methods=["POST"])
    @login_check(region, pool_id)
    @permission_required(GROUP_DETAIL)
    async def update_data(response: dict[str, Any]) -> dict[str, Any]:
        return {"updated": True, "by": response["user_email"]}

    @app.route("/view_data")
    @login_check(region, pool_id)
    @permission_required(GROUP_DETAIL)
    async def view_data(response: dict[str, Any]) -> dict[str, Any]:
        return {"data": [1, 2, 3], "groups": response["user_group"]}

    @app.route("/whoami")
    @login_check(pass_response=False)
    def whoami() -> Any:
        return jsonify(
            username=current_claims.username,
            email=current_claims.email,
            groups=current_claims.groups,
        )

    if env.get("COGNISES_DOMAIN"):
        _add_signin(app, env)
    return app


def _add_signin(app: Flask, env: Mapping[str, str]) -> None:
    app.config.update(
        SECRET_KEY=env.get("SECRET_KEY"),
        COGNISES_DOMAIN=env["COGNISES_DOMAIN"],
        COGNISES_CLIENT_ID=env.get("COGNISES_CLIENT_ID"),
        COGNISES_CLIENT_SECRET=env.get("COGNISES_CLIENT_SECRET") or None,
        COGNISES_REDIRECT_URI=env.get("COGNISES_REDIRECT_URI"),
        COGNISES_COOKIE_SECURE=env.get("COGNISES_COOKIE_SECURE", "true").lower() != "false",
    )
    app.register_blueprint(signin_blueprint(), url_prefix="/auth")

    @app.route("/home")
    @login_check(redirect=True, pass_response=False)
    def home() -> str:
        groups = ", ".join(current_claims.groups) or "none"
        return (
            "<!doctype html><title>cognises example</title><link rel='icon' href='data:,'>"
            f"<h1>Signed in as {escape(current_claims.username)}</h1>"
            f"<p>Groups: {escape(groups)}</p>"
            "<p><a href='/protected'>/protected</a> · <a href='/admin_panel'>/admin_panel</a>"
            " · <a href='/whoami'>/whoami</a></p>"
            "<form method='post' action='/auth/logout'><button>Sign out</button></form>"
        )


if __name__ == "__main__":
    create_app().run()
