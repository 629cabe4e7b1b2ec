"""What parts 6 to 8 share: a key server, gunicorn serving ``benchmarks._app``, wrk driving it.

wrk (Debian's ``wrk`` package) runs ``_load.lua``: a token per request from a file, a
fixed number of answers per connection, every status checked against the one expected.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import math
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from benchmarks._fixtures import POOL, issuer
from benchmarks._jwks import _Server

__all__ = [
    "Entry",
    "Gunicorn",
    "Outcome",
    "access_tokens",
    "check",
    "forgeable",
    "gunicorn",
    "interleaved_load",
    "key_server",
    "token_file",
    "wrk",
]

ROOT = Path(__file__).resolve().parent.parent
LUA = Path(__file__).with_name("_load.lua")
HEX = frozenset("0123456789abcdef")

# One line of a token file: the status expected, "v" (sent as is) or "f" (forged on the
# way out, a new forgery per request), and the token.
Entry = tuple[int, str, str]


@dataclass(frozen=True)
class Outcome:
    """What one wrk run measured and saw."""

    answers: int  # counted for the rate
    checked: int  # answers checked: those, and those after a thread had its quota
    wrong: int
    first_wrong: str
    statuses: dict[int, int]
    seconds: float
    p50: float  # seconds
    p99: float
    socket_errors: int

    @property
    def rate(self) -> float:
        return self.answers / self.seconds

    @property
    def server_errors(self) -> int:
        return sum(count for status, count in self.statuses.items() if status >= 500)


@dataclass(frozen=True)
class Gunicorn:
    url: str
    process: subprocess.Popen[bytes]

    def worker_pids(self) -> list[int]:
        children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
        return [int(pid) for pid in children.read_text().split()]


@contextlib.contextmanager
def key_server() -> Iterator[str]:
    """The pool's JWKS on 127.0.0.1, answering at once; yields its URL."""
    server = _Server(issuer().jwks(), delay=0.0)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.url
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@contextlib.contextmanager
def gunicorn(
    jwks_url: str, *, worker_class: str, workers: int = 2, threads: int = 1
) -> Iterator[Gunicorn]:
    """``benchmarks._app`` under gunicorn on 127.0.0.1, ready to answer."""
    local = issuer()
    port = _free_port()
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
        "BENCH_REGION": local.region,
        "BENCH_POOL": POOL,
        "BENCH_CLIENT": local.client_id,
        "BENCH_JWKS_URL": jwks_url,
    }
    command = [
        sys.executable,
        "-m",
        "gunicorn",
        f"--worker-class={worker_class}",
        f"--workers={workers}",
        f"--threads={threads}",
        f"--bind=127.0.0.1:{port}",
        "--keep-alive=30",
        "--log-level=warning",
        "benchmarks._app:create_app()",
    ]
    process = subprocess.Popen(command, env=env, cwd=ROOT)
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_ready(url, process, workers)
        yield Gunicorn(url, process)
    finally:
        process.terminate()
        process.wait(timeout=30)


def _wait_ready(url: str, process: subprocess.Popen[bytes], workers: int) -> None:
    deadline = time.monotonic() + 30
    children = Path(f"/proc/{process.pid}/task/{process.pid}/children")
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"gunicorn exited with status {process.returncode}")
        try:
            with urllib.request.urlopen(f"{url}/open", timeout=5) as answer:
                if answer.read() == b"ok" and len(children.read_text().split()) == workers:
                    return
        except OSError:
            pass
        time.sleep(0.05)  # waiting for a process to start, not synchronising a test
    raise RuntimeError("gunicorn did not answer within 30 s")


def access_tokens(count: int, *, expired: bool = False) -> list[str]:
    """``count`` distinct access tokens in group "admins" (or already expired)."""
    local = issuer()
    options = {"expires_in": -600} if expired else {}
    return [
        local.token(token_use="access", username=f"load{i:05d}", groups=["admins"], **options)
        for i in range(count)
    ]


def forgeable(tokens: Sequence[str]) -> list[str]:
    """Those of ``tokens`` the script can forge: the 8 characters it replaces with hex
    digits are not all hex digits already, so every forgery differs from the original."""
    return [token for token in tokens if not set(token[-200:-192]) <= HEX]


