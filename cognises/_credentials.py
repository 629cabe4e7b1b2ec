"""Temporary AWS credentials of a signed-in user, as an identity pool hands them out."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

__all__ = ["AWSCredentials"]


@dataclass(frozen=True)
class AWSCredentials:
    """Credentials from ``GetCredentialsForIdentity``: use them until ``expiration``.

    ``role_arn`` is the role they are for, when known (asked for, or the token's preferred
    role under a ``Token`` role mapping). The secret and the session token never appear in
    ``repr`` or ``str``.
    """

    access_key_id: str
    secret_access_key: str = field(repr=False)
    session_token: str = field(repr=False)
    expiration: datetime
    identity_id: str
    role_arn: str | None = None

    def as_boto3(self) -> dict[str, str]:
        """Keyword arguments for ``boto3.Session`` / ``aioboto3.Session`` (or a client)."""
        return {
            "aws_access_key_id": self.access_key_id,
            "aws_secret_access_key": self.secret_access_key,
            "aws_session_token": self.session_token,
        }
