"""The ``cognises`` command, run as a user would: a subprocess against the moto server."""

from __future__ import annotations

import json
import os
import re
import socket
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


TESTING_AWS = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
}


def cognises(
    *args: str,
    moto: MotoEmulator | None = None,
    stdin: str | None = None,
    aws: dict[str, str] = TESTING_AWS,
    python: tuple[str, ...] = ("-m", "cognises"),
):
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(aws)
    return subprocess.run(
        [sys.executable, *python, *args],
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
    # One stream: the steps and the summary are on stdout with the table, and nothing but
    # warnings would reach stderr (no server log without -v).
    for step in ("1.", "3.", "5.", "group(s):"):
        assert step in result.stdout
    assert "GET /" not in result.stderr
    # A user's own AWS credentials, for their group's role, used to call AWS.
    assert re.search(r"assumed-role/us-east-1_\w+-admins/", result.stdout), result.stdout
    assert result.stderr.strip() == "", result.stderr


def _no_aws_configuration(home: Path, **extra: str) -> dict[str, str]:
    """An environment with no AWS configuration at all, that never looks beyond loopback:
    botocore would otherwise ask the instance metadata service (169.254.169.254)."""
    empty = home / "empty-aws-config"
    empty.write_text("")
    return {
        "AWS_EC2_METADATA_DISABLED": "true",
        "AWS_CONFIG_FILE": str(empty),
        "AWS_SHARED_CREDENTIALS_FILE": str(empty),
        "HOME": str(home),
        **extra,
    }


def test_missing_aws_configuration_is_one_line_saying_what_to_set(moto_server, tmp_path, faults):
    path = _document(tmp_path, f"n{uuid.uuid4().hex[:6]}", count=1)
    commands = [
        ("provision", str(path), "--pool-id", "us-east-1_Abc123"),
        ("users", "list", "--pool-id", "us-east-1_Abc123"),
        ("users", "add", "crew", "ann", "--pool-id", "us-east-1_Abc123"),
    ]
    keys = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}
    cases = [
        ({}, "invalid input: AWS region: expected one (--region on the command line, "
             "AWS_DEFAULT_REGION, or region in ~/.aws/config), found none"),
        ({**keys, "AWS_PROFILE": "nope"}, "invalid input: AWS profile: expected one defined in "
         "~/.aws/config or ~/.aws/credentials, found 'nope': set AWS_PROFILE to a defined profile"),
        ({"AWS_DEFAULT_REGION": "us-east-1"}, "invalid input: AWS credentials: expected them "
         "from AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, AWS_PROFILE, ~/.aws/credentials or "
         "an instance role, found none"),
        ({"AWS_DEFAULT_REGION": "us-east-1", "AWS_ACCESS_KEY_ID": "testing"}, "invalid input: "
         "AWS credentials: expected a complete set, found Partial credentials found in env, "
         "missing: AWS_SECRET_ACCESS_KEY"),
    ]  # fmt: skip
    for extra, expected in cases:
        aws = _no_aws_configuration(tmp_path, **extra)
        for command in commands:
            result = cognises(*command, "--endpoint-url", moto_server.endpoint, aws=aws)
            assert (result.returncode, result.stderr) == (2, expected + "\n"), command
    assert faults.actions(include_throttled=True) == []


BLOCKED_MAIN = """
import importlib.abc, sys

class Block(importlib.abc.MetaPathFinder):
    # An install without some extras: their packages cannot be imported.
    def find_spec(self, name, path=None, target=None):
        top = name.split(".")[0]
        if top in {blocked!r}:
            raise ModuleNotFoundError(f"No module named {{top!r}}", name=top)
        return None

sys.meta_path.insert(0, Block())
from cognises.cli import main
raise SystemExit(main())
"""
AWS_EXTRA = ("boto3", "botocore", "aioboto3", "aiobotocore")


