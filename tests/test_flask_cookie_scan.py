"""cookie_values: the token cookie found without parsing every cookie, as werkzeug reads it."""

from __future__ import annotations

from typing import Any

import pytest
from flask import jsonify
from flask_support import local_app
from hypothesis import given, settings
from hypothesis import strategies as st
from werkzeug.sansio.http import parse_cookie  # what Request.cookies runs
from werkzeug.test import EnvironBuilder
from werkzeug.wrappers import Request

from cognises.errors import MalformedTokenError
from cognises.flask import login_check
from cognises.flask._token_source import TokenSource, cookie_values, quoted_cookie_values
from cognises.testing import LocalIssuer

NAME = "token_cookie"


def werkzeug_values(header: str, name: str = NAME) -> list[str]:
    return parse_cookie(header).getlist(name)


@pytest.mark.parametrize(
    "header",
    [
        "token_cookie=abc",
        "a=1; token_cookie=abc; b=2",
        "a=1;token_cookie=abc;b=2",
        " \t token_cookie \t = \t abc \t ; b=2",
        "token_cookie=",
        "token_cookie",
        "token_cookie ; b=2",
        "token_cookie=a=b=c",
        "token_cookie=ab cd; b=2",  # a space inside: werkzeug skips the piece
        "token_cookie=ab\tcd",
        "token_cookie x=1",
        "token_cookiex=1; token_cookie=2",
        "xtoken_cookie=1",
        "a=token_cookie=1",
        "a=xtoken_cookie; token_cookie=2",
        "token_cookie=1; token_cookie=2; token_cookie=1",
        "token_cookie=1;;; ;token_cookie=2;",
        "\ntoken_cookie=1",
        "token_cookie=1\n",
        "token_cookie=\u00e9t\u00e9",  # WSGI strings are latin-1: werkzeug keeps them as is
        "token_cookie=a%3Bb",
    ],
)
def test_same_values_as_werkzeug(header):
    assert cookie_values(header, NAME) == werkzeug_values(header)


@pytest.mark.parametrize(
    "header",
    ['a="x;token_cookie=forged"; token_cookie=real', 'token_cookie="abc"', 'x="'],
)
def test_a_quoted_value_leaves_the_parsing_to_werkzeug(header):
    # A quoted value may hold a ";": splitting would find a cookie werkzeug does not.
    assert cookie_values(header, NAME) is None


@pytest.mark.parametrize("name", ["", "a b", "a\tb", "a=b", 'a"b', "a;b"])
def test_a_name_werkzeug_never_finds_is_left_to_werkzeug(name):
    assert cookie_values(f"{name}=1; a=b=1", name) is None


# Headers from the characters that matter to werkzeug's cookie grammar, the name's own
# characters, and pieces of the name, so that near misses come up often.
_PIECES = st.sampled_from(
    [NAME, "token_", "cookie", "=", ";", " ", "\t", "x", "1", "\n", "a=b", "; ", "=;", "é"]
)


@settings(max_examples=600, deadline=None)
@given(st.lists(_PIECES, max_size=14).map("".join))
def test_any_unquoted_header_reads_as_werkzeug_reads_it(header):
    assert cookie_values(header, NAME) == werkzeug_values(header)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from([NAME, "=", ";", '"', "\\", " ", "x"]), max_size=12).map("".join))
def test_any_header_with_a_quote_is_left_to_werkzeug(header):
    found = cookie_values(header, NAME)
    assert found is None if '"' in header else found == werkzeug_values(header)


@pytest.mark.parametrize(
    "header",
    [
        'a="x;token_cookie=forged"; token_cookie=real',
        'token_cookie="abc"',
        'token_cookie="a\\"b"; x=1',
        'token_cookie="\\101\\102"',  # octal escapes, as http.cookies writes them
        'token_cookie="unterminated; token_cookie=2',
        'x="; token_cookie=1',
        'prefs="{\\"theme\\":\\"dark\\"}"; token_cookie=abc; b=2',
        'token_cookie = "a b" ; token_cookie=c',
        'token_cookie="é"',
        '"token_cookie"=1; token_cookie=2',
        "token_cookie",
        "",
    ],
)
def test_a_quoted_header_reads_as_werkzeug_reads_it(header):
    assert quoted_cookie_values(header, NAME) == werkzeug_values(header)


@settings(max_examples=800, deadline=None)
@given(
    st.lists(
        st.sampled_from([NAME, "token_", "=", ";", '"', "\\", "\\1", "\\101", " ", "\t", "x", "é"]),
        max_size=16,
    ).map("".join)
)
def test_any_header_reads_as_werkzeug_reads_it_quotes_and_all(header):
    assert quoted_cookie_values(header, NAME) == werkzeug_values(header)


@pytest.mark.parametrize("name", ["", "a b", 'a"b', "a;b"])
def test_a_name_werkzeug_never_finds_is_left_to_it_when_quoted_too(name):
    assert quoted_cookie_values(f'{name}="1"; a=b', name) is None


def _source_read(header: str) -> str | None:
    source = TokenSource(
        locations=("cookie",), cookie_name=NAME, header_name="Authorization", scheme="Bearer"
    )
    return source.read(Request(EnvironBuilder(headers={"Cookie": header}).get_environ()))


@pytest.mark.parametrize(
    ("header", "token"),
    [
        ("a=1; token_cookie=abc; b=2", "abc"),
        ('p="x;token_cookie=forged"; token_cookie=real', "real"),  # through werkzeug
        ("token_cookie=; a=1", None),
        ("a=1; b=2", None),
        ("xtoken_cookie=1", None),
        ("token_cookie=1; token_cookie=1", "1"),
    ],
)
def test_the_token_source_reads_the_cookie_werkzeug_reads(header, token):
    assert _source_read(header) == token


@pytest.mark.parametrize(
    "header", ["token_cookie=1; token_cookie=2", 'q="\\""; token_cookie=1; token_cookie=2']
)
def test_two_different_token_cookies_are_refused_on_either_path(header):
    with pytest.raises(MalformedTokenError, match="found 2 different ones"):
        _source_read(header)


def test_a_browser_cookie_header_with_the_token_passes_the_guard():
    issuer = LocalIssuer()
    app = local_app(issuer, "cookies")

    @app.get("/me")
    @login_check(pass_response=False)
    def me() -> Any:
        return jsonify(ok=True)

    token = issuer.token()
    header = f"_ga=GA1.1.1; session=abc.def; {NAME}={token}; csrftoken=x; AWSALB=y=="
    client = app.test_client(use_cookies=False)
    assert client.get("/me", headers={"Cookie": header}).status_code == 200
    near_misses = f"_ga=1; x{NAME}={token}; a={NAME}={token}; {NAME} x={token}"
    assert client.get("/me", headers={"Cookie": near_misses}).status_code == 401
