"""The small HTML pages the sign-in views answer with when they cannot sign a user in."""

from __future__ import annotations

from markupsafe import escape
from werkzeug.wrappers import Response

__all__ = ["MAX_SHOWN", "error_page", "no_store"]

MAX_SHOWN = 200
"""Characters shown of anything the authorization server or the browser sent."""

_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{title}</title></head>
<body><h1>{title}</h1><p>{detail}</p><p><a href="{again}">Sign in again</a></p></body></html>
"""


def error_page(status: int, title: str, detail: str, *, again: str) -> Response:
    """An HTML page saying what went wrong; nothing in it is trusted or cached."""
    body = _PAGE.format(title=escape(title), detail=escape(detail[:MAX_SHOWN]), again=escape(again))
    response = Response(body, status=status, content_type="text/html; charset=utf-8")
    return no_store(response)


def no_store(response: Response) -> Response:
    # Answers that set or clear credentials must never come back from a cache.
    response.headers["Cache-Control"] = "no-store"
    response.headers["Pragma"] = "no-cache"
    return response
