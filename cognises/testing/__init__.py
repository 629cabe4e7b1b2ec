"""Helpers for testing apps that use cognises, without AWS.

``LocalIssuer`` signs Cognito-shaped ID and access tokens with keys made on the spot;
``use_local_issuer(app, issuer)`` makes a Flask app trust them, with no key fetch::

    issuer = use_local_issuer(app)  # a LocalIssuer for the pool in app.config
    token = issuer.token(groups=["admins"], expires_in=60)
    app.test_client().get("/admin", headers={"Authorization": f"Bearer {token}"})

``MotoEmulator`` runs a local Cognito and IAM (moto server) for end-to-end tests; it
needs the ``moto[server]`` package, which cognises itself does not depend on.

``LocalManagedLogin`` serves Cognito's managed-login endpoints (``/oauth2/authorize`` with
a sign-in form, ``/oauth2/token``, ``/oauth2/revoke``, ``/logout``) on 127.0.0.1, signing
with a ``LocalIssuer``: the other half of ``cognises.flask.signin_blueprint`` in tests.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from cognises.testing._issuer import LocalIssuer

if TYPE_CHECKING:
    from flask import Flask

    from cognises.testing._authserver import LocalManagedLogin
    from cognises.testing._emulator import MotoEmulator

__all__ = ["LocalIssuer", "LocalManagedLogin", "MotoEmulator", "use_local_issuer"]


def use_local_issuer(app: Flask, issuer: LocalIssuer | None = None) -> LocalIssuer:
    """Make ``app`` accept tokens signed by ``issuer``, and return the issuer.

    Every verifier the app has, or makes later, for the issuer's pool (``login_check()``
    and ``login_check(region, pool)`` alike) is given the issuer's current keys, so no
    key is fetched from AWS or from ``COGNISES_JWKS_URL``. Call it again after
    ``issuer.rotate()`` or ``issuer.add_key()``.

    With no ``issuer``, one is made for the pool in the app's config
    (``COGNISES_REGION``, ``COGNISES_USER_POOL_ID`` and, when set, one of
    ``COGNISES_CLIENT_IDS``). The tokens must still pass every other check: the issuer's
    region, pool and client id must be the ones the app accepts.
    """
    from cognises.errors import ConfigurationError
    from cognises.flask._config import client_id_set
    from cognises.flask._state import state_for

    if issuer is None:
        region = app.config.get("COGNISES_REGION")
        pool = app.config.get("COGNISES_USER_POOL_ID")
        if not isinstance(region, str) or not isinstance(pool, str):
            raise ConfigurationError(
                "use_local_issuer without an issuer reads COGNISES_REGION and "
                "COGNISES_USER_POOL_ID from the app's config; expected both, found "
                f"{region!r} and {pool!r}"
            )
        clients = client_id_set(app.config.get("COGNISES_CLIENT_IDS"), "COGNISES_CLIENT_IDS")
        issuer = LocalIssuer(region=region, user_pool_id=pool)
        if clients:
            issuer.client_id = min(clients)
    state_for(app).trust(issuer.issuer, issuer.jwks(), app.config)
    return issuer


def __getattr__(name: str) -> Any:
    # Lazy, so that importing cognises.testing needs neither moto nor its heavy imports.
    if name == "MotoEmulator":
        from cognises.testing._emulator import MotoEmulator

        return MotoEmulator
    if name == "LocalManagedLogin":
        from cognises.testing._authserver import LocalManagedLogin

        return LocalManagedLogin
    raise AttributeError(f"module 'cognises.testing' has no attribute {name!r}")
