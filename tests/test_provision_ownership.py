"""Provisioning on a shared account: cognises changes and deletes only the roles it owns.

Each test here is one of issue 13's reproductions (or the rule that mends it), against a
real moto server over HTTP, with other people's roles in the account beside ours.
"""

from __future__ import annotations

import contextlib
import json
from collections import Counter
from typing import Any

import pytest
from provision_support import FAST_RETRY, clients, document, new_pool, pool_groups, role_of, unique

from cognises._groupdetail import default_role_name, validate_group_detail
from cognises._groupfields import ROLE_NAME_MAX
from cognises.aio import GroupOutcome, create_update, delete_groups
from cognises.aio._roles import GROUP_TAG, POOL_TAG
from cognises.errors import ConfigurationError, ProvisioningError
from cognises.testing._emulator import FaultInjector, MotoEmulator

pytestmark = pytest.mark.anyio

IDENTITY_POOL = "us-east-1:0a1b2c3d-0000-4000-8000-123456789abc"
OTHER_IDENTITY_POOL = "us-east-1:0a1b2c3d-0000-4000-8000-cba987654321"
# moto does not load AWS's managed policies: an account-made one stands in for them.
ADMIN = "arn:aws:iam::123456789012:policy/AdministratorAccess"
LAMBDA_TRUST = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Allow",
            "Principal": {"Service": "lambda.amazonaws.com"},
            "Action": "sts:AssumeRole",
        }
    ],
}
STAR = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


async def _ensure_admin_policy(iam: Any) -> None:
    with contextlib.suppress(iam.exceptions.EntityAlreadyExistsException):
        await iam.create_policy(PolicyName="AdministratorAccess", PolicyDocument=json.dumps(STAR))


async def _foreign_role(iam: Any, name: str, *, tags: list[dict[str, str]] | None = None) -> str:
    """A role someone else made: Lambda's trust, a `*:*` inline policy, AdministratorAccess."""
    await _ensure_admin_policy(iam)
    role = await iam.create_role(
        RoleName=name, AssumeRolePolicyDocument=json.dumps(LAMBDA_TRUST), Tags=tags or []
    )
    await iam.put_role_policy(RoleName=name, PolicyName="backdoor", PolicyDocument=json.dumps(STAR))
    await iam.attach_role_policy(RoleName=name, PolicyArn=ADMIN)
    arn: str = role["Role"]["Arn"]
    return arn


async def _untouched(iam: Any, name: str) -> None:
    role = (await iam.get_role(RoleName=name))["Role"]
    assert role["AssumeRolePolicyDocument"] == LAMBDA_TRUST
    assert not set(_tags(role)) & {POOL_TAG, GROUP_TAG}
    assert (await iam.list_role_policies(RoleName=name))["PolicyNames"] == ["backdoor"]
    attached = (await iam.list_attached_role_policies(RoleName=name))["AttachedPolicies"]
    assert [p["PolicyArn"] for p in attached] == [ADMIN]


def _tags(role: dict[str, Any]) -> dict[str, str]:
    return {t["Key"]: t["Value"] for t in role.get("Tags", [])}


# ---------------------------------------------------------------------------- names, tags, path


def test_default_role_names_are_per_pool_deterministic_and_fit_iam() -> None:
    assert default_role_name("us-east-1_AbC123", "admins") == "us-east-1_AbC123-admins"
    assert default_role_name("us-east-1_AbC123", "admins") != default_role_name(
        "eu-west-1_Other9", "admins"
    )
    long_name = default_role_name("us-east-1_AbC123", "g" * 128)
    accented = default_role_name("us-east-1_AbC123", "équipe")
    for name in (long_name, accented):
        assert len(name) <= ROLE_NAME_MAX
        assert all(c.isascii() and (c.isalnum() or c in "+=,.@_-") for c in name)
    assert long_name == default_role_name("us-east-1_AbC123", "g" * 128)
    assert long_name != default_role_name("us-east-1_AbC123", "g" * 127)
    assert accented != default_role_name("us-east-1_AbC123", "quipe")
    # A role_name in the document still wins.
    entry = document("d", 1)[0] | {"role_name": "mine"}
    [spec] = validate_group_detail([entry], pool_id="us-east-1_AbC123")
    assert spec.role_name == "mine"