def test_without_the_aws_extra_the_aws_commands_say_which_extra_to_install(tmp_path):
    path = _document(tmp_path, "base", count=1)
    expected = (
        "invalid input: this command needs boto3, which is not installed: "
        "pip install 'cognises[aws]'\n"
    )
    for command in (
        ("provision", str(path), "--pool-id", "us-east-1_Abc123"),
        ("users", "list", "--pool-id", "us-east-1_Abc123"),
    ):
        result = cognises(*command, python=("-c", BLOCKED_MAIN.format(blocked=AWS_EXTRA)))
        assert (result.returncode, result.stderr) == (2, expected), command


def test_without_the_cli_extra_provision_reports_in_plain_lines(moto_server, pool, tmp_path):
    setup, _ = pool
    prefix = f"r{uuid.uuid4().hex[:6]}"
    path = _document(tmp_path, prefix, count=2)

    result = cognises(
        "provision", str(path), "--pool-id", setup.user_pool_id,
        "--endpoint-url", moto_server.endpoint,
        python=("-c", BLOCKED_MAIN.format(blocked=("rich",))),
    )  # fmt: skip

    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert [line.split(":")[0] for line in lines[:2]] == [f"{prefix}-g0", f"{prefix}-g1"]
    assert all(": created arn:aws:iam::" in line for line in lines[:2])
    assert lines[2:] == ["2 group(s): 2 created"]


def test_version_comes_from_one_place():
    import cognises as package

    result = cognises("--version")

    assert (result.returncode, result.stdout) == (0, f"cognises {package.__version__}\n")
    pyproject = (ROOT / "pyproject.toml").read_text()
    assert 'dynamic = ["version"]' in pyproject
    assert 'version = { attr = "cognises.__version__" }' in pyproject


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_verify_without_keys_exits_3_and_says_so_once(moto_server, pool):
    setup, cognito = pool
    create_user(cognito, setup, "kim")
    token = log_in(cognito, setup, "kim")["IdToken"]
    jwks_url = f"http://127.0.0.1:{_closed_port()}/jwks.json"
    common = ("--pool-id", setup.user_pool_id, "--region", "us-east-1",
              "--client-id", setup.client_id, "--jwks-url", jwks_url)  # fmt: skip

    plain = cognises("verify", token, *common)
    as_json = cognises("verify", token, *common, "--json")

    assert plain.returncode == 3
    assert plain.stdout == ""
    assert plain.stderr.startswith("keys unavailable: ")
    assert plain.stderr.count(jwks_url) == 1, plain.stderr
    assert len(plain.stderr.splitlines()) == 1
    assert as_json.returncode == 3
    assert as_json.stderr == ""
    error = json.loads(as_json.stdout)
    assert error["exit_code"] == 3
    assert error["error"]["kind"] == "keys unavailable"
    assert error["error"]["type"] == "JWKSError"
    assert jwks_url in error["error"]["message"]
    assert token not in as_json.stdout + plain.stderr

    helptext = cognises("verify", "--help").stdout
    assert "3 when the pool's keys could not be fetched" in " ".join(helptext.split())


def test_verify_json_reports_rejections_and_invalid_input_as_json(moto_server, pool):
    setup, cognito = pool
    create_user(cognito, setup, "lee")
    tokens = log_in(cognito, setup, "lee")
    common = ("--pool-id", setup.user_pool_id, "--region", "us-east-1",
              "--jwks-url", moto_server.jwks_url(setup.user_pool_id))  # fmt: skip

    rejected = cognises(
        "verify", tokens["AccessToken"], *common, "--client-id", setup.client_id,
        "--token-use", "id", "--json",
    )  # fmt: skip
    invalid = cognises("verify", tokens["IdToken"], *common, "--client-id", "", "--json")

    assert rejected.returncode == 1
    assert rejected.stderr == ""
    assert json.loads(rejected.stdout) == {
        "error": {
            "kind": "rejected",
            "type": "InvalidTokenUseError",
            "message": json.loads(rejected.stdout)["error"]["message"],
        },
        "exit_code": 1,
    }
    assert "token_use" in json.loads(rejected.stdout)["error"]["message"]
    assert tokens["AccessToken"] not in rejected.stdout
    assert invalid.returncode == 2
    error = json.loads(invalid.stdout)
    assert (error["exit_code"], error["error"]["kind"]) == (2, "invalid input")
    assert error["error"]["type"] == "ConfigurationError"