def token_file(entries: Sequence[Entry], directory: str) -> str:
    fd, path = tempfile.mkstemp(suffix=".tokens", dir=directory)
    with os.fdopen(fd, "w") as out:
        out.writelines(f"{status} {kind} {token}\n" for status, kind, token in entries)
    return path


def wrk(
    url: str,
    path: str,
    tokens: str,
    *,
    answers: int,
    connections: int,
    open_view: bool = False,
    start: int = 0,
) -> Outcome:
    """One wrk run: ``answers`` in all (rounded up to a whole number per connection), each
    connection's tokens from its ``start``-th on."""
    program = shutil.which("wrk")
    if program is None:
        raise RuntimeError("wrk is not installed: apt-get install -y wrk")
    quota = math.ceil(answers / connections)
    command = [
        program,
        f"--threads={connections}",
        f"--connections={connections}",
        "--duration=300s",  # a ceiling: each thread stops after its quota of answers
        "--timeout=10s",
        f"--script={LUA}",
        f"{url}{path}",
        "--",
        tokens,
        str(quota),
        "open" if open_view else "guarded",
        str(connections),
        str(start),
    ]
    found = _run_wrk(command, connections)
    if found["answers"] < quota * connections:
        raise AssertionError(f"{path}: {found['answers']} answers, expected {quota * connections}")
    return Outcome(
        answers=found["answers"],
        checked=found["checked"],
        wrong=found["wrong"],
        first_wrong=found["first_wrong"],
        statuses={int(status): count for status, count in found["statuses"].items()},
        seconds=found["seconds"],
        p50=found["p50_us"] / 1e6,
        p99=found["p99_us"] / 1e6,
        socket_errors=found["socket_errors"],
    )


def _run_wrk(command: list[str], connections: int) -> dict[str, Any]:
    # wrk runs until --duration ends or SIGINT; each thread prints DONE after its quota.
    with subprocess.Popen(command, stdout=subprocess.PIPE, text=True) as process:
        assert process.stdout is not None
        finished = 0
        for line in process.stdout:
            if line.startswith("DONE"):
                finished += 1
                if finished == connections:
                    process.send_signal(signal.SIGINT)
            elif line.startswith("BENCH "):
                found: dict[str, Any] = json.loads(line.removeprefix("BENCH "))
        if process.wait() != 0:
            raise RuntimeError(f"wrk exited with status {process.returncode}")
    return found


def interleaved_load(
    url: str,
    turns: Mapping[str, tuple[str, Callable[[int], Sequence[Entry]], bool]],
    *,
    answers: int,
    connections: int,
    rounds: int,
    directory: str,
) -> dict[str, Outcome]:
    """Each turn (name: path, its tokens, open view) run ``rounds`` times, in a new order
    every round. Each figure is the best of the turn's runs, the one least disturbed by
    the rest of the machine: requests a second, p50 and p99, each on its own (a
    moment's stall elsewhere can double a run's p99). A turn's tokens are made
    for each run (``answers`` of them), so that a stream of distinct tokens goes on where
    the last run left it. Every run must answer every request as expected, without a 5xx
    or a socket error."""
    best: dict[str, Outcome] = {}
    order = list(turns)
    shuffle = random.Random(0).shuffle
    for _ in range(rounds):
        shuffle(order)
        for name in order:
            path, entries, open_view = turns[name]
            tokens = token_file(entries(answers), directory)
            outcome = wrk(
                url, path, tokens, answers=answers, connections=connections, open_view=open_view
            )
            os.unlink(tokens)
            check(name, outcome)
            seen = best.get(name)
            best[name] = (
                outcome
                if seen is None
                else dataclasses.replace(
                    outcome if outcome.rate > seen.rate else seen,
                    p50=min(seen.p50, outcome.p50),
                    p99=min(seen.p99, outcome.p99),
                )
            )
    return best


def check(name: str, outcome: Outcome) -> None:
    if outcome.wrong or outcome.server_errors or outcome.socket_errors:
        raise AssertionError(
            f"{name}: {outcome.wrong} wrong answers ({outcome.first_wrong}), "
            f"{outcome.server_errors} 5xx, {outcome.socket_errors} socket errors; "
            f"statuses {outcome.statuses}"
        )
