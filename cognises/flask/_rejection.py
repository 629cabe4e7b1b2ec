"""Why a request was turned away, and the HTTP answer for it (RFC 6750).

The bodies keep the seed's messages, now with a real status code. The default answers are
werkzeug HTTP exceptions, so an app's own ``errorhandler(401)`` (or 403, 503, or
``HTTPException``) sees them; the exception's ``rejection`` attribute says why. When no
handler of the app could see one, the same answer is returned without raising it.
"""

from __future__ import annotations

import functools
import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, TypeAlias

from werkzeug.exceptions import Forbidden, HTTPException, ServiceUnavailable, Unauthorized
from werkzeug.sansio.response import Response as SansIOResponse

from cognises.errors import CognisesError

__all__ = ["Reason", "Rejection", "RejectionHTTPException"]

Reason: TypeAlias = Literal["missing", "invalid", "expired", "forbidden", "unavailable"]

_STATUS: dict[Reason, int] = {
    "missing": 401,
    "invalid": 401,
    "expired": 401,
    "forbidden": 403,
    "unavailable": 503,
}
_MESSAGE: dict[Reason, str] = {
    "missing": "token is missing",
    "invalid": "token is invalid",
    "expired": "token has expired",
    "forbidden": "Forbidden access",
    "unavailable": "token cannot be verified now, try again later",
}
# Rendered once: the same few bodies answer every rejected request.
_BODY: dict[Reason, str] = {
    reason: json.dumps({"message": message, "status": _STATUS[reason]})
    for reason, message in _MESSAGE.items()
}


@dataclass(frozen=True)
class Rejection:
    """A request that a protected view will not serve, and the answer due.

    ``reason``: "missing", "invalid", "expired" (401), "forbidden" (403) or
    "unavailable" (503: the pool's keys could not be had). ``message`` and ``status`` make
    the JSON body; ``headers`` holds ``WWW-Authenticate`` or ``Retry-After``. ``error`` is
    the cognises error behind it (None when the token was simply missing); its message
    never contains the token.
    """

    reason: Reason
    headers: Mapping[str, str] = field(default_factory=dict)
    error: CognisesError | None = None

    @property
    def status(self) -> int:
        return _STATUS[self.reason]

    @property
    def message(self) -> str:
        return _MESSAGE[self.reason]

    def body(self) -> dict[str, Any]:
        """The JSON body of the default answer."""
        return {"message": self.message, "status": self.status}

    def to_exception(self) -> RejectionHTTPException:
        """The default answer as a werkzeug HTTP exception, ready to raise."""
        return self.exception_class(self)

    @property
    def exception_class(self) -> type[RejectionHTTPException]:
        """The class of ``to_exception()``: what an app's error handlers are matched on."""
        return _EXCEPTION[self.status]

    def rendered(self) -> tuple[str, int, list[tuple[str, str]]]:
        """The default answer's body, status and headers: ``to_exception().get_response()``
        without making the exception."""
        headers = [("Content-Type", "application/json"), *self.headers.items()]
        return _BODY[self.reason], self.status, headers

    @classmethod
    def missing(cls, *, realm: str) -> Rejection:
        return cls("missing", {"WWW-Authenticate": _challenge(realm)})

    @classmethod
    def bad_token(cls, error: CognisesError, *, realm: str, expired: bool) -> Rejection:
        reason: Reason = "expired" if expired else "invalid"
        challenge = _challenge(realm, "invalid_token", _MESSAGE[reason])
        return cls(reason, {"WWW-Authenticate": challenge}, error)

    @classmethod
    def forbidden(cls, error: CognisesError, *, realm: str, scope: str | None = None) -> Rejection:
        """``scope``: the scopes the view needs, space-separated (RFC 6750, section 3)."""
        challenge = _challenge(realm, "insufficient_scope", _MESSAGE["forbidden"], scope)
        return cls("forbidden", {"WWW-Authenticate": challenge}, error)

    @classmethod
    def unavailable(cls, error: CognisesError, *, retry_after: float) -> Rejection:
        # Whole seconds (RFC 9110), and never 0: a client told 0 would retry at once.
        seconds = max(1, math.ceil(retry_after))
        return cls("unavailable", {"Retry-After": str(seconds)}, error)


# A handful of realms, reasons and scopes per app: each challenge is built once.
@functools.lru_cache(maxsize=256)
def _challenge(
    realm: str,
    error: str | None = None,
    description: str | None = None,
    scope: str | None = None,
) -> str:
    params = [("realm", realm)]
    if error is not None:
        params.append(("error", error))
    if description is not None:
        params.append(("error_description", description))
    if scope is not None:
        params.append(("scope", scope))
    return "Bearer " + ", ".join(f'{name}="{_quote(value)}"' for name, value in params)


def _quote(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"')


class RejectionHTTPException(HTTPException):
    """The default answer to a rejected request: JSON body, RFC 6750 headers."""

    def __init__(self, rejection: Rejection, response: SansIOResponse | None = None) -> None:
        super().__init__(rejection.message, response)
        self.rejection = rejection

    def get_body(self, environ: Any | None = None, scope: dict[str, Any] | None = None) -> str:
        return self.rejection.rendered()[0]

    def get_headers(
        self, environ: Any | None = None, scope: dict[str, Any] | None = None
    ) -> list[tuple[str, str]]:
        return self.rejection.rendered()[2]


# Subclassing werkzeug's own classes keeps errorhandler(Unauthorized) and friends working.
class _Unauthorized(RejectionHTTPException, Unauthorized):
    pass


class _Forbidden(RejectionHTTPException, Forbidden):
    pass


class _ServiceUnavailable(RejectionHTTPException, ServiceUnavailable):
    pass


_EXCEPTION: dict[int, type[RejectionHTTPException]] = {
    401: _Unauthorized,
    403: _Forbidden,
    503: _ServiceUnavailable,
}