async def test_new_roles_carry_the_pool_and_group_tags_under_the_cognises_path(
    moto_server: MotoEmulator, faults: FaultInjector
) -> None:
    doc = document(unique(), 2)
    async with clients(moto_server) as (iam, cognito):
        pool_id = await new_pool(cognito)
        faults.reset()
        await create_update(doc, iam, cognito, pool_id, identity_pool_id=IDENTITY_POOL)

        assert Counter(faults.actions(writes_only=True))["CreateRole"] == 2
        for entry in doc:
            role = (await iam.get_role(RoleName=role_of(pool_id, entry["group_name"])))["Role"]
            assert role["Path"] == "/cognises/"
            assert _tags(role) == {POOL_TAG: pool_id, GROUP_TAG: entry["group_name"]}


async def test_bad_role_path_or_boundary_is_refused_before_any_call(
    moto_server: MotoEmulator, faults: FaultInjector
) -> None:
    async with clients(moto_server) as (iam, cognito):
        for options, word in (
            ({"role_path": "cognises"}, "role_path"),
            ({"permissions_boundary": "boundary"}, "permissions_boundary"),
            ({"ambiguous_role_resolution": "Allow"}, "ambiguous_role_resolution"),
        ):
            faults.reset()
            with pytest.raises(ConfigurationError, match=word):
                await create_update(document("x", 1), iam, cognito, "us-east-1_Abc123", **options)
            assert faults.actions(include_throttled=True) == []


# --------------------------------------------------------------------------- §1 reproductions


async def test_an_existing_untagged_role_with_extra_power_is_refused_then_adopted_and_pruned(
    moto_server: MotoEmulator, faults: FaultInjector
) -> None:
    # Reproduction 1: role_editors with a `*:*` inline policy and AdministratorAccess.
    doc = document(unique(), 1)
    name = doc[0]["group_name"]
    role_name = f"role_{name}"
    doc[0]["role_name"] = role_name
    async with clients(moto_server) as (iam, cognito):
        pool_id = await new_pool(cognito)
        await _foreign_role(iam, role_name)
        faults.reset()

        with pytest.raises(ProvisioningError) as info:
            await create_update(doc, iam, cognito, pool_id, identity_pool_id=IDENTITY_POOL)

        error = info.value.report[name].error or ""
        assert role_name in error
        assert "no cognises tags" in error
        assert "adopt=True" in error
        # Only the CreateRole that IAM refused (the name was taken): nothing changed.
        assert faults.actions(writes_only=True) == ["CreateRole"]
        await _untouched(iam, role_name)
        assert name not in await pool_groups(cognito, pool_id)

        # adopt: tagged, converged, and the extra power is named, not kept silently.
        report = await create_update(
            doc, iam, cognito, pool_id, identity_pool_id=IDENTITY_POOL, adopt=True
        )
        group = report[name]
        assert [c.action for c in group.changes] == [
            "TagRole",
            "UpdateAssumeRolePolicy",
            "PutRolePolicy",
            "CreateGroup",
        ]
        assert group.drift == (
            "inline policy 'backdoor' not in the document",
            f"managed policy {ADMIN} attached",
        )
        assert report.to_dict()["groups"][0]["drift"] == list(group.drift)
        role = (await iam.get_role(RoleName=role_name))["Role"]
        assert _tags(role) == {POOL_TAG: pool_id, GROUP_TAG: name}

        # The plan names the drift too; prune removes it.
        faults.reset()
        planned = await create_update(
            doc, iam, cognito, pool_id, identity_pool_id=IDENTITY_POOL, dry_run=True
        )
        assert planned[name].drift == group.drift
        pruned = await create_update(
            doc, iam, cognito, pool_id, identity_pool_id=IDENTITY_POOL, prune=True
        )
        assert [c.action for c in pruned[name].changes] == ["DeleteRolePolicy", "DetachRolePolicy"]
        assert pruned[name].drift == ()
        assert (await iam.list_role_policies(RoleName=role_name))["PolicyNames"] == [
            f"{name}_policy"
        ]
        assert (await iam.list_attached_role_policies(RoleName=role_name))["AttachedPolicies"] == []


