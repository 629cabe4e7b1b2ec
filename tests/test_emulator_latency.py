"""FaultInjector's latency: the least time a call takes, arrival to answer, moto's work
included. On a fake clock: what is asserted is what the injector waits, never a time."""

from __future__ import annotations

import io
from collections.abc import Iterable
from typing import Any

import pytest

from cognises.testing import _emulator
from cognises.testing._emulator import FaultInjector


class Clock:
    def __init__(self) -> None:
        self.now = 100.0
        self.slept: list[float] = []

    def monotonic(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(round(seconds, 6))
        self.now += seconds


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    fake = Clock()
    monkeypatch.setattr(_emulator.time, "monotonic", fake.monotonic)
    monkeypatch.setattr(_emulator.time, "sleep", fake.sleep)
    return fake


def cognito_call(action: str = "CreateGroup") -> dict[str, Any]:
    return {
        "REQUEST_METHOD": "POST",
        "HTTP_X_AMZ_TARGET": f"AWSCognitoIdentityProviderService.{action}",
        "wsgi.input": io.BytesIO(b"{}"),
    }


def iam_call(action: str = "CreateRole") -> dict[str, Any]:
    body = f"Action={action}&Version=2010-05-08".encode()
    return {
        "REQUEST_METHOD": "POST",
        "HTTP_AUTHORIZATION": "AWS4-HMAC-SHA256 Credential=x/20260101/us-east-1/iam/aws4_request",
        "CONTENT_LENGTH": str(len(body)),
        "wsgi.input": io.BytesIO(body),
    }


def backend(clock: Clock, work: float, served: list[float]) -> Any:
    def app(environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        served.append(clock.now)
        clock.now += work  # moto's own work on the call
        start_response("200 OK", [("Content-Type", "application/json")])
        return [b"{}"]

    return app


def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> None:
    pass


@pytest.mark.parametrize("environ", [cognito_call, iam_call])
def test_the_call_is_served_on_arrival_and_answered_at_its_latency(clock, environ):
    served: list[float] = []
    injector = FaultInjector(backend(clock, 0.03, served), latency=0.1)
    arrived = clock.now
    assert list(injector(environ(), start_response)) == [b"{}"]
    assert served == [arrived]  # served at once, not after the latency
    assert clock.slept == [0.07]  # the rest of the 100 ms
    assert clock.now == pytest.approx(arrived + 0.1)


def test_work_longer_than_the_latency_adds_no_wait(clock):
    served: list[float] = []
    injector = FaultInjector(backend(clock, 0.25, served), latency=0.1)
    injector(iam_call(), start_response)
    assert clock.slept == []


def test_a_throttled_call_still_takes_its_latency(clock):
    served: list[float] = []
    injector = FaultInjector(backend(clock, 0.03, served), latency=0.1, throttle_rate=1.0)
    answer = b"".join(injector(cognito_call(), start_response))
    assert b"TooManyRequestsException" in answer
    assert served == []  # moto never saw it
    assert clock.slept == [0.1]


def test_no_latency_no_wait(clock):
    served: list[float] = []
    injector = FaultInjector(backend(clock, 0.03, served))
    injector(cognito_call(), start_response)
    assert (len(served), clock.slept) == (1, [])


def test_the_body_is_read_whole_and_closed(clock):
    closed: list[bool] = []

    class Body:
        def __iter__(self) -> Any:
            return iter([b"{", b"}"])

        def close(self) -> None:
            closed.append(True)

    def app(environ: dict[str, Any], start_response: Any) -> Body:
        start_response("200 OK", [])
        return Body()

    injector = FaultInjector(app, latency=0.1)
    assert injector(iam_call(), start_response) == [b"{", b"}"]
    assert closed == [True]
