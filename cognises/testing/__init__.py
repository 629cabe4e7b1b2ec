"""Helpers for testing apps that use cognises, without AWS.

``LocalIssuer`` signs Cognito-shaped ID and access tokens with keys made on the spot;
``use_local_issuer(app)`` makes a Flask app trust them, with no key fetch::

    issuer = use_local_issuer(app)  # a LocalIssuer for the pool the app uses
    token = issuer.token(groups=["admins"], expires_in=60)
    app.test_client().get("/admin", headers={"Authorization": f"Bearer {token}"})

``MotoEmulator`` runs a local Cognito and IAM (moto server on 127.0.0.1) for end-to-end
tests; ``create_pool``, ``create_user`` and ``log_in`` set up a user pool with users in
groups and get real tokens from it (with boto3 clients). The emulator needs the
``moto[server]`` package (``pip install 'cognises[test]'``), which cognises itself does
not depend on. The pytest fixtures of ``cognises.testing.pytest_plugin`` wrap all of it.

``LocalAlb`` signs ``x-amzn-oidc-data`` tokens as an Application Load Balancer does
(ES256, padded segments), and ``LocalAlb.serve()`` serves its keys by kid on loopback::

    alb = LocalAlb(issuer=issuer.issuer, client_id=issuer.client_id)
    with alb.serve() as keys:  # keys.key_url goes to COGNISES_ALB_KEY_URL
        headers = {"x-amzn-oidc-data": alb.token(), "x-amzn-oidc-accesstoken": ...}

``LocalManagedLogin`` serves Cognito's managed-login endpoints (``/oauth2/authorize`` with
a sign-in form, ``/oauth2/token``, ``/oauth2/revoke``, ``/logout``) on 127.0.0.1, signing
with a ``LocalIssuer``: the other half of ``cognises.flask.signin_blueprint`` in tests.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from cognises.testing._alb import AlbKeyServer, LocalAlb
from cognises.testing._cognito import PoolSetup, create_pool, create_user, log_in
from cognises.testing._issuer import LocalIssuer

if TYPE_CHECKING:
    from flask import Flask

    from cognises.testing._authserver import LocalManagedLogin
    from cognises.testing._emulator import FaultInjector, MotoEmulator

__all__ = [
    "AlbKeyServer",
    "FaultInjector",
    "LocalAlb",
    "LocalIssuer",
    "LocalManagedLogin",
    "MotoEmulator",
    "PoolSetup",
    "create_pool",
    "create_user",
    "log_in",
    "use_local_issuer",
]


def use_local_issuer(app: Flask, issuer: LocalIssuer | None = None) -> LocalIssuer:
    """Make ``app`` accept tokens signed by ``issuer``, and return the issuer.

    Every verifier the app has, or makes later, for the issuer's pool (``login_check()``
    and ``login_check(region, pool)`` alike) is given the issuer's current keys, so no
    key is fetched from AWS or from ``COGNISES_JWKS_URL``. Call it again after
    ``issuer.rotate()`` or ``issuer.add_key()``.

    With no ``issuer``, one is made for the pool the app uses: the one in its config
    (``COGNISES_REGION``, ``COGNISES_USER_POOL_ID`` and, when set, one of
    ``COGNISES_CLIENT_IDS``), or else the one its ``login_check(region, pool_id)`` views
    name, when they all name the same pool (register the views first). The tokens must
    still pass every other check: the issuer's region, pool and client id must be the
    ones the app accepts.
    """
    from cognises.flask._config import client_id_set
    from cognises.flask._state import state_for

    if issuer is None:
        region = app.config.get("COGNISES_REGION")
        pool = app.config.get("COGNISES_USER_POOL_ID")
        if isinstance(region, str) and isinstance(pool, str):
            clients = client_id_set(app.config.get("COGNISES_CLIENT_IDS"), "COGNISES_CLIENT_IDS")
        else:
            region, pool, clients = _pool_of_views(app)
        issuer = LocalIssuer(region=region, user_pool_id=pool)
        if clients:
            issuer.client_id = min(clients)
    state_for(app).trust(issuer.issuer, issuer.jwks(), app.config)
    return issuer


def _pool_of_views(app: Flask) -> tuple[str, str, frozenset[str] | None]:
    """The one pool that the app's ``login_check(region, pool_id)`` views name."""
    from cognises.errors import ConfigurationError
    from cognises.flask._config import PoolSpec
    from cognises.flask._decorators import SPEC_MARK

    pools: dict[tuple[str, str], frozenset[str] | None] = {}
    for view in app.view_functions.values():
        spec = getattr(view, SPEC_MARK, None)
        if isinstance(spec, PoolSpec) and spec.region and spec.user_pool_id:
            clients = spec.client_ids if isinstance(spec.client_ids, frozenset) else None
            pools.setdefault((spec.region, spec.user_pool_id), clients)
    if len(pools) == 1:
        (((region, pool), clients),) = pools.items()
        return region, pool, clients
    if not pools:
        raise ConfigurationError(
            "use_local_issuer without an issuer needs the app's pool: expected "
            "COGNISES_REGION and COGNISES_USER_POOL_ID in the config, or views registered "
            "with login_check(region, pool_id), found neither"
        )
    named = ", ".join(f"{region}/{pool}" for region, pool in sorted(pools))
    raise ConfigurationError(
        f"use_local_issuer without an issuer: the app's views name several pools ({named}); "
        "pass use_local_issuer(app, LocalIssuer(region=..., user_pool_id=...)) for each"
    )


def __getattr__(name: str) -> Any:
    # Lazy, so that importing cognises.testing needs neither moto nor its heavy imports.
    if name in ("MotoEmulator", "FaultInjector"):
        from cognises.testing import _emulator

        return getattr(_emulator, name)
    if name == "LocalManagedLogin":
        from cognises.testing._authserver import LocalManagedLogin

        return LocalManagedLogin
    raise AttributeError(f"module 'cognises.testing' has no attribute {name!r}")
