"""pytest fixtures for apps that use cognises. Opt in from a ``conftest.py``::

    pytest_plugins = ["cognises.testing.pytest_plugin"]

``cognises_issuer``
    a ``LocalIssuer`` (new keys for each test): sign tokens, and make a Flask app trust
    them with ``use_local_issuer(app, cognises_issuer)``. No network at all.
``cognises_emulator``
    one ``MotoEmulator`` (a moto server on 127.0.0.1) for the whole session.
``cognises_pool``
    a fresh user pool and app client in the emulator, with ``add_user`` and ``tokens``
    to get real Cognito tokens, and ``flask_config()`` for an app that verifies them.

The emulator fixtures need ``pip install 'cognises[test]'`` (moto server and boto3).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import pytest

from cognises.testing._cognito import PASSWORD, PoolSetup, create_pool, create_user, log_in
from cognises.testing._issuer import LocalIssuer

if TYPE_CHECKING:
    from cognises.testing._emulator import MotoEmulator

__all__ = ["EmulatedPool", "cognises_emulator", "cognises_issuer", "cognises_pool"]


@dataclass
class EmulatedPool:
    """A user pool in the emulator; its users log in for real tokens."""

    emulator: MotoEmulator
    cognito: Any  # a boto3 cognito-idp client for the emulator
    setup: PoolSetup
    passwords: dict[str, str] = field(default_factory=dict)

    @property
    def region(self) -> str:
        return self.emulator.region

    @property
    def user_pool_id(self) -> str:
        return self.setup.user_pool_id

    @property
    def client_id(self) -> str:
        return self.setup.client_id

    @property
    def jwks_url(self) -> str:
        return self.emulator.jwks_url(self.user_pool_id)

    def add_user(
        self,
        username: str,
        *,
        groups: Iterable[str] = (),
        email: str | None = None,
        password: str = PASSWORD,
    ) -> None:
        """A confirmed user in ``groups`` (each created when missing)."""
        create_user(self.cognito, self.setup, username, groups=groups, email=email,
                    password=password)  # fmt: skip
        self.passwords[username] = password

    def tokens(self, username: str) -> dict[str, str]:
        """The user's ``IdToken``, ``AccessToken`` and ``RefreshToken``, from a real login."""
        return log_in(self.cognito, self.setup, username, self.passwords.get(username, PASSWORD))

    def flask_config(self) -> dict[str, Any]:
        """The ``COGNISES_*`` config of an app that accepts this pool's ID tokens."""
        return {
            "COGNISES_REGION": self.region,
            "COGNISES_USER_POOL_ID": self.user_pool_id,
            "COGNISES_CLIENT_IDS": [self.client_id],
            "COGNISES_JWKS_URL": self.jwks_url,
        }


@pytest.fixture
def cognises_issuer() -> LocalIssuer:
    """A local issuer with a fresh signing key."""
    return LocalIssuer()


@pytest.fixture(scope="session")
def cognises_emulator() -> Iterator[MotoEmulator]:
    """A moto server on 127.0.0.1 for the whole test session."""
    from cognises.testing._emulator import MotoEmulator

    with MotoEmulator() as emulator:
        yield emulator


@pytest.fixture
def cognises_pool(cognises_emulator: MotoEmulator) -> EmulatedPool:
    """A new user pool (and app client) in the session's emulator."""
    import boto3

    cognito = boto3.client("cognito-idp", **cognises_emulator.client_kwargs())
    setup = create_pool(cognito, f"test-{uuid.uuid4().hex[:12]}")
    return EmulatedPool(cognises_emulator, cognito, setup)
