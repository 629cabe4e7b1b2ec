"""Setting up a user pool with users and real tokens (against moto or AWS), with boto3."""

from __future__ import annotations

import contextlib
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

__all__ = ["PoolSetup", "create_pool", "create_user", "log_in"]

PASSWORD = "Correct-Horse-9"


@dataclass(frozen=True)
class PoolSetup:
    user_pool_id: str
    client_id: str


def create_pool(cognito: Any, name: str) -> PoolSetup:
    """A user pool and an app client that may log users in with a password and read email."""
    pool_id = cognito.create_user_pool(PoolName=name)["UserPool"]["Id"]
    client_id = cognito.create_user_pool_client(
        UserPoolId=pool_id,
        ClientName=f"{name}-app",
        ExplicitAuthFlows=["ALLOW_ADMIN_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"],
        ReadAttributes=["email", "email_verified"],
    )["UserPoolClient"]["ClientId"]
    return PoolSetup(pool_id, client_id)


def create_user(
    cognito: Any,
    pool: PoolSetup,
    username: str,
    *,
    groups: Iterable[str] = (),
    email: str | None = None,
    password: str = PASSWORD,
) -> None:
    """A confirmed user with a permanent password, added to ``groups`` (created if missing)."""
    attributes = [{"Name": "email", "Value": email or f"{username}@example.com"}]
    attributes.append({"Name": "email_verified", "Value": "true"})
    cognito.admin_create_user(
        UserPoolId=pool.user_pool_id,
        Username=username,
        UserAttributes=attributes,
        MessageAction="SUPPRESS",
    )
    cognito.admin_set_user_password(
        UserPoolId=pool.user_pool_id, Username=username, Password=password, Permanent=True
    )
    for group in groups:
        with contextlib.suppress(cognito.exceptions.GroupExistsException):
            cognito.create_group(GroupName=group, UserPoolId=pool.user_pool_id)
        cognito.admin_add_user_to_group(
            UserPoolId=pool.user_pool_id, Username=username, GroupName=group
        )


def log_in(
    cognito: Any, pool: PoolSetup, username: str, password: str = PASSWORD
) -> dict[str, str]:
    """Real tokens for the user: ``IdToken``, ``AccessToken`` and ``RefreshToken``."""
    result = cognito.admin_initiate_auth(
        UserPoolId=pool.user_pool_id,
        ClientId=pool.client_id,
        AuthFlow="ADMIN_USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": username, "PASSWORD": password},
    )["AuthenticationResult"]
    return {k: result[k] for k in ("IdToken", "AccessToken", "RefreshToken")}
