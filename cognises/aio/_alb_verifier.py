"""``AlbVerifier``: checks the headers an Application Load Balancer adds after sign-in.

With ``authenticate-cognito`` (or ``authenticate-oidc``) on a listener rule, the ALB
forwards ``x-amzn-oidc-data`` (the user's claims, in a token it signs with ES256),
``x-amzn-oidc-accesstoken`` (the IdP's access token) and ``x-amzn-oidc-identity`` (the
user's ``sub``). Anything that can reach the app without passing the ALB can forge them,
so each is checked here before it is believed.
"""

from __future__ import annotations

import math
import re
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from cryptography.hazmat.primitives.asymmetric import ec

from cognises._alb import (
    AlbHeader,
    AlbRules,
    check_alb_claims,
    check_alb_header,
    check_es256,
    parse_alb,
)
from cognises._claims import Claims
from cognises._token import MAX_TOKEN_SIZE
from cognises.aio._alb_keys import AlbKeyCache
from cognises.aio._verifier import VerifierCore, _client_set, check_jwks_url
from cognises.errors import ClaimError, ConfigurationError, MalformedTokenError

__all__ = [
    "ACCESS_HEADER",
    "DATA_HEADER",
    "IDENTITY_HEADER",
    "AlbIdentity",
    "AlbVerifier",
    "AlbVerifierCore",
    "alb_key_url",
]

DATA_HEADER = "x-amzn-oidc-data"
ACCESS_HEADER = "x-amzn-oidc-accesstoken"
IDENTITY_HEADER = "x-amzn-oidc-identity"

_REGION = re.compile(r"[a-z]{2}(-[a-z]+)+-\d{1,2}")
_ALB_ARN = re.compile(r"arn:aws[a-z-]*:elasticloadbalancing:[a-z0-9-]+:\d{12}:loadbalancer/app/.+")
# GovCloud serves ALB keys from S3, not from public-keys.auth.elb (the ALB user guide).
_GOVCLOUD = frozenset({"us-gov-west-1", "us-gov-east-1"})
_adopt = Claims._adopt


def alb_key_url(region: str) -> str:
    """The URL template (``{kid}`` marks the kid) of the ALB public keys of ``region``."""
    if not isinstance(region, str) or not _REGION.fullmatch(region):
        raise ConfigurationError(f"expected an AWS region such as 'us-east-1', found {region!r}")
    if region in _GOVCLOUD:
        return f"https://s3-{region}.amazonaws.com/aws-elb-public-keys-prod-{region}/{{kid}}"
    return f"https://public-keys.auth.elb.{region}.amazonaws.com/{{kid}}"


@dataclass(frozen=True)
class AlbIdentity:
    """What the ALB's headers say, once verified.

    ``claims``: the user's claims from ``x-amzn-oidc-data``. ``access``: the claims of
    ``x-amzn-oidc-accesstoken``, when the verifier has an ``access_verifier`` (else
    None). ``groups`` and ``scopes`` come from ``access`` only: the ALB's data token
    carries no groups, and only a token the user pool signed may grant them.
    """

    claims: Claims
    access: Claims | None
    signer: str

    @property
    def groups(self) -> list[str]:
        return self.access.groups if self.access is not None else []

    @property
    def scopes(self) -> list[str]:
        return self.access.scopes if self.access is not None else []


