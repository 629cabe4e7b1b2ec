"""A moto server in a process of its own, for the provisioning benchmark.

``python -m benchmarks._moto_process LATENCY [SERVICE=RATE ...]`` starts ``MotoEmulator``
with ``LATENCY`` seconds of injected latency per AWS call (and, per ``SERVICE=RATE``, a
token-bucket limit of RATE writes a second, as ``FaultInjector.rate_limits``), prints its
endpoint on one line, and serves until its standard input is closed. Its own process has
its own core and its own GIL: moto's request handling (several milliseconds of CPU per
call) then does not compete with the client being measured.
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Iterable
from typing import Any

from cognises.testing import MotoEmulator
from cognises.testing._emulator import StartResponse, WSGIApp


def serialized(app: WSGIApp) -> WSGIApp:
    """``app`` serving one request at a time.

    moto's IAM is not thread-safe: GetRole and PutRolePolicy walk the dict of roles while
    a concurrent CreateRole grows it ("dictionary changed size during iteration", a 500).
    The lock sits inside the fault injector, whose latency counts from a call's arrival:
    calls served one after another still answer together, at their latency, while their
    work fits in it; moto's own work was never parallel anyway (one process, one GIL).
    """
    lock = threading.Lock()

    def locked(environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        with lock:
            return list(app(environ, start_response))

    return locked


def fewer_directory_scans() -> None:
    """moto lists its own package directory (a stat per entry) twice per request to route
    it, a quarter of its CPU time per call here; the listing never changes, so keep it."""
    from moto import backends

    modules = tuple(backends.list_of_moto_modules())
    backends.list_of_moto_modules = lambda: modules


def cached_method_names() -> None:
    """moto lists a response class's methods (``inspect.getmembers``) on every request to
    find the action's handler, about a millisecond per call here; classes do not change."""
    import functools

    from moto.core import responses

    responses.method_names_from_class = functools.cache(responses.method_names_from_class)


def main() -> None:
    latency = float(sys.argv[1]) if len(sys.argv) > 1 else 0.0
    limits = {k: float(v) for k, v in (a.split("=", 1) for a in sys.argv[2:])}
    fewer_directory_scans()
    cached_method_names()
    with MotoEmulator() as moto:
        assert moto.faults is not None
        moto.faults.reset(latency=latency, rate_limits=limits)
        moto.faults.app = serialized(moto.faults.app)
        print(moto.endpoint, flush=True)
        sys.stdin.read()  # until the parent closes it (or exits)


if __name__ == "__main__":
    main()
