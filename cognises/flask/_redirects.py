"""Where a visitor may be sent back to after signing in: a path of this site, nothing else."""

from __future__ import annotations

__all__ = ["MAX_NEXT", "safe_next"]

MAX_NEXT = 2048


def safe_next(value: object, default: str = "/") -> str:
    """``value`` when it is a same-origin path (``/a/b?c=d``); else ``default``.

    Refused: absolute URLs (``https://evil``), scheme-relative ones (``//evil``), and
    anything a browser might read as one: a backslash anywhere (``/\\evil``: browsers
    treat ``\\`` as ``/``), control characters or whitespace (stripped by browsers, so
    ``/\\t/evil`` becomes ``//evil``), non-ASCII, and values past ``MAX_NEXT`` characters.
    """
    if not isinstance(value, str) or not value or len(value) > MAX_NEXT:
        return default
    if not value.isascii() or any(c <= " " or c in "\\\x7f" for c in value):
        return default
    if not value.startswith("/") or value.startswith("//"):
        return default
    # Past these checks no scheme or host can be read into it: a path is all that is left.
    return value
