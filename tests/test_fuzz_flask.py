"""Fuzzing the Flask decorators: whatever the credentials, 401 or 403, and the view not called.

Every request here is one that must be refused: a mutated or random token, a header with
an odd scheme or two tokens, a valid token next to a different one, credentials of 64 KiB,
non-ASCII bytes. The answer must be 401 (or 403 for a valid token without the group),
never a 500 and never a 200, and the view must never run. Sync and async views alike.

The app trusts a ``LocalIssuer``; its JWKS cache has a frozen clock, so an unknown kid is
refused at once and never fetched, and the tests check that no fetch was made.
"""

from __future__ import annotations

import json
import logging
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from flask import Flask, jsonify
from flask.testing import FlaskClient
from flask_support import serve
from fuzz_support import (
    HEADER_NESTING_PLACES,
    LOOKALIKES,
    NEST_SHAPES,
    PARSER_DEPTH,
    mutated_tokens,
    nested,
    nested_header,
    object_with,
    recursion_headroom,
    sign_raw,
)
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from jwks_server import JWKSServer, Reply
from werkzeug.sansio.http import parse_cookie

from cognises.aio import JWKSCache
from cognises.flask import login_check, permission_required
from cognises.testing import LocalIssuer, use_local_issuer
from cognises.testing._issuer import b64url

JWKS_URL = "http://127.0.0.1:9/flask-fuzz/.well-known/jwks.json"
METHODS = ["GET", "POST", "PUT", "DELETE", "PATCH", "HEAD"]
VIEWS = ["/sync", "/async", "/sync-admin", "/async-admin", "/sync-report", "/async-report"]
SYNC_VIEWS = [view for view in VIEWS if view.startswith("/sync")]
GROUP_VIEWS = ["/sync-admin", "/async-admin", "/sync-report", "/async-report"]
# The seed's format: "admins" may see the report; nobody else may.
GROUP_DOCUMENT = [
    {
        "group_name": name,
        "group_policy": {
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}],
        },
        "created": "true",
        "allowed_functions": functions,
    }
    for name, functions in [("admins", ["report"]), ("viewers", ["read"]), ("*", ["read"])]
]
MESSAGES_401 = {"token is missing", "token is invalid", "token has expired"}
# Frames allowed beyond the test's own under a low recursion limit: enough for Flask,
# werkzeug and the test client to reach the view; anything recursing once per level of a
# value runs out far before orjson's 1024.
HEADROOM = 200
KiB = 1024

