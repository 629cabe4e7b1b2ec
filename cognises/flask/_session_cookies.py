"""The cookies of a signed-in browser, and the sealed ones only the server can read.

Every cookie is ``HttpOnly`` (page scripts never see a token), ``SameSite=Lax`` (sent on
the top-level redirect back from managed login, not on cross-site subrequests),
host-only (no ``Domain``: a sibling subdomain cannot read or plant it), path ``/``, and
``Secure`` unless the app runs on http://localhost.

Sealed cookies (the refresh token; the login transaction: state, nonce, PKCE verifier)
are encrypted and authenticated with AES-256-GCM, each purpose under its own key derived
from the app's ``SECRET_KEY`` with HKDF-SHA256 and the purpose as label, and the cookie's
name as associated data: a value sealed for one cookie never opens as another. Kept in
the browser rather than on the server so that any worker process, with no shared store,
can refresh; the cost is that a stolen cookie jar works until the refresh token is
revoked (sign-out revokes it) or expires.
"""

from __future__ import annotations

import base64
import binascii
import os
import struct
import time

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from werkzeug.wrappers import Request, Response

from cognises.flask._signin_config import SignInConfig

__all__ = ["MAX_SEALED", "Sealer", "clear_all", "read_sealed", "set_cookie"]

MAX_SEALED = 4096
"""Longest sealed cookie value opened: browsers keep at most about 4 KiB a cookie."""

_NONCE = 12
_VERSION = b"\x01"


class Sealer:
    """Seals and opens values for one purpose with a key derived from ``SECRET_KEY``."""

    def __init__(self, secret_key: bytes, purpose: str) -> None:
        key = HKDF(
            algorithm=hashes.SHA256(),
            length=32,
            salt=b"cognises sealed cookie",
            info=f"cognises/{purpose}/v1".encode(),
        ).derive(secret_key)
        self._aead = AESGCM(key)

    def seal(self, name: str, data: bytes) -> str:
        """``data`` sealed for the cookie ``name``, with the time it was sealed."""
        nonce = os.urandom(_NONCE)
        plain = struct.pack(">Q", int(time.time())) + data
        sealed = _VERSION + nonce + self._aead.encrypt(nonce, plain, name.encode())
        return base64.urlsafe_b64encode(sealed).rstrip(b"=").decode("ascii")

    def open(self, name: str, value: str, *, max_age: float) -> bytes | None:
        """The data sealed in ``value`` for ``name``; None if forged, altered or too old."""
        if not value or len(value) > MAX_SEALED or not value.isascii():
            return None
        try:
            raw = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))
        except (binascii.Error, ValueError):
            return None
        if len(raw) < 1 + _NONCE + 8 + 16 or raw[:1] != _VERSION:
            return None
        nonce, body = raw[1 : 1 + _NONCE], raw[1 + _NONCE :]
        try:
            plain = self._aead.decrypt(nonce, body, name.encode())
        except InvalidTag:
            return None
        (sealed_at,) = struct.unpack(">Q", plain[:8])
        age = time.time() - sealed_at
        if not -60 <= age <= max_age:  # a minute of clock skew between workers
            return None
        return plain[8:]


def read_sealed(request: Request, name: str, sealer: Sealer, *, max_age: float) -> bytes | None:
    """The opened value of the cookie ``name``; None when absent, repeated or not ours."""
    values = {v for v in request.cookies.getlist(name) if v}
    if len(values) != 1:
        return None  # two different values: one was planted, and we cannot tell which
    return sealer.open(name, values.pop(), max_age=max_age)


def set_cookie(
    response: Response, config: SignInConfig, name: str, value: str, *, max_age: int | None
) -> None:
    response.set_cookie(
        name,
        value,
        max_age=max_age,
        path="/",
        secure=config.secure,
        httponly=True,
        samesite="Lax",
    )


def clear_all(response: Response, config: SignInConfig) -> None:
    """Remove the token and refresh cookies (the login transaction has its own life)."""
    for name in (config.token_cookie, config.refresh_cookie):
        response.delete_cookie(name, path="/", secure=config.secure, httponly=True, samesite="Lax")