def test_provision_json_reports_an_invalid_document_as_json(tmp_path):
    path = tmp_path / "groups.json"
    path.write_text('[{"group_name": "g"}]')

    result = cognises("provision", str(path), "--pool-id", "us-east-1_Abc123", "--json")

    assert result.returncode == 2
    error = json.loads(result.stdout)
    assert error["error"]["type"] == "GroupDetailError"
    assert (
        "entry 0 ('g'): group_policy: expected a value, found none (missing field)"
        in (error["error"]["problems"])
    )


def test_provision_refuses_a_deep_document_or_a_bad_state_file_before_any_call(
    moto_server, pool, tmp_path, faults
):
    setup, _ = pool
    common = ("--pool-id", setup.user_pool_id, "--endpoint-url", moto_server.endpoint)
    deep = tmp_path / "deep.json"
    deep.write_text('[{"group_name": "g", "group_policy": ' + "[" * 5000 + "]" * 5000 + "}]")
    good = _document(tmp_path, f"s{uuid.uuid4().hex[:6]}", count=1)

    nested = cognises("provision", str(deep), *common)
    directory = cognises("provision", str(good), *common, "--state-file", str(tmp_path))
    missing = cognises(
        "provision", str(good), *common, "--state-file", str(tmp_path / "no" / "s.json")
    )

    assert nested.returncode == 2
    assert "expected at most 32 levels of nesting" in nested.stderr
    assert "Traceback" not in nested.stderr
    assert directory.returncode == 2
    assert f"state_path: expected a file, found the directory {str(tmp_path)!r}" in (
        directory.stderr
    )
    assert missing.returncode == 2
    assert "state_path: expected a file in an existing directory" in missing.stderr
    assert faults.actions(include_throttled=True) == []


def test_demo_with_a_missing_examples_folder_exits_2(tmp_path):
    result = cognises("demo", "--examples", str(tmp_path / "nowhere"))

    assert result.returncode == 2
    assert result.stderr.startswith(
        "invalid input: --examples: expected a folder holding app.py and group_detail.json"
    )


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


def test_verify_prints_deeply_nested_claims_of_a_valid_token_without_a_traceback(moto_server, pool):
    import base64

    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import padding
    from joserfc.jwk import RSAKey

    from cognises.cli._demo import _moto_private_jwk

    setup, cognito = pool
    create_user(cognito, setup, "deb")
    head, body, _ = log_in(cognito, setup, "deb")["IdToken"].split(".")
    claims = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    key = RSAKey.import_key(_moto_private_jwk()).private_key
    common = (
        "--pool-id", setup.user_pool_id, "--region", "us-east-1",
        "--client-id", setup.client_id, "--jwks-url", moto_server.jwks_url(setup.user_pool_id),
    )  # fmt: skip
    for depth, expected in ((100, 0), (1000, 1)):
        # Written out by hand: json itself recurses once per level.
        signed = json.dumps(claims)[:-1] + ', "custom:deep": ' + "[" * depth + "]" * depth + "}"
        payload = base64.urlsafe_b64encode(signed.encode()).rstrip(b"=").decode()
        signature = key.sign(f"{head}.{payload}".encode(), padding.PKCS1v15(), hashes.SHA256())  # type: ignore[union-attr, call-arg]
        token = f"{head}.{payload}." + base64.urlsafe_b64encode(signature).rstrip(b"=").decode()
        result = cognises("verify", token, *common)
        assert result.returncode == expected, result.stderr
        assert "Traceback" not in result.stderr
        if expected == 0:
            assert json.loads(result.stdout)["cognito:username"] == "deb"
        else:
            assert result.stderr.count("\n") == 1
            assert "valid, but its claims cannot be printed" in result.stderr
