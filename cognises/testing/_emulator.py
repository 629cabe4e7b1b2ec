"""A local AWS (Cognito and IAM) for tests, benchmarks and the demo: moto server on loopback.

``FaultInjector`` sits in front of moto's WSGI app because moto itself cannot add
latency or throttle: it delays calls, answers a share of them (``throttle_rate``), or
every write beyond a per-service rate (``rate_limits``, a token bucket like AWS's),
with the throttling error each service really returns, and records every action so
that tests can count write calls. Behind it, ``IdentityRoles`` (``_identity_roles``)
serves the identity-pool role calls that moto lacks.
"""

from __future__ import annotations

import io
import random
import threading
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, ClassVar
from urllib.parse import parse_qs

from cognises.testing._identity import IdentityExtras
from cognises.testing._identity_roles import IdentityRoles
from cognises.testing._revocation import RevocationExtras

__all__ = [
    "Call",
    "FaultInjector",
    "IdentityRoles",
    "MotoEmulator",
    "TokenBucket",
    "is_write_action",
]

_IAM_LOCK = threading.Lock()

_WRITE_PREFIXES = (
    "Create", "Put", "Update", "Delete", "Attach", "Detach", "Tag", "Untag", "Set"
)  # fmt: skip
_WRITE_ACTIONS = {"AdminAddUserToGroup", "AdminRemoveUserFromGroup"}

StartResponse = Callable[..., Any]
WSGIApp = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]


def is_write_action(action: str) -> bool:
    """Whether an IAM or Cognito action changes state."""
    return action.startswith(_WRITE_PREFIXES) or action in _WRITE_ACTIONS


@dataclass(frozen=True)
class Call:
    service: str  # "iam", "cognito-idp", "cognito-identity" or "other"
    action: str
    throttled: bool


class TokenBucket:
    """AWS-style rate limit: ``rate`` tokens a second, at most ``burst`` saved up (by
    default one second's worth, and never less than one call)."""

    def __init__(self, rate: float, burst: float | None = None) -> None:
        self.rate = rate
        self.burst = max(1.0, rate) if burst is None else burst
        self._tokens = self.burst
        self._at = time.monotonic()

    def take(self) -> bool:
        now = time.monotonic()
        self._tokens = min(self.burst, self._tokens + (now - self._at) * self.rate)
        self._at = now
        if self._tokens >= 1:
            self._tokens -= 1
            return True
        return False


