"""The provisioner's IAM policy in docs/provisioner-policy.md covers every AWS action the
provisioning code makes, as the emulator's action log records them in a full run."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from provision_support import (
    clients,
    document,
    identity_client,
    identity_pool,
    new_pool,
    role_of,
    unique,
)

from cognises.aio import create_update, delete_groups
from cognises.testing._emulator import FaultInjector, MotoEmulator

pytestmark = pytest.mark.anyio

ROOT = Path(__file__).resolve().parents[1]
POLICY_DOC = ROOT / "docs" / "provisioner-policy.md"
STAR = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


def documented_policy() -> dict[str, Any]:
    text = POLICY_DOC.read_text(encoding="utf-8")
    [block] = re.findall(r"```json\n(.*?)```", text, flags=re.DOTALL)
    policy: dict[str, Any] = json.loads(block)
    return policy


def test_the_readme_links_the_policy_and_it_is_least_privilege() -> None:
    assert "docs/provisioner-policy.md" in (ROOT / "README.md").read_text(encoding="utf-8")
    statements = documented_policy()["Statement"]
    for statement in statements:
        actions = statement["Action"]
        assert all("*" not in action for action in actions), actions
        assert statement["Resource"] != "*"
        iam_writes = [
            a for a in actions if a.startswith("iam:") and not a.startswith(("iam:Get", "iam:List"))
        ]
        if iam_writes:
            assert statement["Resource"] == "arn:aws:iam::ACCOUNT_ID:role/cognises/*"
            assert "USER_POOL_ID" in json.dumps(statement["Condition"])
        if any(a.startswith("cognito-idp:") for a in actions):
            assert statement["Resource"].endswith(":userpool/USER_POOL_ID")


async def test_every_action_of_a_full_run_is_in_the_documented_policy(
    moto_server: MotoEmulator, faults: FaultInjector
) -> None:
    allowed = {a for s in documented_policy()["Statement"] for a in s["Action"]}
    used: set[str] = set()

    def record() -> None:
        used.update(f"{c.service}:{c.action}" for c in faults.calls if c.service != "other")
        faults.reset()

    doc = document(unique(), 3)
    async with clients(moto_server) as (iam, cognito), identity_client(moto_server) as identity:
        user_pool = await new_pool(cognito)
        pool = await identity_pool(identity, [(user_pool, "web")])
        boundary = (
            await iam.create_policy(PolicyName=f"b{unique()}", PolicyDocument=json.dumps(STAR))
        )["Policy"]["Arn"]
        seed_role = f"role_{doc[2]['group_name']}"
        await iam.create_role(RoleName=seed_role, AssumeRolePolicyDocument="{}")
        doc[2]["role_name"] = seed_role
        options: dict[str, Any] = {"identity_pool_id": pool, "identity_client": identity}
        faults.reset()

        # Create (one group's role is the seed's: adopted), with a boundary.
        await create_update(
            doc, iam, cognito, user_pool, adopt=True, permissions_boundary=boundary, **options
        )
        record()
        # Drift out of band, then a plan, then a prune (the boundary is not asked for now).
        role = role_of(user_pool, doc[0]["group_name"])
        await iam.put_role_policy(
            RoleName=role, PolicyName="extra", PolicyDocument=json.dumps(STAR)
        )
        await iam.attach_role_policy(RoleName=role, PolicyArn=boundary)
        doc[1]["precedence"] = 3
        faults.reset()
        await create_update(doc, iam, cognito, user_pool, dry_run=True, **options)
        await create_update(doc, iam, cognito, user_pool, prune=True, **options)
        await create_update(doc, iam, cognito, user_pool, permissions_boundary=boundary, **options)
        record()
        # And away again.
        await delete_groups([e["group_name"] for e in doc], iam, cognito, user_pool)
        record()

    prefixes = {"iam": "iam", "cognito-idp": "cognito-idp", "cognito-identity": "cognito-identity"}
    assert {a.split(":")[0] for a in used} <= set(prefixes)
    missing = used - allowed
    assert not missing, f"actions the code made that the documented policy lacks: {missing}"
    # The run did exercise each kind of call the policy is about.
    for action in (
        "iam:CreateRole", "iam:TagRole", "iam:PutRolePolicy", "iam:DeleteRolePolicy",
        "iam:DetachRolePolicy", "iam:DeleteRolePermissionsBoundary",
        "iam:PutRolePermissionsBoundary", "iam:DeleteRole", "cognito-idp:UpdateGroup",
        "cognito-identity:SetIdentityPoolRoles",
    ):  # fmt: skip
        assert action in used, action
