"""The ``cognises`` command, run as a user would: a subprocess against the moto server."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from pathlib import Path

import boto3
import pytest
from provision_support import policy

from cognises.testing._cognito import create_pool, create_user, log_in
from cognises.testing._emulator import MotoEmulator

ROOT = Path(__file__).resolve().parents[1]


def cognises(*args: str, moto: MotoEmulator | None = None, stdin: str | None = None):
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(
        AWS_ACCESS_KEY_ID="testing", AWS_SECRET_ACCESS_KEY="testing", AWS_DEFAULT_REGION="us-east-1"
    )
    return subprocess.run(
        [sys.executable, "-m", "cognises", *args],
        capture_output=True,
        text=True,
        input=stdin,
        env=env,
        timeout=300,
        check=False,
    )


@pytest.fixture
def pool(moto_server):
    cognito = boto3.client("cognito-idp", **moto_server.client_kwargs())
    return create_pool(cognito, f"cli-{uuid.uuid4().hex[:6]}"), cognito


def _document(tmp_path: Path, prefix: str, count: int = 3) -> Path:
    doc = [
        {
            "group_name": f"{prefix}-g{i}",
            "group_policy": policy(f"{prefix}-g{i}"),
            "created": "false",
            "allowed_functions": ["view"],
        }
        for i in range(count)
    ]
    path = tmp_path / "groups.json"
    path.write_text(json.dumps(doc))
    return path


def test_provision_fresh_rerun_and_dry_run(moto_server, pool, tmp_path, faults):
    setup, cognito = pool
    prefix = f"c{uuid.uuid4().hex[:6]}"
    path = _document(tmp_path, prefix)
    common = ("--pool-id", setup.user_pool_id, "--endpoint-url", moto_server.endpoint)

    first = cognises("provision", str(path), *common, "--json")
    assert first.returncode == 0, first.stderr
    report = json.loads(first.stdout)
    assert report["counts"]["created"] == 3
    # Not a terminal: one plain progress line per group on stderr.
    assert sum(f"{prefix}-g" in line for line in first.stderr.splitlines()) >= 3
    listed = cognito.list_groups(UserPoolId=setup.user_pool_id)["Groups"]
    assert sorted(g["GroupName"] for g in listed) == [f"{prefix}-g{i}" for i in range(3)]

    faults.calls.clear()
    again = cognises("provision", str(path), *common)
    assert again.returncode == 0, again.stderr
    assert "3 unchanged" in again.stdout
    assert faults.actions(writes_only=True) == []

    doc = json.loads(path.read_text())
    doc[0]["group_policy"] = policy(f"{prefix}-g0", action="s3:PutObject")
    path.write_text(json.dumps(doc))
    faults.calls.clear()
    dry = cognises("provision", str(path), *common, "--dry-run", "--json")
    assert dry.returncode == 0, dry.stderr
    planned = json.loads(dry.stdout)
    assert planned["dry_run"] is True
    assert [c["action"] for c in planned["groups"][0]["changes"]] == ["PutRolePolicy"]
    assert faults.actions(writes_only=True) == []


def test_provision_invalid_document_exits_2_listing_every_problem(
    moto_server, pool, tmp_path, faults
):
    setup, _ = pool
    path = tmp_path / "bad.json"
    path.write_text(
        json.dumps(
            [
                {"group_name": "", "group_policy": {}, "created": "maybe", "allowed_functions": []},
                {"group_name": "x" * 200, "created": "false", "allowed_functions": "nope"},
            ]
        )
    )
    result = cognises(
        "provision",
        str(path),
        "--pool-id",
        setup.user_pool_id,
        "--endpoint-url",
        moto_server.endpoint,
    )
    assert result.returncode == 2
    assert "invalid input" in result.stderr
    assert "entry 0" in result.stderr
    assert "entry 1" in result.stderr
    assert faults.actions() == []


def test_provision_failure_exits_1(moto_server, tmp_path):
    path = _document(tmp_path, f"f{uuid.uuid4().hex[:6]}", count=1)
    result = cognises(
        "provision",
        str(path),
        "--pool-id",
        "us-east-1_nosuchpool",
        "--endpoint-url",
        moto_server.endpoint,
    )
    assert result.returncode in (1, 2)
    assert "nosuchpool" in result.stderr


def test_verify_prints_claims_or_the_reason(moto_server, pool):
    setup, cognito = pool
    create_user(cognito, setup, "vera", groups=["readers"])
    tokens = log_in(cognito, setup, "vera")
    common = (
        "--pool-id", setup.user_pool_id, "--region", "us-east-1",
        "--client-id", setup.client_id, "--jwks-url", moto_server.jwks_url(setup.user_pool_id),
    )  # fmt: skip

    ok = cognises("verify", tokens["IdToken"], *common, "--token-use", "id")
    assert ok.returncode == 0, ok.stderr
    claims = json.loads(ok.stdout)
    assert claims["cognito:username"] == "vera"
    assert claims["cognito:groups"] == ["readers"]

    from_stdin = cognises("verify", "-", *common, stdin=tokens["AccessToken"] + "\n")
    assert from_stdin.returncode == 0, from_stdin.stderr
    assert json.loads(from_stdin.stdout)["token_use"] == "access"

    wrong_use = cognises("verify", tokens["AccessToken"], *common, "--token-use", "id")
    assert wrong_use.returncode == 1
    assert "InvalidTokenUseError" in wrong_use.stderr
    assert tokens["AccessToken"] not in wrong_use.stderr

    garbage = cognises("verify", "not-a-token", *common)
    assert garbage.returncode == 1
    assert "MalformedTokenError" in garbage.stderr


def test_users_add_list_remove(moto_server, pool):
    setup, cognito = pool
    cognito.create_group(GroupName="crew", UserPoolId=setup.user_pool_id)
    for name in ("ann", "ben"):
        create_user(cognito, setup, name)
    common = ("--pool-id", setup.user_pool_id, "--endpoint-url", moto_server.endpoint)

    added = cognises("users", "add", "crew", "ann", "ben", *common)
    assert added.returncode == 0, added.stderr
    assert "ann: added to crew" in added.stdout
    listed = cognises("users", "list", "crew", *common, "--json")
    assert sorted(json.loads(listed.stdout)) == ["ann", "ben"]
    groups = cognises("users", "list", "--user", "ben", *common)
    assert groups.stdout.split() == ["crew"]
    removed = cognises("users", "remove", "crew", "ben", *common)
    assert removed.returncode == 0, removed.stderr
    assert cognises("users", "list", "crew", *common).stdout.split() == ["ann"]
    failed = cognises("users", "add", "no-such-group", "ann", *common)
    assert failed.returncode == 1
    assert "ann: failed" in failed.stdout


def test_demo_runs_end_to_end_and_exits_0():
    result = subprocess.run(
        [sys.executable, "-m", "cognises", "demo"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "every answer was the expected one" in result.stdout
    assert "UNEXPECTED" not in result.stdout
    for status in ("200", "401", "403"):
        assert status in result.stdout


def test_provision_adopt_identity_pool_and_rate_summary(moto_server, pool, tmp_path, faults):
    setup, _ = pool
    prefix = f"c{uuid.uuid4().hex[:6]}"
    path = _document(tmp_path, prefix, count=2)
    doc = json.loads(path.read_text())
    doc[0]["role_name"] = f"role_{prefix}-g0"  # the seed's name, made by the seed: untagged
    path.write_text(json.dumps(doc))
    iam = boto3.client("iam", **moto_server.client_kwargs())
    iam.create_role(RoleName=f"role_{prefix}-g0", AssumeRolePolicyDocument="{}")
    identity = boto3.client("cognito-identity", **moto_server.client_kwargs())
    identity_pool = identity.create_identity_pool(
        IdentityPoolName=f"cli{prefix}",
        AllowUnauthenticatedIdentities=False,
        CognitoIdentityProviders=[
            {
                "ProviderName": f"cognito-idp.us-east-1.amazonaws.com/{setup.user_pool_id}",
                "ClientId": setup.client_id,
            }
        ],
    )["IdentityPoolId"]
    common = (
        "--pool-id", setup.user_pool_id, "--endpoint-url", moto_server.endpoint,
        "--identity-pool-id", identity_pool,
    )  # fmt: skip

    refused = cognises("provision", str(path), *common)
    assert refused.returncode == 1
    assert "--adopt" in refused.stdout
    assert f"role_{prefix}-g0" in refused.stdout

    adopted = cognises("provision", str(path), *common, "--adopt")
    assert adopted.returncode == 0, adopted.stdout + adopted.stderr
    assert "rate: " in adopted.stdout
    assert "calls throttled" in adopted.stdout
    assert f"identity pool {identity_pool}" in adopted.stdout
    mapping = identity.get_identity_pool_roles(IdentityPoolId=identity_pool)["RoleMappings"]
    key = f"cognito-idp.us-east-1.amazonaws.com/{setup.user_pool_id}:{setup.client_id}"
    assert mapping == {key: {"Type": "Token", "AmbiguousRoleResolution": "Deny"}}
    tags = iam.list_role_tags(RoleName=f"role_{prefix}-g0")["Tags"]
    assert {"Key": "cognises:user-pool-id", "Value": setup.user_pool_id} in tags

    helped = cognises("provision", "--help")
    for option in ("--adopt", "--prune", "--permissions-boundary", "--role-path"):
        assert option in helped.stdout