async def test_another_services_role_named_in_the_document_keeps_its_trust_policy(
    moto_server: MotoEmulator, faults: FaultInjector
) -> None:
    # Reproduction 2: role_name "ci-deploy", another service's admin role.
    doc = document(unique(), 2)
    ci = f"ci-deploy-{unique()}"
    doc[0]["role_name"] = ci
    async with clients(moto_server) as (iam, cognito):
        pool_id = await new_pool(cognito)
        await _foreign_role(iam, ci, tags=[{"Key": "team", "Value": "ci"}])
        faults.reset()

        with pytest.raises(ProvisioningError) as info:
            await create_update(doc, iam, cognito, pool_id, identity_pool_id=IDENTITY_POOL)

        report = info.value.report
        assert [g.group_name for g in report.failed] == [doc[0]["group_name"]]
        assert report[doc[1]["group_name"]].outcome is GroupOutcome.CREATED
        assert repr(ci) in (report.failed[0].error or "")
        await _untouched(iam, ci)
        written = {a for a in faults.actions(writes_only=True)}
        assert "UpdateAssumeRolePolicy" not in written
        assert "TagRole" not in written


async def test_two_pools_in_one_account_never_share_a_role(
    moto_server: MotoEmulator, faults: FaultInjector
) -> None:
    # Reproduction 3: prod and staging both had role_admins; each run flipped it.
    prefix = unique()
    prod_doc, staging_doc = document(prefix, 2), document(prefix, 2)
    async with clients(moto_server) as (iam, cognito):
        prod, staging = await new_pool(cognito), await new_pool(cognito)
        await create_update(prod_doc, iam, cognito, prod, identity_pool_id=IDENTITY_POOL)
        await create_update(
            staging_doc, iam, cognito, staging, identity_pool_id=OTHER_IDENTITY_POOL
        )
        faults.reset()

        again = await create_update(prod_doc, iam, cognito, prod, identity_pool_id=IDENTITY_POOL)

        assert faults.actions(writes_only=True) == []
        assert again.counts["unchanged"] == 2
        for entry in prod_doc:
            name = entry["group_name"]
            assert role_of(prod, name) != role_of(staging, name)
            prod_role = (await iam.get_role(RoleName=role_of(prod, name)))["Role"]
            staging_role = (await iam.get_role(RoleName=role_of(staging, name)))["Role"]
            aud = "cognito-identity.amazonaws.com:aud"
            condition = prod_role["AssumeRolePolicyDocument"]["Statement"][0]["Condition"]
            assert condition["StringEquals"][aud] == IDENTITY_POOL
            condition = staging_role["AssumeRolePolicyDocument"]["Statement"][0]["Condition"]
            assert condition["StringEquals"][aud] == OTHER_IDENTITY_POOL

        # Pointing staging at prod's role by name is refused, naming the owner.
        staging_doc[0]["role_name"] = role_of(prod, prod_doc[0]["group_name"])
        with pytest.raises(ProvisioningError) as info:
            await create_update(
                staging_doc, iam, cognito, staging, identity_pool_id=OTHER_IDENTITY_POOL
            )
        assert f"{POOL_TAG}={prod!r}" in (info.value.report.failed[0].error or "")


async def test_delete_groups_leaves_a_role_that_is_not_tagged_for_the_group(
    moto_server: MotoEmulator, faults: FaultInjector
) -> None:
    # Reproduction 4: delete_groups deleted role_payments, a Lambda's role.
    name = f"payments{unique()}"
    async with clients(moto_server) as (iam, cognito):
        pool_id = await new_pool(cognito)
        await _foreign_role(iam, f"role_{name}")
        faults.reset()

        report = await delete_groups([name], iam, cognito, pool_id)

        assert report[name].outcome is GroupOutcome.UNCHANGED
        assert faults.actions(writes_only=True) == []
        await _untouched(iam, f"role_{name}")

        # Named explicitly, it is still not deleted: the group fails and says why.
        with pytest.raises(ProvisioningError) as info:
            await delete_groups([name], iam, cognito, pool_id, role_names={name: f"role_{name}"})
        error = info.value.report[name].error or ""
        assert f"role_{name}" in error
        assert "not deleted" in error
        assert faults.actions(writes_only=True) == []
        await _untouched(iam, f"role_{name}")


