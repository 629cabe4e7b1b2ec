"""Finding the token in a request: the ``Authorization`` header and the seed's cookie, or
(behind an Application Load Balancer) the ALB's ``x-amzn-oidc-data`` header."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from werkzeug.wrappers import Request

try:  # werkzeug's own cookie grammar, so that a quoted header reads exactly as it does
    from werkzeug.sansio.http import _cookie_re, _cookie_unslash_re, _cookie_unslash_replace

    _GRAMMAR: re.Pattern[str] | None = _cookie_re
except ImportError:  # pragma: no cover - another werkzeug: its parse_cookie decides
    _GRAMMAR = None

from cognises.aio._alb_verifier import DATA_HEADER
from cognises.errors import MalformedTokenError

__all__ = ["LOCATIONS", "TokenSource", "cookie_values", "quoted_cookie_values"]

LOCATIONS = frozenset({"header", "cookie", "alb"})
# Characters werkzeug never puts in a cookie's name; a name holding one is never found.
_NOT_IN_NAMES = frozenset(' \t=";')


@dataclass(frozen=True)
class TokenSource:
    """Where tokens are looked for: ``locations`` holds "header" and/or "cookie", or
    "alb" alone (the ALB's data token; its other headers are read by its verifier).

    The header must read ``<scheme> <token>``, the scheme compared case-insensitively
    (RFC 7235). An empty header or cookie counts as absent: logging out often blanks the
    cookie rather than deleting it.
    """

    locations: Sequence[str]
    cookie_name: str
    header_name: str
    scheme: str
    _environ_key: str = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        # Where WSGI puts the header (PEP 3333), as werkzeug's EnvironHeaders looks it up:
        # read from the environ straight away, one dict lookup on every request.
        key = self.header_name.upper().replace("-", "_")
        if key not in ("CONTENT_TYPE", "CONTENT_LENGTH"):
            key = "HTTP_" + key
        object.__setattr__(self, "_environ_key", key)

    def read(self, request: Request) -> str | None:
        """The request's token, or None when it carries none.

        Raises ``MalformedTokenError`` when the request is ambiguous: a header with another
        scheme or extra parts, the header or cookie given twice, or a header and a cookie
        holding different tokens. Guessing which one was meant could let a stale or
        planted credential decide who the user is.
        """
        found: list[str] = []
        if "alb" in self.locations:
            return request.headers.get(DATA_HEADER) or None
        if "header" in self.locations:
            token = self._from_header(request)
            if token is not None:
                found.append(token)
        if "cookie" in self.locations:
            token = self._from_cookie(request)
            if token is not None:
                found.append(token)
        if not found:
            return None
        if any(token != found[0] for token in found):
            raise MalformedTokenError(
                f"expected one token, found different ones in the {self.header_name} header "
                f"and the {self.cookie_name} cookie"
            )
        return found[0]

    def _from_header(self, request: Request) -> str | None:
        # One lookup: WSGI servers join a repeated header into one comma-separated value,
        # which the checks below refuse as extra parts; getlist would scan every header.
        value = request.environ.get(self._environ_key)
        if not isinstance(value, str) or not value.strip():  # WSGI headers are str
            return None
        parts = value.split()
        if parts[0].lower() != self.scheme.lower():
            # Not echoed: whatever the client put there may be a credential of another kind.
            raise MalformedTokenError(
                f"expected the {self.header_name} header to use the {self.scheme} scheme, "
                "found another"
            )
        if len(parts) != 2:
            raise MalformedTokenError(
                f"expected the {self.header_name} header to read '{self.scheme} <token>', "
                f"found {len(parts)} part(s)"
            )
        return parts[1]

    def _from_cookie(self, request: Request) -> str | None:
        header = request.environ.get("HTTP_COOKIE")
        name = self.cookie_name
        # A cookie's name is a plain substring of the header: absent, nothing to parse.
        # The common case for API clients (no header) and for other sites' pages.
        if not header or name not in header:
            return None
        found = cookie_values(header, name)
        if found is None:
            found = quoted_cookie_values(header, name)
        if found is None:
            found = request.cookies.getlist(name)
        values = {v for v in found if v}
        if not values:
            return None
        if len(values) > 1:
            raise MalformedTokenError(
                f"expected one {self.cookie_name} cookie, found {len(values)} different ones"
            )
        return values.pop()


def cookie_values(header: str, name: str) -> list[str] | None:
    """The values of the cookie ``name`` in a ``Cookie`` header, in order, exactly as
    werkzeug's ``parse_cookie`` reads them; None when only werkzeug can say.

    Werkzeug runs a regular expression over every cookie, some 15 µs a kilobyte, and a
    browser sends kilobytes of other sites' and tools' cookies with the token. Without a
    double quote in the header, werkzeug's cookies are the header's ``;``-separated
    pieces, each read on its own (one that does not parse is skipped), so only the pieces
    holding ``name`` need a look, with string methods. A quoted value may hold a ``;``
    and so join pieces: then None, and the caller asks werkzeug. Also None for a name
    werkzeug could never find (empty, or holding a space, tab, ``=``, ``"`` or ``;``).
    """
    if '"' in header or not name or not _NOT_IN_NAMES.isdisjoint(name):
        return None
    values = []
    find = header.find
    end = 0
    # Only the pieces holding the name: found with find, each taken whole between its
    # semicolons. Splitting the header and searching every piece costs several times more.
    while (at := find(name, end)) >= 0:
        start = header.rfind(";", 0, at) + 1
        end = find(";", at)
        if end < 0:
            end = len(header)
        piece = header[start:end].strip(" \t")
        end += 1
        if not piece.startswith(name):
            continue  # another cookie's name or value holds it
        rest = piece[len(name) :].lstrip(" \t")
        if not rest:
            values.append("")  # a name without "=": werkzeug reads an empty value
        elif rest[0] == "=":
            value = rest[1:].lstrip(" \t")
            # A space or tab inside the value: werkzeug skips the whole piece.
            if " " not in value and "\t" not in value:
                values.append(value)
        # Anything else after the name: a longer name, or a piece that does not parse.
    return values


def quoted_cookie_values(header: str, name: str) -> list[str] | None:
    """The values of the cookie ``name`` in any ``Cookie`` header, quoted values
    included, read with werkzeug's own grammar: ``parse_cookie``'s loop, with only the
    cookies named ``name`` unquoted and kept, not every cookie of the header in a
    ``MultiDict``. None when this werkzeug lacks that grammar, or for a name it could
    never find: then only werkzeug can say.
    """
    if _GRAMMAR is None or not name or not _NOT_IN_NAMES.isdisjoint(name):
        return None
    values: list[str] = []
    match = _GRAMMAR.match
    pos = 0
    while True:
        found = match(header, pos)
        if found is None:
            pos = header.find(";", pos) + 1  # what does not parse is skipped, as werkzeug does
            if pos == 0:
                return values
            continue
        key, value = found.groups()
        pos = found.end()
        if key != name:
            continue
        if value is None:
            value = ""
        elif value.startswith('"') and value.endswith('"'):
            value = _cookie_unslash_re.sub(_cookie_unslash_replace, value[1:-1].encode()).decode(
                errors="replace"
            )
        values.append(value)
