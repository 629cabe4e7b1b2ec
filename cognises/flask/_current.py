"""``current_claims``: the verified claims of the request, kept on ``g``."""

from __future__ import annotations

from typing import NamedTuple, cast

from flask import g, request
from werkzeug.local import LocalProxy

from cognises._claims import Claims

__all__ = ["Auth", "current_claims", "recall", "remember"]

_KEY = "_cognises_auth"


class Auth(NamedTuple):
    """What ``login_check`` learnt about one request (a tuple: made on every request, it
    costs a fifth of a frozen dataclass)."""

    request: object
    claims: Claims
    realm: str
    token: str = ""
    # The verifier that accepted the token: a pool's, or a MultiPoolVerifier.
    verifier: object = None

    def __repr__(self) -> str:
        # Never the token.
        return f"Auth(claims={self.claims!r}, realm={self.realm!r})"


def remember(req: object, claims: Claims, realm: str, token: str, verifier: object) -> None:
    """Keep what ``login_check`` learnt about ``req`` (the request object, not its proxy)."""
    setattr(g, _KEY, Auth(req, claims, realm, token, verifier))


def recall() -> Auth | None:
    """This request's ``Auth``, or None when no ``login_check`` has passed it.

    ``g`` lives as long as the app context, and a test may push one around several
    requests: the request check keeps one request's user from leaking into the next.
    """
    auth = g.get(_KEY)
    if isinstance(auth, Auth) and auth.request is request._get_current_object():  # type: ignore[attr-defined]
        return auth
    return None


def _claims() -> Claims:
    auth = recall()
    if auth is None:
        raise RuntimeError(
            "current_claims is set only inside a view protected by login_check, "
            "once its token has been verified"
        )
    return auth.claims


current_claims: Claims = cast(Claims, LocalProxy(_claims))
"""The verified ``Claims`` of the current request.

Inside a view protected by ``login_check`` this is always the verified claims (the view
is never called otherwise); anywhere else using it raises ``RuntimeError``.
"""
