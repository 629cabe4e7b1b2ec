"""``COGNISES_TOKEN_LOCATION = "alb"``: a Flask app behind an Application Load Balancer.

The ALB signs the user in and forwards its headers; ``login_check`` then verifies
``x-amzn-oidc-data`` (signed by one of ``COGNISES_ALB_ARNS``) and the pool's access token
in ``x-amzn-oidc-accesstoken`` (verified as any access token of the configured pool), and
the view's claims are the two together: who the user is from the ALB's token, what they
may do (groups, scopes, client) from the token the pool signed.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, cast

from flask import request

from cognises._claims import Claims
from cognises.aio._alb_keys import AlbKeyCache
from cognises.aio._alb_verifier import AlbIdentity, alb_key_url
from cognises.errors import ConfigurationError
from cognises.sync import AlbVerifier, CognitoVerifier

__all__ = ["ALB_LOCATION", "AlbBinding", "alb_arns", "merged_claims"]

ALB_LOCATION = "alb"
# Claims that grant something: only the pool's access token may supply them.
_AUTHORIZING = frozenset(
    {
        "cognito:groups",
        "cognito:roles",
        "cognito:preferred_role",
        "scope",
        "token_use",
        "client_id",
        "aud",
    }
)
_adopt = Claims._adopt


def alb_arns(config: Mapping[str, Any]) -> frozenset[str]:
    """``COGNISES_ALB_ARNS``: a list of ARNs, or a string of them separated by commas."""
    value = config.get("COGNISES_ALB_ARNS")
    if isinstance(value, str):
        value = [part.strip() for part in value.split(",") if part.strip()]
    if isinstance(value, (list, tuple, set, frozenset)) and value:
        arns = list(value)
        if all(isinstance(a, str) and a for a in arns):
            return frozenset(arns)
    raise ConfigurationError(
        "COGNISES_ALB_ARNS: with COGNISES_TOKEN_LOCATION 'alb', expected the ARN of every "
        f"ALB whose tokens are accepted, found {value!r}"
    )


def merged_claims(identity: AlbIdentity) -> Claims:
    """The data token's user claims, with the access token's on top.

    The access token's ``sub`` was checked to be the data token's. Anything that grants
    something (groups, roles, scopes) comes from the access token only.
    """
    user = {k: v for k, v in identity.claims._data.items() if k not in _AUTHORIZING}
    access = identity.access._data if identity.access is not None else {}
    return _adopt({**user, **access})


class AlbBinding:
    """The ALB side of a ``login_check`` binding: reads the request's ALB headers."""

    def __init__(
        self, config: Mapping[str, Any], access: CognitoVerifier, caches: dict[str, AlbKeyCache]
    ) -> None:
        key_url = config.get("COGNISES_ALB_KEY_URL")
        if key_url is not None and (not isinstance(key_url, str) or not key_url):
            raise ConfigurationError(f"COGNISES_ALB_KEY_URL: expected a URL, found {key_url!r}")
        template = key_url or alb_key_url(access.region)
        # One key cache per key URL for the whole app, as for the pool's JWKS.
        cache = caches.get(template)
        if cache is None:
            cache = caches[template] = AlbKeyCache(template)
        self.verifier = AlbVerifier(
            access.region,
            alb_arns=alb_arns(config),
            client_ids=access.rules.client_ids,
            issuer=access.issuer,
            access_verifier=access,
            key_cache=cache,
        )

    # ``token`` is the request's x-amzn-oidc-data, as the token source read it; the
    # verifier reads it again from the headers, with the access token and identity.

    def verify(self, token: str) -> Claims:
        return merged_claims(self.verifier.verify_request(_request_headers()))

    def verify_cached(self, token: str) -> Claims | None:
        identity = self.verifier.identity_cached(_request_headers())
        return merged_claims(identity) if identity is not None else None

    async def fetch_and_verify(self, token: str) -> Claims:
        return merged_claims(await self.verifier.fetch_identity(_request_headers()))

    def retry_after(self) -> float:
        """Seconds until a failed key fetch (the ALB's or the pool's) may be retried."""
        access = self.verifier.access_verifier
        pool = access.jwks_cache.retry_after(access.jwks_url) if access is not None else 0.0
        return max(self.verifier.key_cache.retry_after(), pool)


def _request_headers() -> Mapping[str, str]:
    # werkzeug's Headers: case-insensitive, as the verifier needs.
    return cast(Mapping[str, str], request.headers)
