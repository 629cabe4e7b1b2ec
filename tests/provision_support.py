"""Helpers for the provisioning and membership tests: clients, pools, documents, AWS state."""

from __future__ import annotations

import functools
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import aioboto3
import anyio
from aiobotocore.config import AioConfig

from cognises._groupdetail import default_role_name
from cognises.aio import RetryPolicy, aws_clients
from cognises.aio._clients import AWSClients
from cognises.testing._emulator import MotoEmulator

# botocore's own retries would hide the throttling the tests inject: with
# total_max_attempts=1 every throttled call reaches cognises' retry. (The "max_attempts"
# key counts retries, not attempts: max_attempts=1 would still retry once.)
NO_BOTOCORE_RETRIES = AioConfig(
    retries={"total_max_attempts": 1, "mode": "standard"}, max_pool_connections=50
)

# Short waits keep the throttled tests fast; many attempts keep them from flaking:
# at a 30% throttle rate, 12 throttles in a row happen once in ~2 million calls.
FAST_RETRY = RetryPolicy(
    max_attempts=12,
    base_delay=0.002,
    max_delay=0.05,
    max_total=30.0,
    propagation_delay=0.001,
    propagation_timeout=5.0,
)


@functools.cache
def _session(region: str) -> aioboto3.Session:
    # One session for the run: it caches the parsed service models, which take a good
    # part of a second to load for every new session. Clients stay per test.
    return aioboto3.Session(
        region_name=region, aws_access_key_id="testing", aws_secret_access_key="testing"
    )


@asynccontextmanager
async def clients(moto_server: MotoEmulator) -> AsyncIterator[AWSClients]:
    session = _session(moto_server.region)
    async with aws_clients(
        session, endpoint_url=moto_server.endpoint, config=NO_BOTOCORE_RETRIES
    ) as both:
        yield both


@asynccontextmanager
async def identity_client(moto_server: MotoEmulator) -> AsyncIterator[Any]:
    """A cognito-identity client on the emulator, for identity pools and their roles."""
    async with _session(moto_server.region).client(
        "cognito-identity", endpoint_url=moto_server.endpoint, config=NO_BOTOCORE_RETRIES
    ) as client:
        yield client


def provider(pool_id: str) -> str:
    """The provider name an identity pool gives a user pool of the emulator's region."""
    return f"cognito-idp.us-east-1.amazonaws.com/{pool_id}"


async def identity_pool(identity: Any, providers: list[tuple[str, str]]) -> str:
    """A new identity pool listing ``(user pool id, app client id)`` providers."""
    response = await identity.create_identity_pool(
        IdentityPoolName=unique("idp"),
        AllowUnauthenticatedIdentities=False,
        CognitoIdentityProviders=[
            {"ProviderName": provider(pool), "ClientId": client} for pool, client in providers
        ],
    )
    pool_id: str = response["IdentityPoolId"]
    return pool_id


def unique(prefix: str = "t") -> str:
    """A short name no other test uses: IAM is one account for the whole session."""
    return f"{prefix}{uuid.uuid4().hex[:8]}"


async def new_pool(cognito: Any) -> str:
    response = await cognito.create_user_pool(PoolName=unique("pool"))
    pool_id: str = response["UserPool"]["Id"]
    return pool_id


def policy(group_name: str, *, action: str = "s3:GetObject") -> dict[str, Any]:
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "Allow",
                "Effect": "Allow",
                "Action": action,
                "Resource": f"arn:aws:s3:::bucket/{group_name}/*",
            }
        ],
    }


def document(prefix: str, count: int, *, created: Any = "false") -> list[dict[str, Any]]:
    """``count`` groups in the seed's format, named ``<prefix>-g000`` onwards."""
    return [
        {
            "group_name": f"{prefix}-g{i:03d}",
            "group_policy": policy(f"{prefix}-g{i:03d}"),
            "created": created,
            "allowed_functions": ["view", f"fn{i}"],
        }
        for i in range(count)
    ]


async def roles_with_prefix(iam: Any, prefix: str) -> dict[str, dict[str, Any]]:
    """Every IAM role of a group named ``<prefix>...`` (default names: ``<pool>-<group>``;
    the seed's: ``role_<group>``), by name."""
    roles: dict[str, dict[str, Any]] = {}
    async for page in iam.get_paginator("list_roles").paginate():
        for role in page["Roles"]:
            name = role["RoleName"]
            if f"-{prefix}" in name or name.startswith(f"role_{prefix}"):
                roles[name] = role
    return roles


def role_of(pool_id: str, group_name: str) -> str:
    """The role name cognises gives a group by default."""
    return default_role_name(pool_id, group_name)


async def pool_groups(cognito: Any, pool_id: str) -> dict[str, dict[str, Any]]:
    groups: dict[str, dict[str, Any]] = {}
    async for page in cognito.get_paginator("list_groups").paginate(UserPoolId=pool_id):
        for group in page["Groups"]:
            groups[group["GroupName"]] = group
    return groups


async def assert_converged(
    iam: Any, cognito: Any, pool_id: str, doc: list[dict[str, Any]], prefix: str
) -> None:
    """AWS holds exactly the document: one group per entry, its role, its policy; no extras."""
    groups = await pool_groups(cognito, pool_id)
    roles = await roles_with_prefix(iam, prefix)
    wanted = {entry["group_name"] for entry in doc}
    assert set(groups) == wanted
    assert set(roles) == {role_of(pool_id, name) for name in wanted}, "orphan or missing roles"
    for entry in doc:
        name = entry["group_name"]
        role = roles[role_of(pool_id, name)]
        assert groups[name]["RoleArn"] == role["Arn"]
        assert role["Path"] == "/cognises/"

    async def check_policy(entry: dict[str, Any]) -> None:
        name = entry["group_name"]
        role_name = role_of(pool_id, name)
        stored = await iam.get_role_policy(RoleName=role_name, PolicyName=f"{name}_policy")
        assert stored["PolicyDocument"] == entry["group_policy"]
        listed = await iam.list_role_policies(RoleName=role_name)
        assert listed["PolicyNames"] == [f"{name}_policy"]

    async with anyio.create_task_group() as checks:
        for entry in doc:
            checks.start_soon(check_policy, entry)
