"""Blocking twins of ``cognises.aio``, for Flask views, scripts and other threads."""

from cognises._claims import Claims
from cognises._permissions import require_groups
from cognises.aio._fetch import FetchOptions
from cognises.aio._jwks import JWKSCache
from cognises.sync._verifier import CognitoVerifier

__all__ = [
    "Claims",
    "CognitoVerifier",
    "FetchOptions",
    "JWKSCache",
    "require_groups",
]