class AlbVerifierCore:
    """Configuration, key cache and the hot path shared by the async and the sync verifier.

    Verifies ``x-amzn-oidc-data`` as the ALB user guide describes it: ES256 only; header
    ``signer`` one of ``alb_arns`` (compared exactly); header ``client`` one of
    ``client_ids`` and header ``iss`` equal to ``issuer`` when those are given; header
    ``exp`` with ``leeway`` seconds of clock skew. The key of the header's ``kid`` comes
    from the ALB key endpoint of ``region`` (GovCloud's S3 endpoints included), or from
    ``key_url``, a template with ``{kid}`` in it (a local server in tests).

    ``access_verifier``: a ``CognitoVerifier`` with ``token_use="access"``; when given,
    ``verify_request`` also verifies ``x-amzn-oidc-accesstoken`` with it, and requires
    its ``sub`` to be the data token's.
    """

    def __init__(
        self,
        region: str,
        *,
        alb_arns: str | Iterable[str],
        client_ids: str | Iterable[str] | None = None,
        issuer: str | None = None,
        access_verifier: VerifierCore | None = None,
        leeway: float = 5.0,
        key_url: str | None = None,
        key_cache: AlbKeyCache | None = None,
        max_token_size: int = MAX_TOKEN_SIZE,
        allow_insecure_key_url: bool = False,
    ) -> None:
        arns = _arn_set(alb_arns)
        if not (math.isfinite(leeway) and leeway >= 0) or max_token_size <= 0:
            raise ConfigurationError(
                "expected a finite leeway >= 0 and max_token_size > 0, found "
                f"{leeway!r} and {max_token_size!r}"
            )
        if issuer is not None and (not isinstance(issuer, str) or not issuer):
            raise ConfigurationError(f"expected issuer to be a non-empty string, found {issuer!r}")
        if access_verifier is not None and access_verifier.rules.token_use != "access":
            raise ConfigurationError(
                "expected access_verifier to verify access tokens (token_use='access'), "
                f"found token_use={access_verifier.rules.token_use!r}"
            )
        template = key_url or (key_cache.url_template if key_cache else alb_key_url(region))
        if template == alb_key_url(region):
            # An ALB signs with the keys of its own region: another region's endpoint
            # would answer every token of it with an unknown kid.
            elsewhere = sorted(a for a in arns if a.split(":")[3] != region)
            if elsewhere:
                raise ConfigurationError(
                    f"expected ALBs of region {region!r} (their keys are at {template!r}), "
                    f"found {elsewhere}"
                )
        if key_cache is not None and key_cache.url_template != template:
            raise ConfigurationError(
                f"expected key_cache to fetch from {template!r}, found {key_cache.url_template!r}"
            )
        if template.count("{kid}") != 1:
            raise ConfigurationError(f"expected key_url to hold '{{kid}}' once, found {template!r}")
        check_jwks_url(
            template.replace("{kid}", "kid"), allow_insecure=allow_insecure_key_url, name="key_url"
        )
        self.region = region
        self.rules = AlbRules(
            alb_arns=arns,
            client_ids=_client_set(client_ids),
            issuer=issuer,
            leeway=float(leeway),
        )
        self.access_verifier = access_verifier
        self.key_cache = key_cache or AlbKeyCache(template)
        self.max_token_size = max_token_size

    def __repr__(self) -> str:
        return f"AlbVerifier(region={self.region!r}, alb_arns={sorted(self.rules.alb_arns)})"

    def verify_cached(self, token: str | bytes) -> Claims | None:
        """Verify ``x-amzn-oidc-data`` with the key already cached, without awaiting.

        Returns None when the key must be fetched first (then call ``fetch_and_verify``).
        """
        verified = self._cached(token)
        return verified[1] if verified is not None else None

    async def fetch_and_verify(self, token: str | bytes) -> Claims:
        """The slow path: fetch the key as the cache's rules allow, then verify."""
        return (await self._fetched(token))[1]

    def _cached(self, token: str | bytes) -> tuple[str, Claims] | None:
        """The signer and claims of ``token``, or None when its key must be fetched."""
        header, signing_input, payload, signature = parse_alb(token, max_size=self.max_token_size)
        check_alb_header(header, self.rules, time.time())
        key = self.key_cache.cached_key(header.kid)
        if key is None:
            return None
        return header.signer, _finish(header, signing_input, payload, signature, key)

    async def _fetched(self, token: str | bytes) -> tuple[str, Claims]:
        header, signing_input, payload, signature = parse_alb(token, max_size=self.max_token_size)
        # Checked before the fetch (no fetch for a token that fails), and again after it.
        check_alb_header(header, self.rules, time.time())
        key = await self.key_cache.get_key(header.kid)
        check_alb_header(header, self.rules, time.time())
        return header.signer, _finish(header, signing_input, payload, signature, key)

    def identity_cached(self, headers: Mapping[str, str]) -> AlbIdentity | None:
        """Verify a request's ALB headers with the keys already cached, without awaiting.

        Returns None when a key (the ALB's, or the pool's for the access token) must be
        fetched first (then call ``fetch_identity``).
        """
        data, access_token, seen_sub = self._headers(headers)
        verified = self._cached(data)
        if verified is None:
            return None
        access = None
        if self.access_verifier is not None and access_token is not None:
            access = self.access_verifier.verify_cached(access_token)
            if access is None:
                return None
        return _identity(*verified, access, seen_sub)

    async def fetch_identity(self, headers: Mapping[str, str]) -> AlbIdentity:
        """The slow path of ``identity_cached``: fetch keys as the caches allow, then verify."""
        data, access_token, seen_sub = self._headers(headers)
        verified = self._cached(data) or await self._fetched(data)
        access = None
        if self.access_verifier is not None and access_token is not None:
            access = self.access_verifier.verify_cached(access_token)
            if access is None:
                access = await self.access_verifier.fetch_and_verify(access_token)
        return _identity(*verified, access, seen_sub)

    def _headers(self, headers: Mapping[str, str]) -> tuple[str, str | None, str | None]:
        """The data token, access token and identity of a request's headers."""
        data = headers.get(DATA_HEADER)
        if not data:
            raise MalformedTokenError(f"expected an {DATA_HEADER} header, found none")
        access = headers.get(ACCESS_HEADER) or None
        if self.access_verifier is not None and access is None:
            raise MalformedTokenError(f"expected an {ACCESS_HEADER} header, found none")
        return data, access, headers.get(IDENTITY_HEADER)