async def test_delete_groups_deletes_our_role_with_whatever_was_attached_to_it(
    moto_server: MotoEmulator, faults: FaultInjector
) -> None:
    doc = document(unique(), 1)
    name = doc[0]["group_name"]
    async with clients(moto_server) as (iam, cognito):
        pool_id = await new_pool(cognito)
        await create_update(doc, iam, cognito, pool_id, identity_pool_id=IDENTITY_POOL)
        await _ensure_admin_policy(iam)
        await iam.attach_role_policy(RoleName=role_of(pool_id, name), PolicyArn=ADMIN)
        faults.reset()

        report = await delete_groups([name], iam, cognito, pool_id)

        assert [c.action for c in report[name].changes] == [
            "DeleteGroup",
            "DeleteRolePolicy",
            "DetachRolePolicy",
            "DeleteRole",
        ]
        roles = [r["RoleName"] async for r in _all_roles(iam)]
        assert role_of(pool_id, name) not in roles


async def _all_roles(iam: Any) -> Any:
    async for page in iam.get_paginator("list_roles").paginate():
        for role in page["Roles"]:
            yield role


# ------------------------------------------------------------------ seed roles, interrupted runs


async def test_a_group_still_on_the_seeds_role_needs_adopt(
    moto_server: MotoEmulator, faults: FaultInjector
) -> None:
    doc = document(unique(), 1)
    name = doc[0]["group_name"]
    legacy = f"role_{name}"
    async with clients(moto_server) as (iam, cognito):
        pool_id = await new_pool(cognito)
        # What the seed (and cognises before roles were tagged) left: role_<group>, untagged.
        role = await iam.create_role(RoleName=legacy, AssumeRolePolicyDocument=json.dumps({}))
        await cognito.create_group(GroupName=name, UserPoolId=pool_id, RoleArn=role["Role"]["Arn"])
        faults.reset()

        with pytest.raises(ProvisioningError) as info:
            await create_update(doc, iam, cognito, pool_id, identity_pool_id=IDENTITY_POOL)
        assert "adopt=True" in (info.value.report[name].error or "")
        assert info.value.report[name].role_name == legacy
        assert faults.actions(writes_only=True) == []

        report = await create_update(
            doc, iam, cognito, pool_id, identity_pool_id=IDENTITY_POOL, adopt=True
        )
        assert report[name].role_name == legacy
        assert report[name].role_arn == role["Role"]["Arn"]
        assert _tags((await iam.get_role(RoleName=legacy))["Role"])[POOL_TAG] == pool_id
        # No second role was made beside it.
        assert role_of(pool_id, name) not in [r["RoleName"] async for r in _all_roles(iam)]


async def test_a_role_left_by_an_interrupted_run_is_ours_without_adopt(
    moto_server: MotoEmulator, faults: FaultInjector
) -> None:
    doc = document(unique(), 1)
    name = doc[0]["group_name"]
    async with clients(moto_server) as (iam, cognito):
        pool_id = await new_pool(cognito)
        # The interrupted run got as far as CreateRole, which sets the tags.
        await iam.create_role(
            RoleName=role_of(pool_id, name),
            Path="/cognises/",
            AssumeRolePolicyDocument=json.dumps({}),
            Tags=[{"Key": POOL_TAG, "Value": pool_id}, {"Key": GROUP_TAG, "Value": name}],
        )
        faults.reset()

        report = await create_update(
            doc, iam, cognito, pool_id, identity_pool_id=IDENTITY_POOL, retry=FAST_RETRY
        )

        assert report[name].outcome is GroupOutcome.CREATED
        assert [c.action for c in report[name].changes] == [
            "UpdateAssumeRolePolicy",
            "PutRolePolicy",
            "CreateGroup",
        ]


