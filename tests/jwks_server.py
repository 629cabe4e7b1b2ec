"""A small threaded HTTP server on 127.0.0.1 that answers as each test tells it to.

Tests set ``server.reply`` (every request) or ``server.script`` (the next requests, in
order, then ``reply``). A ``Reply`` can hold the answer until an event is set, trickle the
body a byte at a time, send it chunked (no Content-Length), or repeat a block to make a
huge body without building it. Every request is recorded: its path, how many body bytes
the server got to send, whether it sent them all, and an event set when it is done.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

__all__ = ["JWKSServer", "Record", "Reply"]

# No handler waits longer than this for a hold event, so a broken test cannot hang.
MAX_HOLD = 10.0


@dataclass
class Reply:
    status: int = 200
    body: bytes = b""
    headers: Mapping[str, str] = field(default_factory=dict)
    chunked: bool = False
    """Send the body with Transfer-Encoding: chunked instead of a Content-Length."""
    repeat: int = 1
    """Send ``body`` this many times (a huge body without building it)."""
    trickle: float | None = None
    """Seconds between single bytes of the body (interrupted when the server closes)."""
    hold: threading.Event | None = None
    """Answer only once this is set (or the server closes)."""

    @classmethod
    def json(cls, document: Any, **options: Any) -> Reply:
        return cls(body=json.dumps(document).encode(), **options)


@dataclass
class Record:
    path: str
    body_size: int
    body_sent: int = 0
    completed: bool = False
    error: str | None = None
    done: threading.Event = field(default_factory=threading.Event)


class _Server(ThreadingHTTPServer):
    # Join the handler threads on close, so every socket is closed when close() returns.
    daemon_threads = False
    block_on_close = True
    owner: JWKSServer

    def handle_error(self, request: Any, client_address: Any) -> None:
        # Clients that hang up are part of the tests; the handler records what happened.
        pass


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        owner = self.server.owner
        reply, record = owner._begin(self.path)
        self.close_connection = True
        try:
            if reply.hold is not None:
                owner._wait(reply.hold)
            self.send_response(reply.status)
            for name, value in reply.headers.items():
                self.send_header(name, value)
            if reply.chunked:
                self.send_header("Transfer-Encoding", "chunked")
            elif "content-length" not in {name.lower() for name in reply.headers}:
                self.send_header("Content-Length", str(record.body_size))
            self.send_header("Connection", "close")
            self.end_headers()
            for piece in self._pieces(reply):
                if reply.chunked:
                    self.wfile.write(f"{len(piece):X}\r\n".encode() + piece + b"\r\n")
                else:
                    self.wfile.write(piece)
                record.body_sent += len(piece)
            if reply.chunked:
                self.wfile.write(b"0\r\n\r\n")
            record.completed = record.body_sent == record.body_size
        except OSError as exc:  # the client hung up
            record.error = type(exc).__name__
        finally:
            record.done.set()

    def _pieces(self, reply: Reply) -> Iterator[bytes]:
        owner = self.server.owner
        for _ in range(reply.repeat):
            if reply.trickle is None:
                yield reply.body
                continue
            for i in range(len(reply.body)):
                yield reply.body[i : i + 1]
                if owner._closing.wait(reply.trickle):
                    return


class JWKSServer:
    def __init__(self) -> None:
        self.reply = Reply()
        self.script: list[Reply] = []
        self.records: list[Record] = []
        self._closing = threading.Event()
        self._changed = threading.Condition()
        self._holds: list[threading.Event] = []
        self._server = _Server(("127.0.0.1", 0), _Handler)
        self._server.owner = self
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    def url(self, path: str = "/jwks.json") -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def count(self, path: str | None = None) -> int:
        with self._changed:
            return sum(1 for r in self.records if path is None or r.path == path)

    def wait_for_requests(self, n: int, timeout: float = 5.0) -> bool:
        """Wait until at least ``n`` requests arrived; False on timeout."""
        with self._changed:
            return self._changed.wait_for(lambda: len(self.records) >= n, timeout)

    def _begin(self, path: str) -> tuple[Reply, Record]:
        with self._changed:
            reply = self.script.pop(0) if self.script else self.reply
            record = Record(path, len(reply.body) * reply.repeat)
            self.records.append(record)
            if reply.hold is not None:
                self._holds.append(reply.hold)
            self._changed.notify_all()
        return reply, record

    def _wait(self, hold: threading.Event) -> None:
        hold.wait(MAX_HOLD)

    def close(self) -> None:
        self._closing.set()
        with self._changed:
            holds = list(self._holds)
        for hold in holds:
            hold.set()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()

    def __enter__(self) -> JWKSServer:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()