def _arn_set(alb_arns: object) -> frozenset[str]:
    arns = (
        list(alb_arns)
        if isinstance(alb_arns, Iterable) and not isinstance(alb_arns, str)
        else [alb_arns]
    )
    valid = [a for a in arns if isinstance(a, str) and _ALB_ARN.fullmatch(a)]
    if not valid or len(valid) != len(arns):
        raise ConfigurationError(
            "expected alb_arns to be one or more ALB ARNs "
            "(arn:aws:elasticloadbalancing:<region>:<account>:loadbalancer/app/...), "
            f"found {arns!r}"
        )
    return frozenset(valid)


def _identity(
    signer: str, claims: Claims, access: Claims | None, seen_sub: str | None
) -> AlbIdentity:
    """The request's identity, once the identity header (``seen_sub``) and the access
    token agree with the data token on who the user is."""
    if seen_sub is not None and seen_sub != claims.sub:
        raise ClaimError(
            f"expected {IDENTITY_HEADER} to be the data token's sub, found another value",
            claim="sub",
        )
    if access is not None and access.sub != claims.sub:
        raise ClaimError(
            "expected the access token's sub to be the data token's, found another",
            claim="sub",
        )
    return AlbIdentity(claims, access, signer)


def _finish(
    header: AlbHeader,
    signing_input: bytes,
    payload: bytes,
    signature: bytes,
    key: ec.EllipticCurvePublicKey,
) -> Claims:
    check_es256(header.kid, signing_input, signature, key)
    return _adopt(check_alb_claims(payload, header))


class AlbVerifier(AlbVerifierCore):
    __doc__ = AlbVerifierCore.__doc__

    async def verify(self, token: str | bytes) -> Claims:
        """The user's claims in ``x-amzn-oidc-data`` if it passes every check.

        Else raises a ``TokenError``; ``JWKSError`` when the ALB's key cannot be had.
        """
        claims = self.verify_cached(token)
        if claims is None:
            claims = await self.fetch_and_verify(token)
        return claims

    async def verify_request(self, headers: Mapping[str, str]) -> AlbIdentity:
        """Verify the ALB's headers of one request (a case-insensitive mapping, or one
        with lower-case names): the data token, and the access token when this verifier
        has an ``access_verifier``.
        """
        verified = self.identity_cached(headers)
        return verified if verified is not None else await self.fetch_identity(headers)