_FUZZ = settings(
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


def fuzz(examples: int) -> settings:
    return settings(_FUZZ, max_examples=examples)


class Calls:
    """Every call any view received; thread-safe (async views run on other threads)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.views: list[str] = []

    def record(self, name: str) -> None:
        with self._lock:
            self.views.append(name)

    def count(self) -> int:
        with self._lock:
            return len(self.views)


class KeptRecords(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


@pytest.fixture(scope="module")
def issuer() -> LocalIssuer:
    return LocalIssuer(
        region="eu-west-2", user_pool_id="eu-west-2_FlaskFuzz1", client_id="fuzzwebapp"
    )


@pytest.fixture(scope="module")
def wrong_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture(scope="module")
def calls() -> Calls:
    return Calls()


@pytest.fixture(scope="module")
def cache() -> JWKSCache:
    return JWKSCache(clock=lambda: 0.0)  # frozen: an unknown kid never starts a fetch


@pytest.fixture(scope="module")
def app(issuer: LocalIssuer, calls: Calls, cache: JWKSCache) -> Iterator[Flask]:
    app = Flask(__name__)
    app.config.update(
        TESTING=True,
        COGNISES_REGION=issuer.region,
        COGNISES_USER_POOL_ID=issuer.user_pool_id,
        COGNISES_CLIENT_IDS=[issuer.client_id],
        COGNISES_JWKS_URL=JWKS_URL,
        COGNISES_JWKS_CACHE=cache,
    )

    def sync_view(response: dict[str, Any]) -> Any:
        calls.record("sync")
        return jsonify(user=response["claims"]["sub"])

    async def async_view(response: dict[str, Any]) -> Any:
        calls.record("async")
        return jsonify(user=response["claims"]["sub"])

    def report(response: dict[str, Any]) -> Any:
        calls.record("sync report")
        return jsonify(user=response["claims"]["sub"])

    async def async_report(response: dict[str, Any]) -> Any:
        calls.record("async report")
        return jsonify(user=response["claims"]["sub"])

    async_report.__name__ = "report"  # the seed form's permission is the view's name

    for path, view, rule in [
        ("/sync", sync_view, None),
        ("/async", async_view, None),
        ("/sync-admin", sync_view, permission_required(groups=["admins"])),
        ("/async-admin", async_view, permission_required(groups=["admins"])),
        ("/sync-report", report, permission_required(GROUP_DOCUMENT)),
        ("/async-report", async_report, permission_required(GROUP_DOCUMENT)),
    ]:
        wrapped: Any = view if rule is None else rule(view)
        wrapped = login_check()(wrapped)
        app.add_url_rule(path, endpoint=path, view_func=wrapped, methods=METHODS)
    use_local_issuer(app, issuer)
    logs = KeptRecords()
    logging.getLogger("cognises").addHandler(logs)
    app.extensions["fuzz-logs"] = logs
    try:
        yield app
    finally:
        logging.getLogger("cognises").removeHandler(logs)
    # The frozen clock kept every unknown kid away from the network.
    assert cache.fetch_count(JWKS_URL) == 0


@pytest.fixture(scope="module")
def client(app: Flask) -> FlaskClient:
    return app.test_client(use_cookies=False)


@pytest.fixture(scope="module")
def token(issuer: LocalIssuer) -> str:
    return issuer.token(groups=["admins"], username="root")


def wire(value: str | bytes) -> str:
    """What a WSGI app sees for ``value`` sent as raw bytes: each byte as one character."""
    raw = value if isinstance(value, bytes) else value.encode("utf-8", "surrogatepass")
    return raw.decode("latin-1")


def refused(
    client: FlaskClient,
    calls: Calls,
    path: str,
    *,
    method: str = "GET",
    headers: Any = None,
    expected: int = 401,
) -> str | None:
    """Send the request; assert it was refused with ``expected`` and the view not called.

    Returns the JSON message (None for HEAD, which has no body).
    """
    before = calls.count()
    response = client.open(path, method=method, headers=headers)
    assert response.status_code == expected, (response.status_code, response.data[:200])
    assert calls.count() == before, "a refused request reached the view"
    if method == "HEAD":
        return None
    body = response.get_json()
    assert body["status"] == expected
    assert body["message"] in (MESSAGES_401 if expected == 401 else {"Forbidden access"})
    if expected == 401:
        assert response.headers["WWW-Authenticate"].startswith("Bearer realm=")
    return str(body["message"])


# --------------------------------------------------------------------------- controls


def test_a_valid_token_reaches_every_view_once(client, calls, token):
    # The control: the harness can tell a pass from a refusal.
    for path in VIEWS:
        before = calls.count()
        response = client.get(path, headers={"Authorization": f"Bearer {token}"})
        assert response.status_code == 200
        assert calls.count() == before + 1


def test_a_valid_token_without_the_group_is_403_on_group_views(client, calls, issuer):
    outsider = issuer.token(groups=["viewers"])
    for path in GROUP_VIEWS:
        for method in METHODS:
            headers = {"Authorization": f"Bearer {outsider}"}
            refused(client, calls, path, method=method, headers=headers, expected=403)


# --------------------------------------------------------------------------- the fuzz

SCHEMES = ["Bearer", "bearer", "BEARER", "Basic", "Token", "JWT", "Bearer:", "", "Bearer Bearer"]
SEPARATORS = [" ", "  ", "\t", ", ", "=", ""]
SUFFIXES = ["", " ", ",", ";", " extra", ", Bearer x", "\t"]


@pytest.fixture(scope="module")
def hostile(issuer: LocalIssuer, wrong_key: rsa.RSAPrivateKey) -> Hostile:
    # Made once: a strategy must draw the same way from the same choices.
    return Hostile(
        issuer, wrong_key, issuer.claims(groups=["admins"]), issuer.token(username="mallory")
    )


@dataclass(frozen=True)
class Hostile:
    issuer: LocalIssuer
    wrong_key: rsa.RSAPrivateKey
    claims: dict[str, Any]
    other_token: str


def bad_tokens(token: str, hostile: Hostile) -> st.SearchStrategy[str]:
    """Never a valid token: a mutation of one, random text, or look-alike garbage."""
    mutated = mutated_tokens(token, hostile.issuer, hostile.claims, hostile.wrong_key)
    return st.one_of(
        mutated.map(wire),
        st.text(max_size=200).map(wire),
        st.text(alphabet="".join(LOOKALIKES) + ".", min_size=1, max_size=60).map(wire),
    ).filter(
        # Whitespace around a token is no change in a header: the token itself is sent.
        lambda t: "\r" not in t and "\n" not in t and token not in t.split()
    )


@st.composite
def bad_requests(draw: st.DrawFn, token: str, hostile: Hostile) -> list[tuple[str, str]]:
    """Headers carrying bad credentials: in the Authorization header, a cookie, or both."""
    bad = bad_tokens(token, hostile)
    headers: list[tuple[str, str]] = []
    where = draw(st.sampled_from(["header", "cookie", "both", "headers", "cookies"]))
    if where in ("header", "both", "headers"):
        for _ in range(2 if where == "headers" else 1):
            scheme = draw(st.sampled_from(SCHEMES))
            separator = draw(st.sampled_from(SEPARATORS))
            suffix = draw(st.sampled_from(SUFFIXES))
            headers.append(("Authorization", f"{scheme}{separator}{draw(bad)}{suffix}"))
    if where in ("cookie", "both", "cookies"):
        values = [draw(bad) for _ in range(2 if where == "cookies" else 1)]
        cookie = "; ".join(f"token_cookie={v}" for v in values)
        headers.append(("Cookie", draw(st.sampled_from(["", "a=b; "])) + cookie))
    return headers


@fuzz(120)
@given(data=st.data())
def test_bad_credentials_get_401_on_every_view(client, calls, token, hostile, data):
    headers = data.draw(bad_requests(token, hostile), label="headers")
    method = data.draw(st.sampled_from(METHODS), label="method")
    # With little stack left, as Python 3.10 and 3.11 have for a deep repr.
    with recursion_headroom(HEADROOM):
        for path in VIEWS:
            refused(client, calls, path, method=method, headers=headers)


@st.composite
def two_credentials(draw: st.DrawFn, token: str, hostile: Hostile) -> list[tuple[str, str]]:
    """The valid token next to a different credential: another user's valid token, or a
    bad one. Which one was meant is anybody's guess, so neither may be used."""
    other = draw(
        st.sampled_from([hostile.other_token, token[:-4] + "AAAA"])
        | bad_tokens(token, hostile).filter(lambda t: t.strip() and t != token)
    )
    first, second = draw(st.permutations([token, other]))
    shapes = ["two headers", "comma list", "two parts"]
    # (Parsed the way werkzeug's Request parses it.)
    if parse_cookie(f"token_cookie={other}").getlist("token_cookie") == [other]:
        # Only a cookie the server reads is a second credential: werkzeug drops a value
        # with spaces or quotes as if it were not there.
        shapes += ["header and cookie", "two cookies"]
    shape = draw(st.sampled_from(shapes))
    if shape == "two headers":
        return [("Authorization", f"Bearer {first}"), ("Authorization", f"Bearer {second}")]
    if shape == "header and cookie":
        return [("Authorization", f"Bearer {first}"), ("Cookie", f"token_cookie={second}")]
    if shape == "two cookies":
        return [("Cookie", f"token_cookie={first}; token_cookie={second}")]
    if shape == "comma list":
        return [("Authorization", f"Bearer {first}, Bearer {second}")]
    return [("Authorization", f"Bearer {first} {second}")]


@fuzz(80)
@given(data=st.data())
def test_a_valid_token_next_to_another_credential_gets_401(client, calls, token, hostile, data):
    headers = data.draw(two_credentials(token, hostile), label="headers")
    for path in VIEWS:
        refused(client, calls, path, headers=headers)


def test_nothing_the_fuzz_sent_was_logged_above_debug(app, token):
    messages = app.extensions["fuzz-logs"].messages
    _, payload, signature = token.split(".")
    assert not any(payload[:24] in m or signature[:24] in m for m in messages)


# --------------------------------------------------------------------------- group names


def near_admins() -> st.SearchStrategy[str]:
    """Group names that look like, contain or are contained in "admins", but are not it."""
    variants = [
        "Admins",
        "ADMINS",
        "admin",
        "adminss",
        "admins ",
        " admins",
        "admins\t",
        "admins\x00",
        "admins,viewers",
        "admins viewers",
        "[admins]",
        '"admins"',
        "*",
        "",
        "us-east-1_Pool/admins",
        "\u0430dmins",  # Cyrillic a
        "\uff41dmins",  # fullwidth a
        "admin\u0455",  # Cyrillic dze, looks like s
        "adm\u0131ns",  # dotless i
        "admins\u200b",  # zero-width space
        "a\u0308dmins",  # combining diaeresis
    ]
    return st.sampled_from(variants) | st.text(max_size=12)


@fuzz(100)
@given(groups=st.lists(near_admins(), max_size=5).filter(lambda g: "admins" not in g))
def test_group_names_that_only_resemble_the_allowed_one_get_403(client, calls, issuer, groups):
    token = issuer.token(groups=groups)
    for path in GROUP_VIEWS:
        headers = {"Authorization": f"Bearer {token}"}
        refused(client, calls, path, headers=headers, expected=403)


@pytest.mark.parametrize(
    "groups",
    ["admins", "xadminsx", ["admins", 1], [["admins"]], {"admins": True}, None, 7],
    ids=repr,
)
def test_a_groups_claim_that_is_not_a_list_of_strings_never_passes(client, calls, issuer, groups):
    # A string must not be searched for a substring, nor a list's items taken apart.
    token = issuer.sign(issuer.claims(extra={"cognito:groups": groups}))
    for path in VIEWS:
        refused(client, calls, path, headers={"Authorization": f"Bearer {token}"})


# --------------------------------------------------------------------------- substitution


def test_a_token_accepted_by_one_view_is_refused_by_views_for_other_clients_or_uses(issuer):
    # Each view has its own verifier and result cache; a token one of them accepted (and
    # remembered) must not get into a view for another app client or token type.
    other_pool = LocalIssuer(
        region=issuer.region, user_pool_id="eu-west-2_OtherPool", client_id="a"
    )
    app = Flask(__name__)
    app.config.update(TESTING=True, COGNISES_JWKS_CACHE=JWKSCache(clock=lambda: 0.0))
    served: list[str] = []
    pool = (issuer.region, issuer.user_pool_id)
    rules = {
        "/id-a": login_check(*pool, client_ids="a", token_use="id", jwks_url=JWKS_URL),
        "/access-a": login_check(*pool, client_ids="a", token_use="access", jwks_url=JWKS_URL),
        "/id-b": login_check(*pool, client_ids="b", token_use="id", jwks_url=JWKS_URL),
    }
    for path, rule in rules.items():

        def view(response: dict[str, Any], path: str = path) -> str:
            served.append(path)
            return "ok"

        app.add_url_rule(path, endpoint=path, view_func=rule(view))
    use_local_issuer(app, issuer)
    use_local_issuer(app, other_pool)
    tokens = {
        "/id-a": issuer.token(client_id="a"),
        "/access-a": issuer.token(client_id="a", token_use="access"),
        "/id-b": issuer.token(client_id="b"),
    }
    client = app.test_client()
    for _ in range(2):  # the second round meets warm result caches
        for path, token in tokens.items():
            assert client.get(path, headers={"Authorization": f"Bearer {token}"}).status_code == 200
    assert len(served) == 6
    for path in rules:
        for owner, token in [*tokens.items(), ("other pool", other_pool.token())]:
            if owner == path:
                continue
            response = client.get(path, headers={"Authorization": f"Bearer {token}"})
            assert response.status_code == 401, (owner, path)
            assert response.get_json()["message"] == "token is invalid"
    assert len(served) == 6


# --------------------------------------------------------------------------- size and bytes


@pytest.mark.parametrize(
    "headers",
    [
        pytest.param(lambda t: {"Authorization": "Bearer " + "A" * (64 * KiB)}, id="64k-header"),
        pytest.param(lambda t: {"Authorization": "Bearer " + "A" * (1024 * KiB)}, id="1m-header"),
        pytest.param(
            lambda t: {"Authorization": "Bearer " + t + "A" * (64 * KiB)}, id="64k-valid-prefix"
        ),
        pytest.param(
            lambda t: {"Authorization": "Bearer " + ".".join(["A" * 22 * KiB] * 3)},
            id="64k-three-segments",
        ),
        pytest.param(lambda t: {"Authorization": "Bearer" + " " * (64 * KiB)}, id="64k-spaces"),
        pytest.param(
            lambda t: {"Authorization": f"Bearer {t}" + " x" * (32 * KiB)}, id="64k-of-parts"
        ),
        pytest.param(lambda t: {"Cookie": "token_cookie=" + "A" * (64 * KiB)}, id="64k-cookie"),
        pytest.param(
            lambda t: {"Cookie": "; ".join(f"c{i}=v" for i in range(8 * KiB)) + f"; x={t}"},
            id="8k-cookies",
        ),
        pytest.param(
            lambda t: {"Cookie": "; ".join(["token_cookie=A"] * (8 * KiB))}, id="8k-same-cookie"
        ),
        pytest.param(
            lambda t: [("Authorization", f"Bearer {t}")] * 1000, id="1000-authorization-headers"
        ),
    ],
)
def test_huge_headers_and_cookies_get_401(client, calls, token, headers):
    for path in VIEWS:
        refused(client, calls, path, headers=headers(token))


@pytest.mark.parametrize(
    "raw",
    [
        pytest.param(b"\xff\xfe\xfd", id="high-bytes"),
        pytest.param(b"\xc3\xa9\xc3\xa8", id="utf8-accents"),
        pytest.param("еуJ".encode(), id="cyrillic-lookalikes"),  # noqa: RUF001
        pytest.param(b"\x00\x01\x7f", id="control-bytes"),
        pytest.param(b"\xef\xbc\xa1" * 100, id="fullwidth-A"),
    ],
)
@pytest.mark.parametrize("where", ["header", "cookie", "token"])
def test_non_ascii_bytes_get_401(client, calls, token, raw, where):
    value = wire(raw)
    if where == "header":
        headers = {"Authorization": f"Bearer {value}"}
    elif where == "cookie":
        headers = {"Cookie": f"token_cookie={value}"}
    else:  # inside an otherwise valid token
        middle = len(token) // 2
        headers = {"Authorization": f"Bearer {token[:middle]}{value}{token[middle:]}"}
    for path in VIEWS:
        refused(client, calls, path, headers=headers)


# --------------------------------------------------------------------------- over real HTTP


def _raw_request(base: str, path: str, header_lines: list[bytes]) -> int:
    """Send a GET with exactly these header bytes; return the status code."""
    host, port = base.removeprefix("http://").split(":")
    request = b"\r\n".join(
        [f"GET {path} HTTP/1.1".encode(), f"Host: {host}".encode(), *header_lines]
    )
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        sock.sendall(request + b"\r\nConnection: close\r\n\r\n")
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
    status_line = answer.split(b"\r\n", 1)[0]
    return int(status_line.split()[1])


RAW_HEADERS = [
    pytest.param([b"Authorization: Bearer \xff\xfe\x80abc"], 401, id="high-bytes"),
    pytest.param(["Authorization: Bearer еуJhbGciOi".encode()], 401, id="utf8-lookalikes"),  # noqa: RUF001
    pytest.param([b"Cookie: token_cookie=\xc3\xa9\xff"], 401, id="cookie-high-bytes"),
    pytest.param([b"Authorization: \xe2\x80\x8bBearer abc"], 401, id="zero-width-space"),
    pytest.param([b"Authorization: Bearer " + b"A" * (60 * KiB)], 401, id="60k-header"),
    pytest.param([b"Cookie: token_cookie=" + b"A" * (60 * KiB)], 401, id="60k-cookie"),
    pytest.param([b"Authorization: Bearer a", b"Authorization: Bearer b"], 401, id="two-headers"),
    pytest.param([b"Authorization:Bearer\tabc\t"], 401, id="tabs"),
    # Past the HTTP server's own 64 KiB line limit: refused before the app (431).
    pytest.param([b"Authorization: Bearer " + b"A" * (64 * KiB)], 431, id="64k-header"),
]


@pytest.fixture(scope="module")
def base_url(app: Flask) -> Iterator[str]:
    with serve(app) as base:
        yield base


@pytest.mark.parametrize(("lines", "status"), RAW_HEADERS)
def test_raw_bytes_over_http_never_reach_the_view_or_crash(base_url, calls, lines, status):
    before = calls.count()
    for path in VIEWS:
        assert _raw_request(base_url, path, lines) == status
    assert calls.count() == before


# --------------------------------------------------------------------------- deep nesting


@pytest.fixture
def no_error_logs(caplog: pytest.LogCaptureFixture) -> Iterator[None]:
    """Fail if anything logged at ERROR or above (Flask logs each 500 there, traceback and
    all), or logged a traceback at any level."""
    caplog.set_level(logging.DEBUG)
    yield
    bad = [r for r in caplog.records if r.levelno >= logging.ERROR or r.exc_info]
    assert bad == [], [r.getMessage()[:200] for r in bad]


def _deep_requests(issuer: LocalIssuer, token: str) -> Iterator[tuple[str, dict[str, str]]]:
    """Two requests at every depth up to just past the parser's: nesting in alg (the
    reported case), and in another place of the header, each place in turn. Shape, view,
    and header or cookie take turns too. Async views (a new thread and event loop per
    request) get every eighth depth and the last ones. (tests/test_fuzz_tokens.py runs
    every place at every depth against the verifier itself.)"""
    _, payload, signature = token.split(".")
    others = [place for place in HEADER_NESTING_PLACES if place != "alg"]
    for depth in range(1, PARSER_DEPTH + 2):
        for place in ("alg", others[depth % len(others)]):
            shape = NEST_SHAPES[depth % len(NEST_SHAPES)]
            header = b64url(nested_header(issuer.kid, place, depth, shape))
            candidate = f"{header}.{payload}.{signature}"
            where = (
                {"Authorization": f"Bearer {candidate}"}
                if depth % 2
                else {"Cookie": f"token_cookie={candidate}"}
            )
            views = VIEWS if depth % 8 == 0 or depth >= PARSER_DEPTH - 2 else SYNC_VIEWS
            yield views[depth % len(views)], where


def test_headers_nesting_at_any_depth_get_401_under_a_low_recursion_limit(
    client, calls, issuer, token, no_error_logs
):
    count = 0
    with recursion_headroom(HEADROOM):
        for path, headers in _deep_requests(issuer, token):
            refused(client, calls, path, headers=headers)
            count += 1
    assert count == 2 * (PARSER_DEPTH + 1)


@pytest.mark.parametrize("depth", [1, 9, 100, 500, 1000, PARSER_DEPTH - 1, PARSER_DEPTH])
def test_claims_nesting_at_any_depth_get_401_or_their_view_under_a_low_recursion_limit(
    client, calls, issuer, depth, no_error_logs
):
    # Signed by the pool itself: the claim checks see them, and a claim nobody checks
    # reaches the view, whose response dict holds a copy of every claim.
    claims = issuer.claims(groups=["admins"])
    header = b'{"alg":"RS256","kid":"%s"}' % issuer.kid.encode()
    with recursion_headroom(HEADROOM):
        for index, name in enumerate(["iss", "aud", "token_use", "cognito:groups", "custom:x"]):
            shape = NEST_SHAPES[index % len(NEST_SHAPES)]
            candidate = sign_raw(
                header, object_with(claims, name, nested(depth, shape)), key(issuer)
            )
            for path in ("/sync", "/async-admin"):
                headers = {"Authorization": f"Bearer {candidate}"}
                if name == "custom:x" and depth < PARSER_DEPTH:
                    before = calls.count()
                    assert client.get(path, headers=headers).status_code == 200
                    assert calls.count() == before + 1
                else:
                    refused(client, calls, path, headers=headers)


def key(issuer: LocalIssuer) -> rsa.RSAPrivateKey:
    return issuer.keys[issuer.kid]


def test_nesting_over_http_never_crashes_under_a_low_recursion_limit(
    base_url, calls, issuer, token, no_error_logs
):
    # Through a real server thread, where a 500 would be logged rather than raised.
    before = calls.count()
    requests = list(_deep_requests(issuer, token))[::29]
    with recursion_headroom(HEADROOM):
        for path, headers in requests:
            lines = [f"{name}: {value}".encode() for name, value in headers.items()]
            assert _raw_request(base_url, path, lines) == 401
    assert calls.count() == before
    assert len(requests) > 60


# The deepest a field of a key can nest: the document, "keys" and the entry hold it.
@pytest.mark.parametrize("depth", [1, 9, 1000, PARSER_DEPTH - 3])
def test_a_fetched_key_set_with_a_nested_key_keeps_serving_the_others(issuer, depth, no_error_logs):
    # Fetched over HTTP as in production: one entry nests deep in each field, the pool's
    # own key comes last. Requests with the pool's token pass; none gets 503.
    good = issuer.jwks()["keys"][0]
    bad = [
        object_with({**good, "kid": f"nested-{field}"}, field, nested(depth, shape)).decode()
        for field in ("kid", "kty", "use", "alg", "n", "e")
        for shape in NEST_SHAPES
    ]
    body = ('{"keys":[' + ",".join([*bad, nested(depth)]) + "," + json.dumps(good) + "]}").encode()
    app = Flask(__name__)
    app.config.update(
        TESTING=True,
        COGNISES_REGION=issuer.region,
        COGNISES_USER_POOL_ID=issuer.user_pool_id,
        COGNISES_CLIENT_IDS=[issuer.client_id],
        COGNISES_JWKS_CACHE=JWKSCache(),
    )

    @app.get("/sync")
    @login_check()
    def sync_view(response: dict[str, Any]) -> Any:
        return jsonify(user=response["claims"]["sub"])

    @app.get("/async")
    @login_check()
    async def async_view(response: dict[str, Any]) -> Any:
        return jsonify(user=response["claims"]["sub"])

    with JWKSServer() as server, recursion_headroom(HEADROOM):
        server.reply = Reply(body=body)
        app.config["COGNISES_JWKS_URL"] = server.url()
        client = app.test_client(use_cookies=False)
        for path in ("/sync", "/async"):
            assert (
                client.get(path, headers={"Authorization": f"Bearer {issuer.token()}"}).status_code
                == 200
            )
            unknown = issuer.sign(
                issuer.claims(), header={"alg": "RS256", "kid": "nested-n"}, key=key(issuer)
            )
            assert (
                client.get(path, headers={"Authorization": f"Bearer {unknown}"}).status_code == 401
            )
