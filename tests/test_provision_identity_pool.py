"""The identity pool's role mapping: the emulator's Get/SetIdentityPoolRoles, and
``create_update`` converging the mapping for this user pool's providers, over HTTP."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from botocore.exceptions import ClientError
from provision_support import (
    clients,
    document,
    identity_client,
    identity_pool,
    new_pool,
    provider,
    unique,
)

from cognises.aio import create_update
from cognises.testing._emulator import FaultInjector, MotoEmulator

pytestmark = pytest.mark.anyio

ROLE = "arn:aws:iam::123456789012:role/default-authenticated"


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


async def refused(coroutine: Any) -> tuple[str, str]:
    with pytest.raises(ClientError) as info:
        await coroutine
    error = info.value.response["Error"]
    return error["Code"], error["Message"]


# ------------------------------------------------------------------------------- the emulator


async def test_emulator_get_and_set_identity_pool_roles_follow_the_api_reference(
    moto_server: MotoEmulator, faults: FaultInjector
) -> None:
    async with clients(moto_server) as (_, cognito), identity_client(moto_server) as identity:
        user_pool = await new_pool(cognito)
        pool = await identity_pool(identity, [(user_pool, "client1")])
        key = f"{provider(user_pool)}:client1"

        fresh = await identity.get_identity_pool_roles(IdentityPoolId=pool)
        assert (fresh["IdentityPoolId"], fresh["Roles"], fresh["RoleMappings"]) == (pool, {}, {})

        mapping = {"Type": "Token", "AmbiguousRoleResolution": "Deny"}
        await identity.set_identity_pool_roles(
            IdentityPoolId=pool, Roles={"authenticated": ROLE}, RoleMappings={key: mapping}
        )
        stored = await identity.get_identity_pool_roles(IdentityPoolId=pool)
        assert stored["Roles"] == {"authenticated": ROLE}
        assert stored["RoleMappings"] == {key: mapping}
        # Kept on the emulator, where GetCredentialsForIdentity can read it.
        assert moto_server.identity_roles is not None
        assert moto_server.identity_roles.pools[pool]["RoleMappings"] == {key: mapping}
        assert faults.actions()[-2:] == ["SetIdentityPoolRoles", "GetIdentityPoolRoles"]

        rules = {
            "Type": "Rules",
            "AmbiguousRoleResolution": "AuthenticatedRole",
            "RulesConfiguration": {
                "Rules": [
                    {"Claim": "custom:team", "MatchType": "Equals", "Value": "a", "RoleARN": ROLE}
                ]
            },
        }
        await identity.set_identity_pool_roles(
            IdentityPoolId=pool, Roles={}, RoleMappings={key: rules}
        )
        assert (await identity.get_identity_pool_roles(IdentityPoolId=pool))["RoleMappings"] == {
            key: rules
        }

        missing = "us-east-1:00000000-0000-4000-8000-000000000000"
        for call, code in (
            (
                lambda: identity.get_identity_pool_roles(IdentityPoolId=missing),
                "ResourceNotFoundException",
            ),
            (
                lambda: identity.set_identity_pool_roles(IdentityPoolId=missing, Roles={}),
                "ResourceNotFoundException",
            ),
            (
                lambda: identity.get_identity_pool_roles(IdentityPoolId="not-a-pool"),
                "InvalidParameterException",
            ),
            (
                lambda: identity.set_identity_pool_roles(
                    IdentityPoolId=pool, Roles={"admin": ROLE}
                ),
                "InvalidParameterException",
            ),
            (
                lambda: identity.set_identity_pool_roles(
                    IdentityPoolId=pool, Roles={"authenticated": "arn:aws:s3:::a-bucket-of-ours"}
                ),
                "InvalidParameterException",
            ),
            (
                lambda: identity.set_identity_pool_roles(
                    IdentityPoolId=pool, Roles={}, RoleMappings={key: {"Type": "Token"}}
                ),
                "InvalidParameterException",
            ),
            (
                lambda: identity.set_identity_pool_roles(
                    IdentityPoolId=pool,
                    Roles={},
                    RoleMappings={"graph.facebook.com": mapping},
                ),
                "InvalidParameterException",
            ),
            (
                lambda: identity.set_identity_pool_roles(
                    IdentityPoolId=pool,
                    Roles={},
                    RoleMappings={
                        key: {
                            **rules,
                            "RulesConfiguration": {
                                "Rules": [
                                    {
                                        "Claim": "c",
                                        "MatchType": "Like",
                                        "Value": "v",
                                        "RoleARN": ROLE,
                                    }
                                ]
                            },
                        }
                    },
                ),
                "InvalidParameterException",
            ),
        ):
            assert (await refused(call()))[0] == code
        # Refused calls changed nothing.
        assert (await identity.get_identity_pool_roles(IdentityPoolId=pool))["RoleMappings"] == {
            key: rules
        }


# ----------------------------------------------------------------------------- create_update


async def test_create_update_maps_this_pools_providers_to_token_roles_and_keeps_the_rest(
    moto_server: MotoEmulator, faults: FaultInjector
) -> None:
    doc = document(unique(), 2)
    async with clients(moto_server) as (iam, cognito), identity_client(moto_server) as identity:
        user_pool, other_pool = await new_pool(cognito), await new_pool(cognito)
        pool = await identity_pool(
            identity, [(user_pool, "web"), (user_pool, "mobile"), (other_pool, "theirs")]
        )
        theirs = {
            "Type": "Rules",
            "AmbiguousRoleResolution": "AuthenticatedRole",
            "RulesConfiguration": {
                "Rules": [
                    {"Claim": "sub", "MatchType": "StartsWith", "Value": "x", "RoleARN": ROLE}
                ]
            },
        }
        await identity.set_identity_pool_roles(
            IdentityPoolId=pool,
            Roles={"authenticated": ROLE},
            RoleMappings={f"{provider(other_pool)}:theirs": theirs},
        )
        faults.reset()

        report = await create_update(
            doc, iam, cognito, user_pool, identity_pool_id=pool, identity_client=identity
        )

        token = {"Type": "Token", "AmbiguousRoleResolution": "Deny"}
        stored = await identity.get_identity_pool_roles(IdentityPoolId=pool)
        assert stored["Roles"] == {"authenticated": ROLE}
        assert stored["RoleMappings"] == {
            f"{provider(other_pool)}:theirs": theirs,
            f"{provider(user_pool)}:web": token,
            f"{provider(user_pool)}:mobile": token,
        }
        assert report.identity_pool is not None
        assert report.identity_pool.problem is None
        assert report.identity_pool.providers == (
            f"{provider(user_pool)}:web",
            f"{provider(user_pool)}:mobile",
        )
        assert [c.action for c in report.identity_pool.changes] == ["SetIdentityPoolRoles"]
        assert faults.actions(writes_only=True).count("SetIdentityPoolRoles") == 1
        assert report.to_dict()["identity_pool"]["changes"][0]["action"] == "SetIdentityPoolRoles"

        faults.reset()
        again = await create_update(
            doc, iam, cognito, user_pool, identity_pool_id=pool, identity_client=identity
        )
        assert faults.actions(writes_only=True) == []
        assert again.identity_pool is not None
        assert again.identity_pool.changes == ()

        # The other resolution is an option; a dry run plans it without writing.
        planned = await create_update(
            doc, iam, cognito, user_pool, identity_pool_id=pool, identity_client=identity,
            ambiguous_role_resolution="AuthenticatedRole", dry_run=True,
        )  # fmt: skip
        assert planned.identity_pool is not None
        assert [c.action for c in planned.identity_pool.changes] == ["SetIdentityPoolRoles"]
        assert faults.actions(writes_only=True) == []
        await create_update(
            doc, iam, cognito, user_pool, identity_pool_id=pool, identity_client=identity,
            ambiguous_role_resolution="AuthenticatedRole",
        )  # fmt: skip
        stored = await identity.get_identity_pool_roles(IdentityPoolId=pool)
        assert stored["RoleMappings"][f"{provider(user_pool)}:web"] == {
            "Type": "Token",
            "AmbiguousRoleResolution": "AuthenticatedRole",
        }
        assert stored["RoleMappings"][f"{provider(other_pool)}:theirs"] == theirs


async def test_an_identity_pool_without_this_user_pool_is_reported_and_left_alone(
    moto_server: MotoEmulator, faults: FaultInjector, caplog: pytest.LogCaptureFixture
) -> None:
    doc = document(unique(), 1)
    async with clients(moto_server) as (iam, cognito), identity_client(moto_server) as identity:
        user_pool, other_pool = await new_pool(cognito), await new_pool(cognito)
        pool = await identity_pool(identity, [(other_pool, "theirs")])
        before = await identity.describe_identity_pool(IdentityPoolId=pool)
        faults.reset()

        with caplog.at_level(logging.WARNING, logger="cognises"):
            report = await create_update(
                doc, iam, cognito, user_pool, identity_pool_id=pool, identity_client=identity
            )

        assert report.ok  # the groups converged; the pool's problem is reported beside them
        assert report.identity_pool is not None
        problem = report.identity_pool.problem or ""
        assert "does not list user pool" in problem
        assert user_pool in problem
        assert any(problem in r.getMessage() for r in caplog.records)
        assert "SetIdentityPoolRoles" not in faults.actions()
        assert "UpdateIdentityPool" not in faults.actions()
        after = await identity.describe_identity_pool(IdentityPoolId=pool)
        assert after["CognitoIdentityProviders"] == before["CognitoIdentityProviders"]

        missing = "us-east-1:00000000-0000-4000-8000-000000000000"
        report = await create_update(
            doc, iam, cognito, user_pool, identity_pool_id=missing, identity_client=identity
        )
        assert report.identity_pool is not None
        assert "ResourceNotFoundException" in (report.identity_pool.problem or "")


async def test_groups_sharing_a_precedence_are_warned_about(
    moto_server: MotoEmulator, caplog: pytest.LogCaptureFixture
) -> None:
    doc = document(unique(), 3)
    doc[0]["precedence"] = doc[1]["precedence"] = 5
    doc[2]["precedence"] = 6
    async with clients(moto_server) as (iam, cognito):
        pool_id = await new_pool(cognito)
        with caplog.at_level(logging.WARNING, logger="cognises"):
            report = await create_update(doc, iam, cognito, pool_id, dry_run=True)

    [warning] = report.warnings
    assert repr(doc[0]["group_name"]) in warning
    assert repr(doc[1]["group_name"]) in warning
    assert "precedence 5" in warning
    assert "cognito:preferred_role" in warning
    assert any(warning in r.getMessage() for r in caplog.records)
