"""The blocking provisioning API, the seed's way: boto3 clients against a moto server."""

from __future__ import annotations

import json as stdlib_json
import os
import uuid

import boto3
import pytest
from flask import json  # the seed loaded its document with Flask's json
from provision_support import policy

from cognises import ConfigurationError, ProvisioningError, create_update, sync
from cognises._groupdetail import default_role_name
from cognises.testing._emulator import MotoEmulator


def _boto3_clients(moto_server: MotoEmulator):
    return (
        boto3.client("iam", **moto_server.client_kwargs()),
        boto3.client("cognito-idp", **moto_server.client_kwargs()),
    )


def _seed_document(prefix: str) -> list[dict]:
    return [
        {
            "group_name": f"{prefix}Group1",
            "group_policy": policy("Group1", action="cognito-idp:*"),
            "created": "false",
            "allowed_functions": ["protected", "admin_panel", "update_data"],
        },
        {
            "group_name": f"{prefix}String",
            "group_policy": policy("String", action="cognito-idp:*"),
            "created": "false",
            "allowed_functions": ["public", "view_data"],
        },
    ]


# The seed's example leaves its file open; that warning is the seed's, not ours.
@pytest.mark.filterwarnings("ignore::ResourceWarning")
@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
def test_the_seed_readme_example_runs_with_boto3_clients(moto_server, tmp_path, monkeypatch):
    prefix = f"s{uuid.uuid4().hex[:6]}"
    iam_client, cognito_client = _boto3_clients(moto_server)
    pool_id = cognito_client.create_user_pool(PoolName=prefix)["UserPool"]["Id"]
    script_dir = tmp_path
    (script_dir / "group_detail.json").write_text(stdlib_json.dumps(_seed_document(prefix)))
    monkeypatch.chdir(tmp_path)
    before = sorted(os.listdir(tmp_path))

    # The seed README, section 1, from here on:
    file_name = "group_detail.json"
    abs_file_path = os.path.join(script_dir, file_name)
    data = json.load(open(abs_file_path))  # noqa: SIM115 - as the seed wrote it

    create_update(data, iam_client, cognito_client, pool_id)

    groups = cognito_client.list_groups(UserPoolId=pool_id)["Groups"]
    assert {g["GroupName"] for g in groups} == {f"{prefix}Group1", f"{prefix}String"}
    for group in groups:
        role = iam_client.get_role(RoleName=default_role_name(pool_id, group["GroupName"]))["Role"]
        assert group["RoleArn"] == role["Arn"]
    assert [entry["created"] for entry in data] == ["true", "true"]  # still strings
    assert sorted(os.listdir(tmp_path)) == before  # no group_detail.json written here

    # Safe to re-run: nothing left to do.
    report = create_update(data, iam_client, cognito_client, pool_id)
    assert report.counts["unchanged"] == 2


def test_sync_membership_and_listing_with_boto3(moto_server):
    _, cognito_client = _boto3_clients(moto_server)
    pool_id = cognito_client.create_user_pool(PoolName="members")["UserPool"]["Id"]
    cognito_client.create_group(GroupName="crew", UserPoolId=pool_id)
    for name in ("ann", "ben", "cat"):
        cognito_client.admin_create_user(UserPoolId=pool_id, Username=name)

    report = sync.add_users_to_group("crew", ["ann", "ben", "cat"], cognito_client, pool_id)
    assert sorted(report.succeeded) == ["ann", "ben", "cat"]
    users = sync.list_users_in_group("crew", cognito_client, pool_id)
    assert isinstance(users, list)
    assert sorted(u["Username"] for u in users) == ["ann", "ben", "cat"]
    assert [g["GroupName"] for g in sync.list_groups_for_user("ben", cognito_client, pool_id)] == [
        "crew"
    ]
    sync.remove_users_from_group("crew", ["ben"], cognito_client, pool_id)
    remaining = sync.list_users_in_group("crew", cognito_client, pool_id)
    assert sorted(u["Username"] for u in remaining) == ["ann", "cat"]
    assert [g["GroupName"] for g in sync.list_groups(cognito_client, pool_id)] == ["crew"]


