"""Faults that moto cannot make, injected between the ``FaultInjector`` and moto itself.

``ErrorInjector`` answers chosen IAM or Cognito calls (by service, action and group) with
the error AWS really returns for them (``InvalidClientTokenId``, ``AccessDenied``,
``MalformedPolicyDocument``...), or drops the connection without an answer: before moto
sees the call, or after moto has done it (the change is made, the answer is lost).

Run as a script, this module is the child that the state-file kill test SIGKILLs in the
middle of writing: ``python fault_support.py ENDPOINT POOL_ID STATE_PATH KILL_POINT``.
It converges the group document in STATE_PATH, writes it back there, and stops at
KILL_POINT (printing ``KILL-POINT``) until it is killed.
"""

from __future__ import annotations

import io
import json
import socket
import threading
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs

__all__ = ["ErrorInjector", "Rule", "cognito_error", "iam_error"]

StartResponse = Callable[..., Any]
WSGIApp = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]
KILL_POINT = "KILL-POINT"


def iam_error(status: int, code: str, message: str) -> tuple[int, str, bytes]:
    """IAM's query-protocol error document."""
    body = (
        '<ErrorResponse xmlns="https://iam.amazonaws.com/doc/2010-05-08/">'
        f"<Error><Type>Sender</Type><Code>{code}</Code><Message>{message}</Message></Error>"
        f"<RequestId>{uuid.uuid4()}</RequestId></ErrorResponse>"
    ).encode()
    return status, "text/xml", body


def cognito_error(status: int, code: str, message: str) -> tuple[int, str, bytes]:
    """Cognito's JSON-protocol error document."""
    body = json.dumps({"__type": code, "message": message}).encode()
    return status, "application/x-amz-json-1.1", body


@dataclass
class Rule:
    """Which calls to fault, and how.

    ``service``: "iam" or "cognito-idp". ``actions``: the API actions (empty: all).
    ``group``: only calls naming this group (its name, role or policy); None: all calls.
    ``answer``: an error from ``iam_error``/``cognito_error``, or None to drop the
    connection: ``after=True`` lets moto do the call first. ``times``: how many calls to
    fault (None: every one).
    """

    service: str
    actions: frozenset[str] = frozenset()
    group: str | None = None
    answer: tuple[int, str, bytes] | None = None
    after: bool = False
    times: int | None = None
    hits: list[str] = field(default_factory=list)

    def matches(self, service: str, action: str, params: dict[str, Any]) -> bool:
        if service != self.service or (self.actions and action not in self.actions):
            return False
        if self.times is not None and len(self.hits) >= self.times:
            return False
        if self.group is None:
            return True
        return (
            params.get("GroupName") == self.group
            or str(params.get("RoleName", "")).endswith(f"-{self.group}")
            or params.get("PolicyName") == f"{self.group}_policy"
        )


class ErrorInjector:
    """WSGI middleware in front of moto: faults the calls that match a rule."""

    def __init__(self, app: WSGIApp) -> None:
        self.app = app
        self.rules: list[Rule] = []
        self._lock = threading.Lock()

    def clear(self) -> None:
        with self._lock:
            self.rules = []

    def add(self, rule: Rule) -> Rule:
        with self._lock:
            self.rules.append(rule)
        return rule

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        service, action, params = _identify(environ)
        with self._lock:
            rule = next((r for r in self.rules if r.matches(service, action, params)), None)
            if rule is not None:
                rule.hits.append(action)
        if rule is None:
            return self.app(environ, start_response)
        if rule.answer is not None:
            status, content_type, body = rule.answer
            start_response(
                f"{status} Error",
                [("Content-Type", content_type), ("Content-Length", str(len(body)))],
            )
            return [body]
        if rule.after:
            # Let moto make the change, throw its answer away.
            for _ in self.app(environ, lambda *args, **kwargs: None):
                pass
        raise _drop(environ)


def _drop(environ: dict[str, Any]) -> ConnectionResetError:
    """Close the client's connection without an answer; returns the error to raise.

    werkzeug's server treats a ``ConnectionError`` from the app as a client that went
    away: it sends nothing, not even a 500.
    """
    connection: socket.socket = environ["werkzeug.socket"]
    connection.shutdown(socket.SHUT_RDWR)
    return ConnectionResetError("connection dropped by the fault injector")


def _identify(environ: dict[str, Any]) -> tuple[str, str, dict[str, Any]]:
    length = int(environ.get("CONTENT_LENGTH") or 0)
    body = environ["wsgi.input"].read(length) if length else b""
    environ["wsgi.input"] = io.BytesIO(body)  # put it back for moto
    target = environ.get("HTTP_X_AMZ_TARGET", "")
    if target.startswith("AWSCognitoIdentityProviderService."):
        try:
            params = json.loads(body or b"{}")
        except ValueError:
            params = {}
        return "cognito-idp", target.split(".", 1)[1], params if isinstance(params, dict) else {}
    if "/iam/" in environ.get("HTTP_AUTHORIZATION", ""):
        form = {k: v[0] for k, v in parse_qs(body.decode("utf-8", "replace")).items()}
        return "iam", form.get("Action", ""), form
    return "other", "", {}


# --------------------------------------------------------------------------- the child


def _child(endpoint: str, pool_id: str, state_path: str, kill_point: str) -> None:
    import asyncio
    import os
    import sys
    import types

    from provision_support import clients

    from cognises import _state
    from cognises.aio import create_update

    def stop_here() -> None:
        print(KILL_POINT, flush=True)
        threading.Event().wait()  # until the parent kills us

    class HalfWriter:
        """A file whose write stops half-way, flushed to disk, and waits to be killed."""

        def __init__(self, handle: Any) -> None:
            self._handle = handle

        def __enter__(self) -> HalfWriter:
            return self

        def __exit__(self, *exc_info: object) -> None:
            self._handle.close()

        def write(self, text: str) -> int:
            self._handle.write(text[: len(text) // 2])
            self._handle.flush()
            os.fsync(self._handle.fileno())
            stop_here()
            return len(text)  # never reached

        def __getattr__(self, name: str) -> Any:
            return getattr(self._handle, name)

    class SlowOS(types.ModuleType):
        """``os`` for ``cognises._state`` only, stopping at the chosen point of the write."""

        fsyncs = 0

        def __getattr__(self, name: str) -> Any:
            return getattr(os, name)

        def fdopen(self, fd: int, *args: Any, **kwargs: Any) -> Any:
            handle = os.fdopen(fd, *args, **kwargs)
            return HalfWriter(handle) if kill_point == "mid-write" else handle

        def fsync(self, fd: int) -> None:
            os.fsync(fd)
            SlowOS.fsyncs += 1
            if kill_point == "before-replace" and SlowOS.fsyncs == 1:
                stop_here()  # the temp file is complete and on disk, not yet in place

        def replace(self, src: Any, dst: Any) -> None:
            os.replace(src, dst)
            if kill_point == "after-replace":
                stop_here()  # in place, the directory not yet synced

    _state.os = SlowOS("os")  # type: ignore[attr-defined]
    emulator = types.SimpleNamespace(region="us-east-1", endpoint=endpoint)

    async def main() -> None:
        async with clients(emulator) as (iam, cognito):  # type: ignore[arg-type]
            await create_update(
                state_path,
                iam,
                cognito,
                pool_id,
                identity_pool_id="us-east-1:0a1b2c3d-0000-4000-8000-123456789abc",
                state_path=state_path,
            )

    asyncio.run(main())
    print("FINISHED WITHOUT STOPPING", flush=True)
    sys.exit(3)


if __name__ == "__main__":
    import sys

    _child(*sys.argv[1:5])
