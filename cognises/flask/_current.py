"""``current_claims``: the verified claims of the request, kept on ``g``."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import cast

from flask import g, request
from werkzeug.local import LocalProxy

from cognises._claims import Claims

__all__ = ["Auth", "current_claims", "recall", "remember"]

_KEY = "_cognises_auth"


@dataclass(frozen=True)
class Auth:
    """What ``login_check`` learnt about one request."""

    request: object
    claims: Claims
    realm: str
    token: str = field(default="", repr=False)
    # The verifier that accepted the token: a pool's, or a MultiPoolVerifier.
    verifier: object = field(default=None, repr=False)


def remember(claims: Claims, realm: str, token: str = "", verifier: object = None) -> None:
    auth = Auth(request._get_current_object(), claims, realm, token, verifier)  # type: ignore[attr-defined]
    setattr(g, _KEY, auth)


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
