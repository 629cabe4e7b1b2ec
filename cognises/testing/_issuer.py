"""A local stand-in for a Cognito user pool's signing side: keys, JWKS and tokens."""

from __future__ import annotations

import base64
import json
import time
import uuid
from collections.abc import Iterable, Mapping
from typing import Any, Literal

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from joserfc.jwk import RSAKey

from cognises.errors import ConfigurationError

__all__ = ["LocalIssuer", "b64url"]

_PKCS1 = padding.PKCS1v15()
_SHA256 = hashes.SHA256()


def b64url(data: bytes | str | Mapping[str, Any]) -> str:
    """base64url without padding; dicts are JSON-encoded first."""
    if isinstance(data, Mapping):
        data = json.dumps(data, separators=(",", ":"))
    if isinstance(data, str):
        data = data.encode()
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


class LocalIssuer:
    """Signs Cognito-shaped ID and access tokens with keys made on the spot.

    ``jwks()`` is the document a pool would publish. Rotate with ``rotate()``.
    ``issuer_form``: "original" signs ``iss`` as ``https://cognito-idp.<region>...``,
    "updated" as ``https://issuer-cognito-idp.<region>...`` (Cognito issues both).
    """

    def __init__(
        self,
        *,
        region: str = "us-east-1",
        user_pool_id: str = "us-east-1_TESTPOOL1",
        client_id: str = "testclient0000000000000000",
        key_size: int = 2048,
        issuer_form: Literal["original", "updated"] = "original",
    ) -> None:
        if issuer_form not in ("original", "updated"):
            raise ConfigurationError(
                f"expected issuer_form 'original' or 'updated', found {issuer_form!r}"
            )
        self.region = region
        self.user_pool_id = user_pool_id
        self.client_id = client_id
        host = "cognito-idp" if issuer_form == "original" else "issuer-cognito-idp"
        self.issuer = f"https://{host}.{region}.amazonaws.com/{user_pool_id}"
        self._key_size = key_size
        self.keys: dict[str, rsa.RSAPrivateKey] = {}
        self.kid = self.add_key()

    def add_key(self, kid: str | None = None) -> str:
        """Add a signing key to the published set; returns its kid."""
        kid = kid or uuid.uuid4().hex
        self.keys[kid] = rsa.generate_private_key(public_exponent=65537, key_size=self._key_size)
        return kid

    def rotate(self) -> str:
        """Publish a new key, withdraw all others and sign with the new one from now on."""
        self.keys = {}
        self.kid = self.add_key()
        return self.kid

    def jwks(self) -> dict[str, Any]:
        keys = []
        for kid, private in self.keys.items():
            jwk = RSAKey.import_key(private.public_key()).as_dict(private=False)
            keys.append({**jwk, "kid": kid, "alg": "RS256", "use": "sig"})
        return {"keys": keys}

    def claims(
        self,
        *,
        token_use: Literal["id", "access"] = "id",
        groups: Iterable[str] | None = (),
        username: str = "alice",
        email: str | None = "alice@example.com",
        client_id: str | None = None,
        expires_in: float = 3600,
        issued_at: float | None = None,
        extra: Mapping[str, Any] | None = None,
    ) -> dict[str, Any]:
        """The claims Cognito would put in a token of that kind."""
        now = int(time.time() if issued_at is None else issued_at)
        client = client_id or self.client_id
        claims: dict[str, Any] = {
            "sub": str(uuid.uuid5(uuid.NAMESPACE_URL, username)),
            "iss": self.issuer,
            "token_use": token_use,
            "auth_time": now,
            "iat": now,
            "exp": int(now + expires_in),
            "jti": str(uuid.uuid4()),
            "origin_jti": str(uuid.uuid4()),
            "event_id": str(uuid.uuid4()),
        }
        if groups:
            claims["cognito:groups"] = list(groups)
        if token_use == "id":
            claims.update({"aud": client, "cognito:username": username})
            if email is not None:
                claims.update({"email": email, "email_verified": True})
        else:
            claims.update(
                {
                    "client_id": client,
                    "username": username,
                    "scope": "aws.cognito.signin.user.admin",
                }
            )
        claims.update(extra or {})
        return claims

    def token(self, **claim_options: Any) -> str:
        """A signed token; keyword arguments go to ``claims``."""
        return self.sign(self.claims(**claim_options))

    def sign(
        self,
        payload: Mapping[str, Any] | bytes,
        *,
        header: Mapping[str, Any] | None = None,
        kid: str | None = None,
        key: rsa.RSAPrivateKey | None = None,
    ) -> str:
        """Sign any payload under any header: the raw tool for adversarial tests."""
        kid = kid or self.kid
        head = dict(header) if header is not None else {"kid": kid, "alg": "RS256"}
        signing_input = f"{b64url(head)}.{b64url(payload)}"
        signer = key or self.keys[kid]
        signature = signer.sign(signing_input.encode("ascii"), _PKCS1, _SHA256)
        return f"{signing_input}.{b64url(signature)}"