@dataclass
class FaultInjector:
    """WSGI middleware: latency, throttling and an action log in front of moto."""

    app: WSGIApp
    latency: float = 0.0
    """Seconds a call takes at the least, from its arrival to its answer."""
    throttle_rate: float = 0.0
    seed: int = 0
    calls: list[Call] = field(default_factory=list)
    # Called before each call is served; tests use it to stop a run half-way.
    on_call: Callable[[Call], None] | None = None
    rate_limits: dict[str, float] = field(default_factory=dict)
    """Writes a second per service ("iam", "cognito-idp"...); more are throttled."""
    _buckets: dict[str, TokenBucket] = field(default_factory=dict, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def __post_init__(self) -> None:
        self._rng = random.Random(self.seed)  # noqa: S311 - fault injection, not security
        self._buckets = {s: TokenBucket(r) for s, r in self.rate_limits.items()}

    def reset(
        self,
        *,
        latency: float = 0.0,
        throttle_rate: float = 0.0,
        rate_limits: dict[str, float] | None = None,
    ) -> None:
        with self._lock:
            self.latency = latency
            self.throttle_rate = throttle_rate
            self.rate_limits = dict(rate_limits or {})
            self._buckets = {s: TokenBucket(r) for s, r in self.rate_limits.items()}
            self.calls.clear()
            self.on_call = None

    def actions(self, *, writes_only: bool = False, include_throttled: bool = False) -> list[str]:
        """The actions served so far, in order."""
        with self._lock:
            calls = list(self.calls)
        return [
            c.action
            for c in calls
            if c.service != "other"
            and (include_throttled or not c.throttled)
            and (not writes_only or is_write_action(c.action))
        ]

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        if environ.get("HTTP_X_COGNISES_EMULATOR") == "internal":
            return self.app(environ, start_response)  # the emulator's own call, not a test's
        service, action = _identify(environ)
        if service == "other":
            return self.app(environ, start_response)
        with self._lock:
            throttled = self._rng.random() < self.throttle_rate
            bucket = self._buckets.get(service)
            if not throttled and bucket is not None and is_write_action(action):
                throttled = not bucket.take()
            call = Call(service, action, throttled)
            self.calls.append(call)
            latency, hook = self.latency, self.on_call
        if hook is not None:
            hook(call)
        arrived = time.monotonic()
        if throttled:
            answer = _throttle(service, start_response)
        elif service == "iam":
            # moto's IAM is not thread-safe: CreateRole walks the dict of roles that a
            # concurrent CreateRole grows ("dictionary changed size during iteration", a
            # 500). Its calls are served one at a time.
            with _IAM_LOCK:
                answer = _drained(self.app(environ, start_response))
        else:
            answer = _drained(self.app(environ, start_response))
        # The latency is the least time a call takes, arrival to answer, moto's own work
        # included: served one at a time, a burst of calls would otherwise wait out its
        # latency and then queue for moto, which no AWS endpoint does.
        remaining = latency - (time.monotonic() - arrived)
        if remaining > 0:
            time.sleep(remaining)
        return answer


def _drained(body: Iterable[bytes]) -> list[bytes]:
    """A WSGI body read whole (to answer it after the latency), and closed as PEP 3333 asks."""
    try:
        return list(body)
    finally:
        close = getattr(body, "close", None)
        if close is not None:
            close()


def _identify(environ: dict[str, Any]) -> tuple[str, str]:
    target = environ.get("HTTP_X_AMZ_TARGET", "")
    if target.startswith("AWSCognitoIdentityProviderService."):
        return "cognito-idp", target.split(".", 1)[1]
    if target.startswith("AWSCognitoIdentityService."):
        return "cognito-identity", target.split(".", 1)[1]
    if environ.get("REQUEST_METHOD") != "POST" or "/iam/" not in environ.get(
        "HTTP_AUTHORIZATION", ""
    ):
        return "other", ""
    # IAM is a form-encoded query API: the action is in the body, which we must put back.
    length = int(environ.get("CONTENT_LENGTH") or 0)
    body = environ["wsgi.input"].read(length) if length else b""
    environ["wsgi.input"] = io.BytesIO(body)
    action = parse_qs(body.decode("utf-8", "replace")).get("Action", [""])[0]
    return "iam", action


def _throttle(service: str, start_response: StartResponse) -> list[bytes]:
    if service == "iam":
        body = (
            "<ErrorResponse><Error><Type>Sender</Type><Code>Throttling</Code>"
            "<Message>Rate exceeded</Message></Error>"
            f"<RequestId>{uuid.uuid4()}</RequestId></ErrorResponse>"
        ).encode()
        content_type = "text/xml"
    else:
        body = b'{"__type": "TooManyRequestsException", "message": "Rate exceeded"}'
        content_type = "application/x-amz-json-1.1"
    start_response(
        "400 Bad Request",
        [("Content-Type", content_type), ("Content-Length", str(len(body)))],
    )
    return [body]


def _quiet(handler: type[Any]) -> type[Any]:
    class QuietHandler(handler):  # type: ignore[misc]
        def log_request(self, *args: object, **kwargs: object) -> None:
            pass

    return QuietHandler


class MotoEmulator:
    """A moto server on 127.0.0.1 (a free port) with a ``FaultInjector`` in front.

    Use as a context manager, or call ``start`` and ``stop``.
    """

    region = "us-east-1"
    credentials: ClassVar[dict[str, str]] = {
        "aws_access_key_id": "testing",
        "aws_secret_access_key": "testing",
    }

    def __init__(self) -> None:
        from moto.server import ThreadedMotoServer

        self._server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
        self.faults: FaultInjector | None = None
        self.identity_roles: IdentityRoles | None = None
        self.identity: IdentityExtras | None = None
        self.revocation: RevocationExtras | None = None
        # identity pool id -> {"Roles": ..., "RoleMappings": ...}, as SetIdentityPoolRoles
        # stores them (the same dict as identity_roles.pools once started).
        self.identity_pool_roles: dict[str, dict[str, Any]] = {}
        self.endpoint = ""

    def start(self) -> MotoEmulator:
        self._server.start()
        # moto exposes no hook to wrap its app: reach for its werkzeug server.
        wsgi_server: Any = self._server._server
        assert wsgi_server is not None
        # Layers, outermost first: faults, RevokeToken, roles in tokens and credentials for
        # them, identity-pool role mappings, moto.
        self.identity_roles = IdentityRoles(wsgi_server.app)
        self.identity_roles.pools = self.identity_pool_roles
        self.identity = IdentityExtras(
            self.identity_roles,
            endpoint=lambda: self.endpoint,
            role_mappings=lambda pool_id: self.identity_pool_roles.get(pool_id, {}),
        )
        self.revocation = RevocationExtras(self.identity)
        self.faults = FaultInjector(self.revocation)
        wsgi_server.app = self.faults
        wsgi_server.RequestHandlerClass = _quiet(wsgi_server.RequestHandlerClass)
        host, port = self._server.get_host_and_port()
        self.endpoint = f"http://{host}:{port}"
        return self

    def stop(self) -> None:
        self._server.stop()

    def __enter__(self) -> MotoEmulator:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def client_kwargs(self) -> dict[str, Any]:
        """Keyword arguments for ``boto3.client`` / ``aioboto3.Session.client``."""
        return {"region_name": self.region, "endpoint_url": self.endpoint, **self.credentials}

    def jwks_url(self, user_pool_id: str) -> str:
        return f"{self.endpoint}/{user_pool_id}/.well-known/jwks.json"
