"""The asyncio core of cognises: token verification and (with the ``aws`` extra) provisioning."""

from cognises._claims import Claims
from cognises._permissions import require_groups
from cognises.aio._fetch import FetchOptions
from cognises.aio._jwks import JWKSCache
from cognises.aio._verifier import CognitoVerifier

__all__ = [
    "Claims",
    "CognitoVerifier",
    "FetchOptions",
    "JWKSCache",
    "require_groups",
]