async def test_a_role_tagged_for_another_group_of_the_same_pool_is_refused(
    moto_server: MotoEmulator, faults: FaultInjector
) -> None:
    doc = document(unique(), 2)
    first, second = (e["group_name"] for e in doc)
    async with clients(moto_server) as (iam, cognito):
        pool_id = await new_pool(cognito)
        await create_update(doc[:1], iam, cognito, pool_id, identity_pool_id=IDENTITY_POOL)
        doc[1]["role_name"] = role_of(pool_id, first)
        faults.reset()

        with pytest.raises(ProvisioningError) as info:
            await create_update(doc[1:], iam, cognito, pool_id, identity_pool_id=IDENTITY_POOL)
        assert f"{GROUP_TAG}={first!r}" in (info.value.report[second].error or "")
        # Only the CreateRole that IAM refused (the name was taken): nothing changed.
        assert faults.actions(writes_only=True) == ["CreateRole"]


# ---------------------------------------------------------------------- drift, prune, boundary


async def test_drift_on_a_managed_role_is_reported_and_pruned_and_the_boundary_kept(
    moto_server: MotoEmulator, faults: FaultInjector
) -> None:
    doc = document(unique(), 1)
    name = doc[0]["group_name"]
    async with clients(moto_server) as (iam, cognito):
        pool_id = await new_pool(cognito)
        boundary = (
            await iam.create_policy(
                PolicyName=f"boundary{unique()}", PolicyDocument=json.dumps(STAR)
            )
        )["Policy"]["Arn"]
        other = (
            await iam.create_policy(PolicyName=f"other{unique()}", PolicyDocument=json.dumps(STAR))
        )["Policy"]["Arn"]
        await create_update(
            doc,
            iam,
            cognito,
            pool_id,
            identity_pool_id=IDENTITY_POOL,
            permissions_boundary=boundary,
        )
        role_name = role_of(pool_id, name)
        role = (await iam.get_role(RoleName=role_name))["Role"]
        assert role["PermissionsBoundary"]["PermissionsBoundaryArn"] == boundary

        # Out of band: an extra inline policy, an attached policy, another boundary.
        await iam.put_role_policy(
            RoleName=role_name, PolicyName="extra", PolicyDocument=json.dumps(STAR)
        )
        await _ensure_admin_policy(iam)
        await iam.attach_role_policy(RoleName=role_name, PolicyArn=ADMIN)
        await iam.put_role_permissions_boundary(RoleName=role_name, PermissionsBoundary=other)
        faults.reset()

        report = await create_update(doc, iam, cognito, pool_id, identity_pool_id=IDENTITY_POOL)
        assert report[name].drift == (
            f"permissions boundary {other} (none asked for)",
            "inline policy 'extra' not in the document",
            f"managed policy {ADMIN} attached",
        )
        assert faults.actions(writes_only=True) == []

        report = await create_update(
            doc, iam, cognito, pool_id, identity_pool_id=IDENTITY_POOL,
            permissions_boundary=boundary, prune=True,
        )  # fmt: skip
        assert [c.action for c in report[name].changes] == [
            "PutRolePermissionsBoundary",
            "DeleteRolePolicy",
            "DetachRolePolicy",
        ]
        role = (await iam.get_role(RoleName=role_name))["Role"]
        assert role["PermissionsBoundary"]["PermissionsBoundaryArn"] == boundary
        faults.reset()
        again = await create_update(
            doc,
            iam,
            cognito,
            pool_id,
            identity_pool_id=IDENTITY_POOL,
            permissions_boundary=boundary,
        )
        assert again[name].drift == ()
        assert faults.actions(writes_only=True) == []


async def test_a_group_name_iam_refuses_in_tags_is_tagged_by_its_hash(
    moto_server: MotoEmulator, faults: FaultInjector
) -> None:
    # IAM names (and so the group's policy name) allow a comma; IAM tag values do not.
    doc = document(unique(), 1)
    name = doc[0]["group_name"] = f"{unique()},staff"
    async with clients(moto_server) as (iam, cognito):
        pool_id = await new_pool(cognito)
        await create_update(doc, iam, cognito, pool_id, identity_pool_id=IDENTITY_POOL)
        role_name = role_of(pool_id, name)
        assert len(role_name) <= ROLE_NAME_MAX
        tag = _tags((await iam.get_role(RoleName=role_name))["Role"])[GROUP_TAG]
        assert tag.startswith("sha256:")
        faults.reset()

        again = await create_update(doc, iam, cognito, pool_id, identity_pool_id=IDENTITY_POOL)

        assert again[name].outcome is GroupOutcome.UNCHANGED
        assert faults.actions(writes_only=True) == []
