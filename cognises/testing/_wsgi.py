"""Small WSGI helpers for the emulator's layers in front of moto."""

from __future__ import annotations

import base64
import io
import json
from collections.abc import Callable, Iterable
from typing import Any

__all__ = [
    "AMZ_JSON",
    "StartResponse",
    "WSGIApp",
    "call",
    "json_answer",
    "json_error",
    "read_json",
    "unverified_claims",
]

StartResponse = Callable[..., Any]
WSGIApp = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]
AMZ_JSON = "application/x-amz-json-1.1"


def read_json(environ: dict[str, Any]) -> dict[str, Any]:
    """The request's JSON body, put back so that the app behind can read it too."""
    length = int(environ.get("CONTENT_LENGTH") or 0)
    body = environ["wsgi.input"].read(length) if length else b""
    environ["wsgi.input"] = io.BytesIO(body)
    try:
        value = json.loads(body or b"{}")
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def call(app: WSGIApp, environ: dict[str, Any]) -> tuple[str, list[tuple[str, str]], bytes]:
    """Run ``app`` and return its status, headers (without Content-Length) and body."""
    captured: dict[str, Any] = {}

    def keep(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
        captured["status"], captured["headers"] = status, headers
        return lambda data: None

    body = b"".join(app(environ, keep))
    headers = [(k, v) for k, v in captured["headers"] if k.lower() != "content-length"]
    return captured["status"], headers, body


def json_answer(
    start_response: StartResponse,
    body: bytes,
    status: str = "200 OK",
    headers: list[tuple[str, str]] | None = None,
) -> list[bytes]:
    headers = headers if headers is not None else [("Content-Type", AMZ_JSON)]
    start_response(status, [*headers, ("Content-Length", str(len(body)))])
    return [body]


def json_error(start_response: StartResponse, code: str, message: str) -> list[bytes]:
    """An error as AWS's JSON protocols answer it."""
    body = json.dumps({"__type": code, "message": message}).encode()
    return json_answer(start_response, body, "400 Bad Request")


def unverified_claims(token: object) -> dict[str, Any]:
    """The payload of a JWT, unchecked (the emulator's own tokens), or {} if it has none."""
    if not isinstance(token, str) or token.count(".") != 2:
        return {}
    part = token.split(".")[1]
    try:
        value = json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}
