"""Every error cognises raises.

The tree::

    CognisesError
    ├── TokenError                  the token is not acceptable (HTTP 401)
    │   ├── MalformedTokenError     too large, not three base64url segments, not JSON objects
    │   │                           (an ALB token: not exactly padded); an ALB header missing
    │   ├── InvalidHeaderError      alg not RS256 (ALB: ES256), kid missing or not a string
    │   │                           (ALB: unsafe in a URL), key-bearing headers, ALB signer
    │   ├── UnknownKeyError         no key with that kid in the pool's JWKS (or at the ALB's)
    │   ├── InvalidSignatureError   the signature does not match
    │   ├── ClaimError              a claim is wrong; ``.claim`` names it
    │   │   ├── MissingClaimError
    │   │   ├── InvalidClaimTypeError
    │   │   ├── ExpiredTokenError
    │   │   ├── NotYetValidError    nbf or iat in the future
    │   │   ├── InvalidIssuerError
    │   │   ├── InvalidAudienceError  aud (ID token), client_id (access token), client (ALB)
    │   │   └── InvalidTokenUseError
    │   ├── TokenRefusedError       AWS refused a token that passed every local check
    │   └── RevokedTokenError       revoked or signed out: by ``is_revoked=``, or Cognito's
    │                               ``GetUser`` (the online check)
    ├── JWKSError                   the keys (JWKS, ALB key) could not be fetched or parsed (503)
    ├── OAuthError                  the authorization server refused a request; ``.error``
    │   │                           holds its RFC 6749 code (``invalid_grant``...)
    │   └── OAuthUnavailableError   it could not be reached, or answered nonsense
    ├── AWSUnavailableError         AWS could not be reached, or throttled us: retry (HTTP 503)
    ├── PermissionDenied            a valid token without the group, role, scope or permission (403)
    ├── ConfigurationError          the library was set up wrongly (also a ValueError)
    ├── GroupDetailError            the group document is invalid (also a ValueError)
    └── ProvisioningError           some groups did not converge; ``.report`` says which

Messages say what was expected and what was found. They never contain the token
itself, and claim values appear only where they are identifiers (issuer, client id).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from cognises._report import ProvisioningReport

__all__ = [
    "AWSUnavailableError",
    "ClaimError",
    "CognisesError",
    "ConfigurationError",
    "ExpiredTokenError",
    "GroupDetailError",
    "InvalidAudienceError",
    "InvalidClaimTypeError",
    "InvalidHeaderError",
    "InvalidIssuerError",
    "InvalidSignatureError",
    "InvalidTokenUseError",
    "JWKSError",
    "MalformedTokenError",
    "MissingClaimError",
    "NotYetValidError",
    "OAuthError",
    "OAuthUnavailableError",
    "PermissionDenied",
    "ProvisioningError",
    "RevokedTokenError",
    "TokenError",
    "TokenRefusedError",
    "UnknownKeyError",
]


class CognisesError(Exception):
    """Base class of every error raised by cognises."""


class TokenError(CognisesError):
    """The token is not acceptable. Catch this to reject a request."""


class MalformedTokenError(TokenError):
    """The token is not a well-formed compact JWS of JSON objects."""


class InvalidHeaderError(TokenError):
    """The JOSE header asks for something cognises never allows."""


class UnknownKeyError(TokenError):
    """The token's ``kid`` is not in the pool's key set."""


class InvalidSignatureError(TokenError):
    """The signature was not made by the key the header names."""


class ClaimError(TokenError):
    """A claim failed its check. ``claim`` holds the claim's name."""

    def __init__(self, message: str, *, claim: str) -> None:
        super().__init__(message)
        self.claim = claim


class MissingClaimError(ClaimError):
    """A required claim is absent."""


class InvalidClaimTypeError(ClaimError):
    """A claim has the wrong JSON type."""


class ExpiredTokenError(ClaimError):
    """``exp`` is in the past (beyond the leeway)."""


class NotYetValidError(ClaimError):
    """``nbf`` or ``iat`` is in the future (beyond the leeway)."""


class InvalidIssuerError(ClaimError):
    """``iss`` is not the user pool's issuer."""


class InvalidAudienceError(ClaimError):
    """``aud`` or ``client_id`` is not one of the accepted app clients."""


class InvalidTokenUseError(ClaimError):
    """``token_use`` is not the kind of token this verifier accepts."""


class TokenRefusedError(TokenError):
    """AWS refused a token that cognises accepted (revoked, or not trusted by the identity
    pool): the token is no good for this, whatever its signature says."""


class RevokedTokenError(TokenError):
    """The token was revoked or its user signed out: the application's ``is_revoked`` said
    so, or Cognito refused it (``GetUser``, the online check), though its signature and
    expiry are good."""


class AWSUnavailableError(CognisesError):
    """An AWS call could not be made now (unreachable, throttled, failing): try again later.

    Neither the token's fault nor a permission: retrying after ``retry_after`` seconds may
    succeed.
    """

    def __init__(self, message: str, *, retry_after: float = 1.0) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class JWKSError(CognisesError):
    """The pool's keys could not be fetched or parsed: the server's fault, not the token's."""


class OAuthError(CognisesError):
    """The authorization server (Cognito's ``/oauth2/token`` or ``/oauth2/revoke``) said no.

    ``error`` is the RFC 6749 error code it sent (``invalid_grant``, ``invalid_client``...),
    ``status`` the HTTP status of its answer (None when there was no answer).
    """

    def __init__(self, message: str, *, error: str, status: int | None) -> None:
        super().__init__(message)
        self.error = error
        self.status = status


class OAuthUnavailableError(OAuthError):
    """The authorization server could not be reached, timed out, or answered nonsense."""


class PermissionDenied(CognisesError):
    """A valid token that lacks the required group, scope or permission."""


class ConfigurationError(CognisesError, ValueError):
    """cognises was configured with values that cannot work."""


class GroupDetailError(CognisesError, ValueError):
    """The group document is invalid. ``problems`` lists every problem found."""

    def __init__(self, problems: Sequence[str]) -> None:
        self.problems = list(problems)
        lines = "\n".join(f"  - {p}" for p in self.problems)
        super().__init__(f"invalid group document ({len(self.problems)} problem(s)):\n{lines}")


class ProvisioningError(CognisesError):
    """Some groups failed to converge. ``report`` holds the outcome of every group."""

    def __init__(self, message: str, *, report: ProvisioningReport | Any) -> None:
        super().__init__(message)
        self.report = report
