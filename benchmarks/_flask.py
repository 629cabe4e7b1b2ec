"""Part 3: what login_check + permission_required add to a Flask request, sync and async.

Each protected view is measured against the same view unprotected, in the same app and the
same test client, with the same Authorization header on every request: the only
difference is the decorators. Caches are warm (keys loaded with ``use_local_issuer``, the
token verified once), which is the state of a running app serving a signed-in user.
"""

from __future__ import annotations

from typing import Any

from flask import Flask

from benchmarks._fixtures import GROUPS, issuer, tokens
from benchmarks._table import Row
from benchmarks._timing import interleaved
from cognises.flask import login_check, permission_required
from cognises.testing import use_local_issuer

# Requests per timed batch, and rounds: short batches, many rounds, the best one counts.
REQUESTS = {"sync": 50, "async": 25}
ROUNDS = {"sync": 40, "async": 40}
TARGET = 1.3

GROUP_DETAIL = [
    {
        "group_name": name,
        "group_policy": {"Version": "2012-10-17", "Statement": []},
        "created": "true",
        "allowed_functions": ["report"],
    }
    for name in GROUPS
]


def make_app() -> Flask:
    local = issuer()
    app = Flask("bench")
    app.config.update(
        TESTING=True,
        COGNISES_REGION=local.region,
        COGNISES_USER_POOL_ID=local.user_pool_id,
        COGNISES_CLIENT_IDS=local.client_id,
    )
    use_local_issuer(app, local)

    def open_sync() -> str:
        return "ok"

    async def open_async() -> str:
        return "ok"

    # The seed's form: the view gets the response dict; the permission is its name.
    def report(response: dict[str, Any]) -> str:
        return "ok"

    async def report_async(response: dict[str, Any]) -> str:
        return "ok"

    report_async.__name__ = "report"  # the same permission as its sync twin
    views: dict[str, Any] = {"open_sync": open_sync, "open_async": open_async}
    for name, view in (("report", report), ("report_async", report_async)):
        views[name] = login_check()(permission_required(GROUP_DETAIL)(view))
    for name, view in views.items():
        app.add_url_rule(f"/{name}", endpoint=name, view_func=view)
    return app


def run(quick: bool = False) -> list[Row]:
    app = make_app()
    client = app.test_client()
    headers = {"Authorization": f"Bearer {tokens(1)[0]}"}
    for path in ("/open_sync", "/open_async", "/report", "/report_async"):
        response = client.get(path, headers=headers)
        if response.status_code != 200 or response.get_data(as_text=True) != "ok":
            raise AssertionError(f"{path}: {response.status_code} {response.get_data()!r}")

    def batch(path: str, count: int) -> Any:
        def requests() -> None:
            for _ in range(count):
                client.get(path, headers=headers)

        return requests

    rows = []
    for kind, (open_path, protected_path) in {
        "sync": ("/open_sync", "/report"),
        "async": ("/open_async", "/report_async"),
    }.items():
        count = REQUESTS[kind]
        times = interleaved(
            {"open": batch(open_path, count), "protected": batch(protected_path, count)},
            count,
            rounds=2 if quick else ROUNDS[kind],
            warmup=2,
        )
        ratio = times["protected"] / times["open"]
        rows.append(
            Row(
                "3 Flask overhead",
                f"{kind} view: login_check + permission_required vs unprotected",
                f"{ratio:.2f}× ({times['protected'] * 1e6:.0f} vs {times['open'] * 1e6:.0f} µs)",
                f"≤ {TARGET:.2f}×",
                ratio <= TARGET,
            )
        )
    return rows