def test_failures_surface_as_provisioning_error_with_the_report(moto_server):
    _, cognito_client = _boto3_clients(moto_server)
    pool_id = cognito_client.create_user_pool(PoolName="failing")["UserPool"]["Id"]
    with pytest.raises(ProvisioningError) as info:
        sync.add_users_to_group("no-such-group", ["ghost"], cognito_client, pool_id)
    assert not info.value.report.ok
    assert info.value.report.failed[0].username == "ghost"


def test_no_clients_means_the_default_aws_configuration(moto_server, monkeypatch):
    _, cognito_client = _boto3_clients(moto_server)
    pool_id = cognito_client.create_user_pool(PoolName="defaults")["UserPool"]["Id"]
    cognito_client.create_group(GroupName="from-env", UserPoolId=pool_id)
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto_server.endpoint)
    monkeypatch.setenv("AWS_DEFAULT_REGION", moto_server.region)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    assert [g["GroupName"] for g in sync.list_groups(None, pool_id)] == ["from-env"]

    prefix = f"d{uuid.uuid4().hex[:6]}"
    report = create_update(_seed_document(prefix), None, None, pool_id)
    assert report.counts["created"] == 2


def _no_aws_configuration(monkeypatch, tmp_path):
    # Nothing to find anywhere, and no instance metadata service to ask (not loopback).
    for name in list(os.environ):
        if name.startswith("AWS_"):
            monkeypatch.delenv(name)
    empty = tmp_path / "empty-aws-config"
    empty.write_text("")
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(empty))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(empty))
    monkeypatch.setenv("HOME", str(tmp_path))


def test_default_clients_without_a_region_say_what_to_set(monkeypatch, tmp_path):
    _no_aws_configuration(monkeypatch, tmp_path)

    with pytest.raises(ConfigurationError, match=r"^AWS region: expected one \(--region") as info:
        sync.list_groups(None, "us-east-1_Abc123")
    assert type(info.value.__cause__).__name__ == "NoRegionError"

    monkeypatch.setenv("AWS_PROFILE", "nope")
    with pytest.raises(ConfigurationError, match=r"AWS profile: .* found 'nope'"):
        create_update(_seed_document("p"), None, None, "us-east-1_Abc123")


def test_a_call_without_credentials_fails_saying_what_to_set(moto_server, monkeypatch, tmp_path):
    _no_aws_configuration(monkeypatch, tmp_path)
    iam = boto3.client("iam", region_name="us-east-1", endpoint_url=moto_server.endpoint)
    cognito = boto3.client(
        "cognito-idp", region_name="us-east-1", endpoint_url=moto_server.endpoint
    )

    with pytest.raises(ProvisioningError) as info:
        create_update(_seed_document("c"), iam, cognito, "us-east-1_Abc123")

    for group in info.value.report.groups:
        assert group.error == (
            f"group {group.group_name!r}: ListGroups failed with no error code: AWS "
            "credentials: expected them from AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, "
            "AWS_PROFILE, ~/.aws/credentials or an instance role, found none"
        )


def test_setup_error_words_botocores_configuration_errors_and_nothing_else():
    from botocore import exceptions as botocore_errors

    from cognises.aio._aws import setup_error

    cases = {
        botocore_errors.NoRegionError(): "AWS region: expected one",
        botocore_errors.InvalidRegionError(region_name="x/y"): "AWS region: expected a region",
        botocore_errors.NoCredentialsError(): "AWS credentials: expected them from AWS_ACC",
        botocore_errors.PartialCredentialsError(provider="env", cred_var="AWS_X"): "AWS cred",
        botocore_errors.CredentialRetrievalError(provider="p", error_msg="m"): "AWS credentials",
        botocore_errors.ProfileNotFound(profile="nope"): "AWS profile: expected one defined",
        botocore_errors.UnauthorizedSSOTokenError(): "AWS SSO login: expected a valid session",
        botocore_errors.ConfigParseError(path="/x"): "AWS configuration: expected readable",
    }
    for exc, start in cases.items():
        error = setup_error(exc)
        assert isinstance(error, ConfigurationError), exc
        assert str(error).startswith(start), error
    for other in (
        botocore_errors.EndpointConnectionError(endpoint_url="http://127.0.0.1:1"),
        botocore_errors.ClientError({"Error": {"Code": "NoSuchEntity"}}, "GetRole"),
        ValueError("NoRegionError"),
    ):
        assert setup_error(other) is None
