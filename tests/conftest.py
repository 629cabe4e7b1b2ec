from __future__ import annotations

from collections.abc import Iterator

import pytest

from cognises.testing._emulator import FaultInjector, MotoEmulator


@pytest.fixture(scope="session")
def moto_server() -> Iterator[MotoEmulator]:
    """One moto server on 127.0.0.1 for the whole run; tests use fresh pools and names."""
    with MotoEmulator() as emulator:
        yield emulator


@pytest.fixture
def faults(moto_server: MotoEmulator) -> Iterator[FaultInjector]:
    """The server's fault injector, reset before and after each test that asks for it."""
    assert moto_server.faults is not None
    moto_server.faults.reset()
    yield moto_server.faults
    moto_server.faults.reset()
