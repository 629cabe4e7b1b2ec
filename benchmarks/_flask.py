"""Part 3: what login_check + permission_required add to a Flask request, sync and async.

Each protected view is measured against the same view unprotected, in the same app and the
same test client, with the same headers on every request: the only difference is the
decorators. The token comes as a browser sends it: in a Cookie header among about 2 KB of
other cookies (analytics, consent, a session, preferences), or as an API client does: in
an Authorization header. Caches are warm (keys loaded with ``use_local_issuer``, the
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
TARGET = 1.15


def browser_cookies(token: str, *, quoted: bool = False) -> str:
    """A Cookie header as a browser sends it: the token among about 2 KB of other cookies,
    not first and not last. ``quoted``: one of them a quoted JSON value (as Python's
    http.cookies and werkzeug write one), which makes cognises leave the parsing to
    werkzeug (a quoted value may hold a ";")."""
    others = [
        "_ga=GA1.1.1283920146.1764547200",
        "_ga_X1Y2Z3W4V5=GS1.1.1764547200.3.1.1764549000.0.0.0",
        "_gid=GA1.2.640205918.1764547200",
        "_fbp=fb.1.1764547200123.1234567890123456",
        "OptanonConsent=isGpcEnabled=0&datestamp=Mon+Dec+01+2026&version=202411.1.0"
        "&groups=C0001%3A1%2CC0002%3A1%2CC0003%3A0%2CC0004%3A0&hosts=&landingPath=NotLanding",
        "OptanonAlertBoxClosed=2026-12-01T00:00:00.000Z",
        f"session={'.'.join(['eyJfZnJlc2giOmZhbHNlLCJjc3JmIjoiYWJj' * 6] * 4)}",
        "csrftoken=3f9a1c6e2b7d4f8a9c0e1b2d3f4a5b6c7d8e9f0a1b2c3d4e5f6a7b8c9d0e1f2a",
        'prefs="{\\"theme\\":\\"dark\\",\\"lang\\":\\"en-GB\\",\\"tz\\":\\"Europe/London\\"}"'
        if quoted
        else "prefs=%7B%22theme%22%3A%22dark%22%2C%22lang%22%3A%22en-GB%22%7D",
        f"ajs_anonymous_id={'a1b2c3d4-e5f6-4a7b-8c9d-0e1f2a3b4c5d'}",
        f"intercom-session-abc123={'b2xkX3Nlc3Npb25fdmFsdWVfaGVyZQ' * 5}",
        "_hjSessionUser_123456=eyJpZCI6IjEyMzQ1Njc4LTEyMzQtMTIzNC0xMjM0LTEyMzQ1Njc4OTAxMiJ9",
        f"AWSALB={'Zm9vYmFyYmF6cXV4' * 10}",
        f"AWSALBCORS={'Zm9vYmFyYmF6cXV4' * 10}",
    ]
    return "; ".join([*others[:7], f"token_cookie={token}", *others[7:]])


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
    client = app.test_client(use_cookies=False)  # else it replaces the Cookie header
    token = tokens(1)[0]
    sent = {
        "bearer": {"Authorization": f"Bearer {token}"},
        "cookie": {"Cookie": browser_cookies(token)},
        "quoted cookie": {"Cookie": browser_cookies(token, quoted=True)},
    }
    for headers in sent.values():
        for path in ("/open_sync", "/open_async", "/report", "/report_async"):
            response = client.get(path, headers=headers)
            if response.status_code != 200 or response.get_data(as_text=True) != "ok":
                raise AssertionError(f"{path}: {response.status_code} {response.get_data()!r}")

    def batch(path: str, count: int, headers: dict[str, str]) -> Any:
        def requests() -> None:
            for _ in range(count):
                client.get(path, headers=headers)

        return requests

    rows = []
    for kind, where, (open_path, protected_path) in (
        ("sync", "bearer", ("/open_sync", "/report")),
        ("sync", "cookie", ("/open_sync", "/report")),
        ("sync", "quoted cookie", ("/open_sync", "/report")),
        ("async", "bearer", ("/open_async", "/report_async")),
    ):
        count, headers = REQUESTS[kind], sent[where]
        times = interleaved(
            {
                "open": batch(open_path, count, headers),
                "protected": batch(protected_path, count, headers),
            },
            count,
            rounds=2 if quick else ROUNDS[kind],
            warmup=2,
        )
        ratio = times["protected"] / times["open"]
        how = (
            "Authorization: Bearer"
            if where == "bearer"
            else f"Cookie header of {len(headers['Cookie']):,} bytes, token among 15 cookies"
            + (", one value quoted" if where == "quoted cookie" else "")
        )
        rows.append(
            Row(
                "3 Flask overhead",
                f"{kind} view: login_check + permission_required vs unprotected; {how}",
                f"{ratio:.2f}× ({times['protected'] * 1e6:.0f} vs {times['open'] * 1e6:.0f} µs)",
                f"≤ {TARGET:.2f}×",
                ratio <= TARGET,
            )
        )
    return rows
