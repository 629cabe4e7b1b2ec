"""A local stand-in for an Application Load Balancer's signing side: keys, key server, tokens."""

from __future__ import annotations

import base64
import json
import threading
import time
import uuid
from collections.abc import Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

__all__ = ["AlbKeyServer", "LocalAlb", "b64url_padded"]

_ES256 = ec.ECDSA(hashes.SHA256())


def b64url_padded(data: bytes | str | Mapping[str, Any]) -> str:
    """base64url with its padding, as the ALB encodes; dicts are JSON-encoded first."""
    if isinstance(data, Mapping):
        data = json.dumps(data, separators=(",", ":"))
    if isinstance(data, str):
        data = data.encode()
    return base64.urlsafe_b64encode(data).decode("ascii")


class LocalAlb:
    """Signs ``x-amzn-oidc-data`` tokens the way an ALB does (ES256, padded segments).

    ``arn`` is the ALB the tokens name as ``signer``; ``client_id`` and ``issuer`` go
    into the header as ``client`` and ``iss``. ``pem(kid)`` is what the ALB key endpoint
    serves for ``kid``; ``serve()`` serves every key on loopback.
    """

    def __init__(
        self,
        *,
        region: str = "us-east-1",
        arn: str | None = None,
        client_id: str = "testclient0000000000000000",
        issuer: str = "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_TESTPOOL1",
    ) -> None:
        self.region = region
        self.arn = arn or (
            f"arn:aws:elasticloadbalancing:{region}:123456789012:loadbalancer/app/test/0123456789abcdef"
        )
        self.client_id = client_id
        self.issuer = issuer
        self.keys: dict[str, ec.EllipticCurvePrivateKey] = {}
        self.kid = self.add_key()

    def add_key(self, kid: str | None = None) -> str:
        """Add a signing key (published by ``serve()``); returns its kid, a UUID by default."""
        kid = kid or str(uuid.uuid4())
        self.keys[kid] = ec.generate_private_key(ec.SECP256R1())
        return kid

    def pem(self, kid: str | None = None) -> bytes:
        """The PEM public key of ``kid`` (default: the current one)."""
        return (
            self.keys[kid or self.kid]
            .public_key()
            .public_bytes(
                serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
            )
        )

    def header(self, *, expires_in: float = 120, kid: str | None = None) -> dict[str, Any]:
        """The header an ALB would send now."""
        return {
            "typ": "JWT",
            "kid": kid or self.kid,
            "alg": "ES256",
            "iss": self.issuer,
            "client": self.client_id,
            "signer": self.arn,
            "exp": int(time.time() + expires_in),
        }

    def claims(
        self,
        *,
        username: str = "alice",
        email: str | None = "alice@example.com",
        extra: Mapping[str, Any] | None = None,
    ) -> dict[str, Any]:
        """The user's claims as the ALB forwards them from Cognito's user info endpoint."""
        claims: dict[str, Any] = {
            "sub": str(uuid.uuid5(uuid.NAMESPACE_URL, username)),
            "username": username,
        }
        if email is not None:
            claims.update({"email": email, "email_verified": "true"})
        claims.update(extra or {})
        return claims

    def token(
        self, *, expires_in: float = 120, header: Mapping[str, Any] | None = None, **claims: Any
    ) -> str:
        """A signed data token; ``header`` entries replace or add to the ALB's own."""
        head = {**self.header(expires_in=expires_in), **(header or {})}
        return self.sign(self.claims(**claims), header=head)

    def sign(
        self,
        payload: Mapping[str, Any] | bytes,
        *,
        header: Mapping[str, Any] | None = None,
        kid: str | None = None,
        key: ec.EllipticCurvePrivateKey | None = None,
    ) -> str:
        """Sign any payload under any header: the raw tool for adversarial tests."""
        head = dict(header) if header is not None else self.header(kid=kid)
        signing_input = f"{b64url_padded(head)}.{b64url_padded(payload)}"
        signer = key or self.keys[kid or str(head.get("kid", self.kid))]
        r, s = decode_dss_signature(signer.sign(signing_input.encode("ascii"), _ES256))
        return f"{signing_input}.{b64url_padded(r.to_bytes(32, 'big') + s.to_bytes(32, 'big'))}"

    def serve(self) -> AlbKeyServer:
        """A key server on 127.0.0.1 serving this ALB's keys (use it as a context manager)."""
        return AlbKeyServer(self)


class AlbKeyServer:
    """Serves ``GET /<kid>`` with the PEM key of a ``LocalAlb``, 404 for unknown kids.

    Give ``key_url`` to an ``AlbVerifier`` (``COGNISES_ALB_KEY_URL`` in Flask). ``requests``
    lists the paths asked for, in order.
    """

    def __init__(self, alb: LocalAlb) -> None:
        self.alb = alb
        self.requests: list[str] = []
        self._lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                with server._lock:
                    server.requests.append(self.path)
                kid = self.path[1:]
                key = server.alb.keys.get(kid)
                body = server.alb.pem(kid) if key is not None else b"no such key\n"
                self.send_response(200 if key is not None else 404)
                self.send_header("Content-Type", "text/plain")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name="cognises-alb-keys",
            daemon=True,
        )
        self._thread.start()

    @property
    def key_url(self) -> str:
        """The URL template of the keys, ``{kid}`` marking the kid."""
        return f"http://127.0.0.1:{self._server.server_address[1]}/{{kid}}"

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()

    def __enter__(self) -> AlbKeyServer:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()
