"""Cross-site request forgery: unsafe requests authenticated by our cookies must be ours.

Checked: the ``Origin`` header (sent by every current browser on POST, PUT, PATCH and
DELETE, from forms and from ``fetch`` alike), or, when a privacy proxy stripped it, the
origin of ``Referer``. Either must be the app's own origin (the request's host, or the
origin of ``COGNISES_REDIRECT_URI``) or one of ``COGNISES_TRUSTED_ORIGINS``. A request with
neither is refused. Nothing needs adding to a form or a ``fetch`` call: the browser sends
the header itself, and a page of another site cannot forge it.

Chosen over a double-submit token because it needs no change to the app's templates or
scripts; ``SameSite=Lax`` already keeps the cookies off cross-site POSTs in browsers that
honour it, and this check covers same-site attackers (a sibling subdomain) and older
browsers. Requests that carry an ``Authorization`` header are not checked: a browser
never adds one to a cross-site request by itself, so they are not cookie-authenticated.
"""

from __future__ import annotations

from werkzeug.wrappers import Request

from cognises.flask._signin_config import SignInConfig, origin_of

__all__ = ["SAFE_METHODS", "csrf_refusal"]

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})


def csrf_refusal(request: Request, config: SignInConfig) -> str | None:
    """Why this request must be refused as a possible forgery; None when it may go on."""
    if request.method in SAFE_METHODS:
        return None
    if request.headers.get("Authorization"):
        return None
    cookies = request.cookies
    if not (cookies.get(config.token_cookie) or cookies.get(config.refresh_cookie)):
        return None  # no cookie of ours: nothing a forged request could borrow
    allowed = set(config.trusted_origins)
    own = origin_of(request.host_url)
    if own is not None:
        allowed.add(own)
    origin = request.headers.get("Origin")
    if origin is not None:
        if origin_of(origin) in allowed and origin.rstrip("/").lower() == origin_of(origin):
            return None
        return "the Origin header names another site"
    referer = request.headers.get("Referer")
    if referer is not None:
        if origin_of(referer) in allowed:
            return None
        return "the Referer header names another site"
    return "neither an Origin nor a Referer header says where it came from"
