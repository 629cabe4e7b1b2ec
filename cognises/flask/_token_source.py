"""Finding the token in a request: the ``Authorization`` header and the seed's cookie, or
(behind an Application Load Balancer) the ALB's ``x-amzn-oidc-data`` header."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from werkzeug.wrappers import Request

from cognises.aio._alb_verifier import DATA_HEADER
from cognises.errors import MalformedTokenError

__all__ = ["LOCATIONS", "TokenSource"]

LOCATIONS = frozenset({"header", "cookie", "alb"})


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
        value = request.headers.get(self.header_name)
        if value is None or not value.strip():
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
        if not request.environ.get("HTTP_COOKIE"):
            return None  # nothing to parse: the common case for API clients
        values = {v for v in request.cookies.getlist(self.cookie_name) if v}
        if not values:
            return None
        if len(values) > 1:
            raise MalformedTokenError(
                f"expected one {self.cookie_name} cookie, found {len(values)} different ones"
            )
        return values.pop()
