"""Shared pieces of the Flask tests: group documents, headers, an app trusting a local
issuer, a real server in a thread."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Any

from flask import Flask
from werkzeug.serving import WSGIRequestHandler, make_server

from cognises.testing import LocalIssuer, use_local_issuer

POLICY = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}],
}


def group(name: str, *allowed: str) -> dict[str, Any]:
    """One entry of a seed-format group document."""
    return {
        "group_name": name,
        "group_policy": POLICY,
        "created": "false",
        "allowed_functions": list(allowed),
    }


def document(**groups: Iterable[str]) -> list[dict[str, Any]]:
    return [group(name, *allowed) for name, allowed in groups.items()]


def bearer(token: str, scheme: str = "Bearer") -> dict[str, str]:
    return {"Authorization": f"{scheme} {token}"}


def local_app(issuer: LocalIssuer, name: str = __name__, **config: Any) -> Flask:
    """An app whose config names ``issuer``'s pool and client, trusting its keys."""
    app = Flask(name)
    app.config.update(
        COGNISES_REGION=issuer.region,
        COGNISES_USER_POOL_ID=issuer.user_pool_id,
        COGNISES_CLIENT_IDS=issuer.client_id,
        **config,
    )
    use_local_issuer(app, issuer)
    return app


def closed_port_url() -> str:
    """An http URL on 127.0.0.1 where nothing listens: fetches fail at once."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/jwks.json"


class _QuietHandler(WSGIRequestHandler):
    def log_request(self, *args: Any, **kwargs: Any) -> None:
        pass


@contextmanager
def serve(app: Flask, *, quiet: bool = False) -> Iterator[str]:
    """Serve ``app`` with werkzeug's threaded server on 127.0.0.1; yields its base URL.

    ``quiet`` leaves out the line werkzeug logs per request (for load tests).
    """
    handler = _QuietHandler if quiet else WSGIRequestHandler
    server = make_server("127.0.0.1", 0, app, threaded=True, request_handler=handler)
    # Polled often, so that shutdown does not wait out werkzeug's half second.
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
    )
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
