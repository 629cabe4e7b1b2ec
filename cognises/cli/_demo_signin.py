"""``cognises demo --serve``: browser sign-in to the example app through a local managed login.

moto serves the pool but not its managed-login domain, so ``LocalManagedLogin`` plays that
part. It signs with moto's own pool key (moto ships it), so the example app verifies the
tokens exactly as it would in production: keys fetched from the pool's JWKS URL (here
moto's), no test-only trust. The users are the demo's, with the demo's password.
"""

from __future__ import annotations

import secrets
from typing import Any

__all__ = ["signin_env", "start_managed_login"]


def start_managed_login(
    region: str, pool_id: str, client_id: str, users: dict[str, list[str]], password: str
) -> Any:
    """A started ``LocalManagedLogin`` for the demo's pool; the caller stops it."""
    from joserfc.jwk import RSAKey

    from cognises.cli._demo import _moto_private_jwk
    from cognises.testing import LocalIssuer, LocalManagedLogin

    jwk = _moto_private_jwk()
    key = RSAKey.import_key(jwk).private_key
    issuer = LocalIssuer(region=region, user_pool_id=pool_id, client_id=client_id, key_size=1024)
    issuer.keys = {jwk["kid"]: key}
    issuer.kid = jwk["kid"]
    login = LocalManagedLogin(issuer, redirect_uris=[], token_lifetime=300)
    for name, groups in users.items():
        login.add_user(name, password, groups=groups)
    return login.start()


def signin_env(login: Any) -> dict[str, str]:
    """The example app's environment for sign-in against ``login``."""
    return {
        "COGNISES_DOMAIN": login.url,
        "SECRET_KEY": secrets.token_urlsafe(32),
        "COGNISES_COOKIE_SECURE": "false",
    }


def open_signin(app: Any, login: Any, port: int) -> str:
    """Point the app and the managed login at each other; returns the URL to visit."""
    base = f"http://localhost:{port}"
    app.config["COGNISES_REDIRECT_URI"] = f"{base}/auth/callback"
    app.config["COGNISES_LOGOUT_URI"] = f"{base}/"
    login.redirect_uris.append(f"{base}/auth/callback")
    login.logout_uris.append(f"{base}/")
    return f"{base}/home"
