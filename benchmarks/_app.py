"""The small app served by gunicorn in parts 6 to 8: one view open, the same view behind
each guard.

``gunicorn 'benchmarks._app:create_app()'`` with the pool in the environment
(``BENCH_REGION``, ``BENCH_POOL``, ``BENCH_CLIENT``, ``BENCH_JWKS_URL``: a key server on
127.0.0.1). Every guard fetches the keys from there, the way it would from Cognito, and
asks for the same thing: a valid access token of this pool and client, in group "admins".

- ``/open``: no guard.
- ``/cognises``: ``login_check`` + ``permission_required``, the seed's form.
- ``/fcl``: flask-cognito-lib's ``auth_required(groups=...)``, configured as its README
  says; it reads the ``cognito_access_token`` cookie.
- ``/pyjwt``: the decorator written by hand from the AWS docs ("Verifying a JSON Web
  Token") with PyJWT's ``PyJWKClient``, made once per process; it reads the bearer header.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable
from typing import Any

import jwt
from flask import Flask, request

from cognises.flask import login_check, permission_required

GROUP = "admins"
GROUP_DETAIL = [
    {
        "group_name": GROUP,
        "group_policy": {"Version": "2012-10-17", "Statement": []},
        "created": "true",
        "allowed_functions": ["report"],
    }
]
UNAUTHORIZED = ("unauthorized", 401)


def create_app() -> Flask:
    env = os.environ
    region, pool, client, jwks_url = (
        env["BENCH_REGION"],
        env["BENCH_POOL"],
        env["BENCH_CLIENT"],
        env["BENCH_JWKS_URL"],
    )
    app = Flask("bench")
    app.config.update(
        COGNISES_REGION=region,
        COGNISES_USER_POOL_ID=pool,
        COGNISES_CLIENT_IDS=client,
        COGNISES_JWKS_URL=jwks_url,
        COGNISES_TOKEN_USE="access",
    )

    @app.get("/open")
    def open_view() -> str:
        return "ok"

    # The seed's form: the view gets the response dict; the permission is its name.
    @app.get("/cognises", endpoint="cognises")
    @login_check()
    @permission_required(GROUP_DETAIL)
    def report(response: dict[str, Any]) -> str:
        return "ok"

    _add_flask_cognito_lib(app, region, pool, client, jwks_url)
    _add_pyjwt(app, region, pool, client, jwks_url)
    return app


def _add_flask_cognito_lib(app: Flask, region: str, pool: str, client: str, url: str) -> None:
    from flask_cognito_lib import CognitoAuth
    from flask_cognito_lib.config import Config
    from flask_cognito_lib.decorators import auth_required
    from flask_cognito_lib.exceptions import AuthorisationRequiredError, CognitoGroupRequiredError

    class LocalKeys(Config):
        # The one change to its defaults: keys from the local server instead of Cognito.
        @property
        def jwk_endpoint(self) -> str:
            return url

    # The settings its README lists as required; the hosted-UI ones are not used here.
    app.config.update(
        SECRET_KEY="bench-secret",
        AWS_REGION=region,
        AWS_COGNITO_USER_POOL_ID=pool,
        AWS_COGNITO_USER_POOL_CLIENT_ID=client,
        AWS_COGNITO_DOMAIN="https://bench.auth.us-east-1.amazoncognito.com",
        AWS_COGNITO_REDIRECT_URL="http://127.0.0.1/callback",
        AWS_COGNITO_LOGOUT_URL="http://127.0.0.1/",
    )
    CognitoAuth(app, cfg=LocalKeys())
    # Its README's handlers redirect to the sign-in page; here the same status as the others.
    app.register_error_handler(AuthorisationRequiredError, lambda _: UNAUTHORIZED)
    app.register_error_handler(CognitoGroupRequiredError, lambda _: ("forbidden", 403))

    @app.get("/fcl", endpoint="fcl")
    @auth_required(groups=[GROUP])
    def fcl_view() -> str:
        return "ok"


def _add_pyjwt(app: Flask, region: str, pool: str, client: str, url: str) -> None:
    issuer = f"https://cognito-idp.{region}.amazonaws.com/{pool}"
    jwks_client = jwt.PyJWKClient(url)

    # What the AWS docs ask a verifier to check: the signature, exp, iss, token_use and
    # the app client (client_id in an access token); and the group, as the view needs.
    def token_required(view: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            header = request.headers.get("Authorization", "")
            if not header.startswith("Bearer "):
                return UNAUTHORIZED
            token = header[len("Bearer ") :]
            try:
                key = jwks_client.get_signing_key_from_jwt(token)
                claims = jwt.decode(
                    token,
                    key.key,
                    algorithms=["RS256"],
                    issuer=issuer,
                    options={"require": ["exp", "iss", "token_use", "client_id"]},
                )
            except jwt.PyJWTError:
                return UNAUTHORIZED
            if claims["token_use"] != "access" or claims["client_id"] != client:
                return UNAUTHORIZED
            if GROUP not in claims.get("cognito:groups", []):
                return ("forbidden", 403)
            return view(*args, **kwargs)

        return wrapper

    @app.get("/pyjwt", endpoint="pyjwt")
    @token_required
    def pyjwt_view() -> str:
        return "ok"
