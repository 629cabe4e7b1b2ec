"""create_update and delete_groups against a real moto server, over HTTP, through aioboto3."""

from __future__ import annotations

import asyncio
import copy
import json
import logging
import os
import threading
from collections import Counter
from pathlib import Path
from typing import Any

import aioboto3
import anyio
import pytest
from botocore.exceptions import ClientError
from provision_support import (
    FAST_RETRY,
    assert_converged,
    clients,
    document,
    new_pool,
    policy,
    pool_groups,
    role_of,
    roles_with_prefix,
    unique,
)

from cognises._report import ProgressEvent
from cognises.aio import (
    GroupOutcome,
    ProvisioningReport,
    aws_clients,
    create_update,
    delete_groups,
)
from cognises.aio._clients import DEFAULT_POOL_CONNECTIONS
from cognises.aio._provision import trust_policy
from cognises.errors import ConfigurationError, GroupDetailError, ProvisioningError
from cognises.testing._emulator import Call, FaultInjector, MotoEmulator

pytestmark = pytest.mark.anyio

IDENTITY_POOL = "us-east-1:0a1b2c3d-0000-4000-8000-123456789abc"


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


async def test_100_groups_from_scratch_then_a_rerun_writes_nothing(
    moto_server: MotoEmulator, faults: FaultInjector
) -> None:
    prefix = unique()
    doc = document(prefix, 100)
    async with clients(moto_server) as (iam, cognito):
        pool_id = await new_pool(cognito)
        faults.reset()

        report = await create_update(
            doc, iam, cognito, pool_id, identity_pool_id=IDENTITY_POOL, retry=FAST_RETRY
        )

        assert report.counts["created"] == 100
        assert report.ok
        assert all(
            g.role_arn and g.role_arn.endswith(f"/cognises/{role_of(pool_id, g.group_name)}")
            for g in report.groups
        )
        # Exactly one role, one policy and one group per entry: nothing read twice, no retries.
        writes = Counter(faults.actions(writes_only=True))
        assert writes == {"CreateRole": 100, "PutRolePolicy": 100, "CreateGroup": 100}
        assert [entry["created"] for entry in doc] == ["true"] * 100
        await assert_converged(iam, cognito, pool_id, doc, prefix)

        faults.reset()
        again = await create_update(
            doc, iam, cognito, pool_id, identity_pool_id=IDENTITY_POOL, retry=FAST_RETRY
        )

        assert faults.actions(writes_only=True) == []
        assert again.counts["unchanged"] == 100
        assert again.changes == ()


async def test_a_changed_policy_writes_only_that_policy(
    moto_server: MotoEmulator, faults: FaultInjector
) -> None:
    prefix = unique()
    doc = document(prefix, 5)
    async with clients(moto_server) as (iam, cognito):
        pool_id = await new_pool(cognito)
        await create_update(doc, iam, cognito, pool_id, identity_pool_id=IDENTITY_POOL)
        changed = doc[2]["group_name"]
        doc[2]["group_policy"] = policy(changed, action="s3:PutObject")
        faults.reset()

        report = await create_update(doc, iam, cognito, pool_id, identity_pool_id=IDENTITY_POOL)

        assert faults.actions(writes_only=True) == ["PutRolePolicy"]
        assert report[changed].outcome is GroupOutcome.UPDATED
        assert [c.action for c in report[changed].changes] == ["PutRolePolicy"]
        assert report.counts["unchanged"] == 4
        stored = await iam.get_role_policy(
            RoleName=role_of(pool_id, changed), PolicyName=f"{changed}_policy"
        )
        assert stored["PolicyDocument"]["Statement"][0]["Action"] == "s3:PutObject"


async def test_30_percent_throttled_calls_all_groups_still_converge(
    moto_server: MotoEmulator, faults: FaultInjector
) -> None:
    prefix = unique()
    doc = document(prefix, 40)
    async with clients(moto_server) as (iam, cognito):
        pool_id = await new_pool(cognito)
        faults.reset(throttle_rate=0.3)

        report = await create_update(
            doc, iam, cognito, pool_id, identity_pool_id=IDENTITY_POOL, retry=FAST_RETRY
        )

        throttled = [c for c in faults.calls if c.throttled]
        faults.throttle_rate = 0.0
        assert report.ok
        assert report.counts["created"] == 40
        assert len(throttled) > 20, "the fault injector did not throttle"
        assert {c.service for c in throttled} == {"iam", "cognito-idp"}
        # Every successful write happened once: retries repeat only refused calls.
        writes = Counter(faults.actions(writes_only=True))
        assert writes == {"CreateRole": 40, "PutRolePolicy": 40, "CreateGroup": 40}
        await assert_converged(iam, cognito, pool_id, doc, prefix)


async def test_throttling_beyond_the_retry_bound_fails_the_group_with_the_code(
    moto_server: MotoEmulator, faults: FaultInjector
) -> None:
    prefix = unique()
    doc = document(prefix, 2)
    async with clients(moto_server) as (iam, cognito):
        pool_id = await new_pool(cognito)
        await create_update(doc, iam, cognito, pool_id, identity_pool_id=IDENTITY_POOL)
        faults.reset(throttle_rate=1.0)

        with pytest.raises(ProvisioningError) as info:
            await create_update(
                doc, iam, cognito, pool_id, identity_pool_id=IDENTITY_POOL, retry=FAST_RETRY
            )

        calls = faults.actions(include_throttled=True)
        faults.throttle_rate = 0.0
        report = info.value.report
        assert isinstance(report, ProvisioningReport)
        assert [g.error_code for g in report.failed] == ["TooManyRequestsException"] * 2
        assert "ListGroups" in (report.failed[0].error or "")
        assert calls == ["ListGroups"] * FAST_RETRY.max_attempts


async def test_cancelled_half_way_a_rerun_finishes_without_orphans(
    moto_server: MotoEmulator, faults: FaultInjector, tmp_path: Path
) -> None:
    prefix = unique()
    doc = document(prefix, 40)
    state = tmp_path / "state.json"
    loop = asyncio.get_running_loop()
    scope = anyio.CancelScope()
    lock = threading.Lock()
    policies_seen = 0

    def cancel_at_the_20th_policy(call: Call) -> None:
        # Runs in the server's thread, before the call is served: when the 20th
        # PutRolePolicy arrives, its group has a role but no Cognito group yet.
        nonlocal policies_seen
        with lock:
            if call.action == "PutRolePolicy":
                policies_seen += 1
                if policies_seen == 20:
                    loop.call_soon_threadsafe(scope.cancel)

    async with clients(moto_server) as (iam, cognito):
        pool_id = await new_pool(cognito)
        faults.on_call = cancel_at_the_20th_policy

        with scope:
            await create_update(
                doc, iam, cognito, pool_id, identity_pool_id=IDENTITY_POOL, state_path=state
            )

        faults.on_call = None
        assert scope.cancelled_caught
        groups = await pool_groups(cognito, pool_id)
        roles = await roles_with_prefix(iam, prefix)
        assert 0 < len(groups) < 40
        roles_without_group = set(roles) - {role_of(pool_id, name) for name in groups}
        assert roles_without_group, "the cancel should have struck between a role and its group"
        # The flags written on the way out name exactly the groups that exist.
        saved = json.loads(state.read_text())
        assert {e["group_name"] for e in saved if e["created"] == "true"} <= set(groups)
        assert {e["group_name"] for e in doc if e["created"] == "true"} <= set(groups)

        faults.reset()
        report = await create_update(
            doc, iam, cognito, pool_id, identity_pool_id=IDENTITY_POOL, state_path=state
        )

        assert report.ok
        await assert_converged(iam, cognito, pool_id, doc, prefix)
        # Roles left by the cancelled run were adopted, not created twice.
        adopted = [
            g for g in report.groups if role_of(pool_id, g.group_name) in roles_without_group
        ]
        assert adopted
        assert all("CreateRole" not in [c.action for c in g.changes] for g in adopted)
        assert all(g.outcome is GroupOutcome.CREATED for g in adopted)
        assert [e["created"] for e in json.loads(state.read_text())] == ["true"] * 40


async def test_an_invalid_document_lists_every_problem_and_calls_nothing(
    moto_server: MotoEmulator, faults: FaultInjector
) -> None:
    prefix = unique()
    doc: list[Any] = document(prefix, 6)
    del doc[0]["group_policy"]
    doc[1]["group_name"] = doc[2]["group_name"]
    doc[3]["created"] = "yes"
    doc[4]["role_name"] = "r" * 65  # over IAM's 64 (derived names are hashed to fit)
    doc[5]["group_policy"] = {"Version": "2012-10-17"}
    doc.append("not an object")
    async with clients(moto_server) as (iam, cognito):
        with pytest.raises(GroupDetailError) as info:
            await create_update(doc, iam, cognito, "us-east-1_Abc123")

    assert faults.actions(include_throttled=True) == []
    problems = info.value.problems
    assert len(problems) == 6
    assert problems[0].startswith(f"entry 0 ('{prefix}-g000'): group_policy")
    assert problems[1] == (
        f"entry 2 ('{prefix}-g002'): group_name: expected a unique name, "
        "found it already used by entry 1"
    )
    assert problems[2].startswith(f"entry 3 ('{prefix}-g003'): created")
    assert problems[3].startswith(f"entry 4 ('{prefix}-g004'): role_name")
    assert "64" in problems[3]
    assert problems[4].startswith(f"entry 5 ('{prefix}-g005'): group_policy.Statement")
    assert problems[5].startswith("entry 6: expected an object")
    assert all(entry.get("created", "false") != "true" for entry in doc if isinstance(entry, dict))


async def test_string_and_bool_flags_both_work_and_keep_their_type(
    moto_server: MotoEmulator, faults: FaultInjector
) -> None:
    prefix = unique()
    doc = document(prefix, 4)
    flags: list[Any] = ["false", False, "true", True]
    for entry, flag in zip(doc, flags, strict=True):
        entry["created"] = flag
    async with clients(moto_server) as (iam, cognito):
        pool_id = await new_pool(cognito)

        # "created": true for groups that do not exist is a stale flag: converge anyway.
        report = await create_update(doc, iam, cognito, pool_id, identity_pool_id=IDENTITY_POOL)

        assert report.counts["created"] == 4
        assert [e["created"] for e in doc] == ["true", True, "true", True]
        assert [type(e["created"]) for e in doc] == [str, bool, str, bool]
        await assert_converged(iam, cognito, pool_id, doc, prefix)


async def test_a_dry_run_plans_changes_and_writes_nothing(
    moto_server: MotoEmulator, faults: FaultInjector
) -> None:
    prefix = unique()
    doc = document(prefix, 3)
    async with clients(moto_server) as (iam, cognito):
        pool_id = await new_pool(cognito)
        faults.reset()

        planned = await create_update(
            doc, iam, cognito, pool_id, identity_pool_id=IDENTITY_POOL, dry_run=True
        )

        assert faults.actions(writes_only=True) == []
        assert planned.dry_run
        assert planned.counts["created"] == 3
        assert [c.action for c in planned[doc[0]["group_name"]].changes] == [
            "CreateRole",
            "PutRolePolicy",
            "CreateGroup",
        ]
        assert [e["created"] for e in doc] == ["false"] * 3
        assert await pool_groups(cognito, pool_id) == {}

        await create_update(doc, iam, cognito, pool_id, identity_pool_id=IDENTITY_POOL)
        before = copy.deepcopy(doc)
        name = doc[1]["group_name"]
        doc[1]["group_policy"] = policy(name, action="s3:ListBucket")
        doc[1]["precedence"] = 7
        faults.reset()

        planned = await create_update(
            doc, iam, cognito, pool_id, identity_pool_id=IDENTITY_POOL, dry_run=True
        )

        assert faults.actions(writes_only=True) == []
        assert planned[name].outcome is GroupOutcome.UPDATED
        assert [(c.action, c.target) for c in planned[name].changes] == [
            ("PutRolePolicy", f"{role_of(pool_id, name)}/{name}_policy"),
            ("UpdateGroup", name),
        ]
        assert "Precedence: None -> 7" in planned[name].changes[1].detail
        assert planned.counts["unchanged"] == 2
        assert doc[0] == before[0]


async def test_delete_groups_removes_group_then_policy_then_role(
    moto_server: MotoEmulator, faults: FaultInjector
) -> None:
    prefix = unique()
    doc = document(prefix, 3)
    names = [e["group_name"] for e in doc]
    async with clients(moto_server) as (iam, cognito):
        pool_id = await new_pool(cognito)
        await create_update(doc, iam, cognito, pool_id, identity_pool_id=IDENTITY_POOL)
        faults.reset()

        report = await delete_groups(names[:2], iam, cognito, pool_id)

        assert report.counts["deleted"] == 2
        assert [c.action for c in report[names[0]].changes] == [
            "DeleteGroup",
            "DeleteRolePolicy",
            "DeleteRole",
        ]
        assert Counter(faults.actions(writes_only=True)) == {
            "DeleteGroup": 2,
            "DeleteRolePolicy": 2,
            "DeleteRole": 2,
        }
        assert set(await pool_groups(cognito, pool_id)) == {names[2]}
        assert set(await roles_with_prefix(iam, prefix)) == {role_of(pool_id, names[2])}

        faults.reset()
        again = await delete_groups(names[:2], iam, cognito, pool_id)

        assert again.counts["unchanged"] == 2
        assert faults.actions(writes_only=True) == []


async def test_state_path_is_written_atomically_and_the_input_file_is_left_alone(
    moto_server: MotoEmulator,
    faults: FaultInjector,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    prefix = unique()
    source = tmp_path / "group_detail.json"
    source.write_text(json.dumps(document(prefix, 3)))
    original = source.read_text()
    state = tmp_path / "state" / "groups.json"
    state.parent.mkdir()
    work = tmp_path / "cwd"
    work.mkdir()
    monkeypatch.chdir(work)
    replaced: list[tuple[str, str]] = []
    real_replace = os.replace

    def spy(src: Any, dst: Any) -> None:
        replaced.append((os.fspath(src), os.fspath(dst)))
        real_replace(src, dst)

    monkeypatch.setattr(os, "replace", spy)
    async with clients(moto_server) as (iam, cognito):
        pool_id = await new_pool(cognito)

        await create_update(
            source, iam, cognito, pool_id, identity_pool_id=IDENTITY_POOL, state_path=state
        )

    [(temp, target)] = replaced
    assert Path(target) == state
    assert Path(temp).parent == state.parent, "the temp file must be on the target's file system"
    assert sorted(p.name for p in state.parent.iterdir()) == ["groups.json"]
    saved = json.loads(state.read_text())
    assert [e["created"] for e in saved] == ["true"] * 3
    assert saved[0]["group_policy"] == policy(f"{prefix}-g000")
    assert source.read_text() == original
    assert list(work.iterdir()) == []


async def test_configuration_is_checked_before_any_call(
    moto_server: MotoEmulator, faults: FaultInjector, tmp_path: Path
) -> None:
    doc = document(unique(), 1)
    async with clients(moto_server) as (iam, cognito):
        with pytest.raises(ConfigurationError, match="cognito_pool_id: expected the user pool id"):
            await create_update(doc, iam, cognito)
        with pytest.raises(ConfigurationError, match="found 'us-east-1:0a1b"):
            await create_update(doc, iam, cognito, IDENTITY_POOL)
        with pytest.raises(ConfigurationError, match="identity_pool_id"):
            await create_update(doc, iam, cognito, "us-east-1_Abc", identity_pool_id="nope")
        with pytest.raises(ConfigurationError, match="concurrency"):
            await create_update(doc, iam, cognito, "us-east-1_Abc", concurrency=0)
        with pytest.raises(ConfigurationError, match="state_path: expected a file in an existing"):
            await create_update(
                doc, iam, cognito, "us-east-1_Abc", state_path=tmp_path / "no" / "state.json"
            )
        assert faults.actions(include_throttled=True) == []

        with pytest.raises(ConfigurationError, match="expected an existing user pool"):
            await create_update(doc, iam, cognito, "us-east-1_Missing1")
        assert faults.actions(include_throttled=True) == ["ListGroups"]


async def test_trust_policy_names_the_identity_pool_or_warns_once(
    moto_server: MotoEmulator, faults: FaultInjector, caplog: pytest.LogCaptureFixture
) -> None:
    prefix = unique()
    doc = document(prefix, 2)
    async with clients(moto_server) as (iam, cognito):
        pool_id = await new_pool(cognito)
        role = role_of(pool_id, doc[0]["group_name"])

        with caplog.at_level(logging.WARNING, logger="cognises"):
            await create_update(doc, iam, cognito, pool_id)
        stored = (await iam.get_role(RoleName=role))["Role"]["AssumeRolePolicyDocument"]

        warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
        assert len(warnings) == 1
        assert "identity_pool_id" in warnings[0].getMessage()
        assert pool_id in warnings[0].getMessage()
        assert stored == trust_policy(pool_id)
        statement = stored["Statement"][0]
        assert statement["Principal"] == {"Federated": "cognito-identity.amazonaws.com"}
        assert statement["Action"] == "sts:AssumeRoleWithWebIdentity"
        assert statement["Condition"] == {
            "StringEquals": {"cognito-identity.amazonaws.com:aud": pool_id},
            "ForAnyValue:StringLike": {"cognito-identity.amazonaws.com:amr": "authenticated"},
        }

        caplog.clear()
        faults.reset()
        with caplog.at_level(logging.WARNING, logger="cognises"):
            report = await create_update(doc, iam, cognito, pool_id, identity_pool_id=IDENTITY_POOL)
        stored = (await iam.get_role(RoleName=role))["Role"]["AssumeRolePolicyDocument"]

        # (No identity-pool client was given: only that is warned about.)
        assert [
            r for r in caplog.records
            if r.levelno >= logging.WARNING and "identity pool" not in r.getMessage()
        ] == []  # fmt: skip
        assert stored["Statement"][0]["Condition"]["StringEquals"] == {
            "cognito-identity.amazonaws.com:aud": IDENTITY_POOL
        }
        assert faults.actions(writes_only=True) == ["UpdateAssumeRolePolicy"] * 2
        assert report.counts["updated"] == 2


class _FailingIAM:
    """The real client, except that PutRolePolicy is refused for one role."""

    def __init__(self, real: Any, role_name: str) -> None:
        self._real = real
        self._role_name = role_name

    def __getattr__(self, name: str) -> Any:
        return getattr(self._real, name)

    async def put_role_policy(self, **params: Any) -> dict[str, Any]:
        if params["RoleName"] == self._role_name:
            error = {"Error": {"Code": "AccessDenied", "Message": "not allowed"}}
            raise ClientError(error, "PutRolePolicy")  # type: ignore[arg-type]
        result: dict[str, Any] = await self._real.put_role_policy(**params)
        return result


async def test_one_group_failing_does_not_stop_the_others_and_a_rerun_finishes(
    moto_server: MotoEmulator, faults: FaultInjector, tmp_path: Path
) -> None:
    prefix = unique()
    doc = document(prefix, 6)
    bad = doc[3]["group_name"]
    async with clients(moto_server) as (iam, cognito):
        pool_id = await new_pool(cognito)

        with pytest.raises(ProvisioningError) as info:
            await create_update(
                doc,
                _FailingIAM(iam, role_of(pool_id, bad)),
                cognito,
                pool_id,
                identity_pool_id=IDENTITY_POOL,
                state_path=tmp_path / "state.json",
            )

        report = info.value.report
        assert isinstance(report, ProvisioningReport)
        [failed] = report.failed
        assert failed.group_name == bad
        assert failed.error_code == "AccessDenied"
        assert failed.error is not None
        assert bad in failed.error
        assert "PutRolePolicy" in failed.error
        assert [c.action for c in failed.changes] == ["CreateRole"]
        assert report.counts["created"] == 5
        assert bad in str(info.value)
        assert [e["created"] for e in doc] == ["true"] * 3 + ["false"] + ["true"] * 2
        assert json.loads((tmp_path / "state.json").read_text()) == doc
        assert report.to_dict()["groups"][3]["error_code"] == "AccessDenied"

        again = await create_update(doc, iam, cognito, pool_id, identity_pool_id=IDENTITY_POOL)

        assert again[bad].outcome is GroupOutcome.CREATED
        assert again.counts["unchanged"] == 5
        await assert_converged(iam, cognito, pool_id, doc, prefix)


class _SlowRoleCognito:
    """The real client, except that CreateGroup first refuses the role, like Cognito does
    while IAM has not yet propagated a new role."""

    def __init__(self, real: Any, refusals: int) -> None:
        self._real = real
        self.refusals = refusals
        self.attempts = 0

    def __getattr__(self, name: str) -> Any:
        return getattr(self._real, name)

    async def create_group(self, **params: Any) -> dict[str, Any]:
        self.attempts += 1
        if self.attempts <= self.refusals:
            message = f"Role {params['RoleArn']} is not valid or not found"
            error = {"Error": {"Code": "InvalidParameterException", "Message": message}}
            raise ClientError(error, "CreateGroup")  # type: ignore[arg-type]
        result: dict[str, Any] = await self._real.create_group(**params)
        return result


async def test_a_new_role_that_has_not_propagated_is_retried(
    moto_server: MotoEmulator, faults: FaultInjector
) -> None:
    prefix = unique()
    doc = document(prefix, 1)
    async with clients(moto_server) as (iam, cognito):
        pool_id = await new_pool(cognito)
        slow = _SlowRoleCognito(cognito, refusals=3)

        report = await create_update(
            doc, iam, slow, pool_id, identity_pool_id=IDENTITY_POOL, retry=FAST_RETRY
        )

        assert report.ok
        assert slow.attempts == 4
        await assert_converged(iam, cognito, pool_id, doc, prefix)


async def test_report_to_dict_is_json_and_progress_is_reported(
    moto_server: MotoEmulator, faults: FaultInjector
) -> None:
    doc = document(unique(), 2)
    events: list[ProgressEvent] = []
    async with clients(moto_server) as (iam, cognito):
        pool_id = await new_pool(cognito)
        report = await create_update(
            doc, iam, cognito, pool_id, identity_pool_id=IDENTITY_POOL, on_progress=events.append
        )

    for group in report.groups:
        mine = [e for e in events if e.group_name == group.group_name]
        assert [e.step for e in mine] == ["role", "policy", "group", "done"]
        assert mine[-1].report == group

    data = json.loads(json.dumps(report.to_dict()))
    assert data["ok"] is True
    assert data["counts"]["created"] == 2
    assert data["groups"][0]["outcome"] == "created"
    assert data["groups"][0]["changes"][0] == {
        "action": "CreateRole",
        "target": role_of(pool_id, doc[0]["group_name"]),
        "detail": "role does not exist",
    }
    assert report.summary() == "2 group(s): 2 created"


async def test_aws_clients_makes_both_clients_with_a_pool_sized_for_concurrency(
    moto_server: MotoEmulator, faults: FaultInjector
) -> None:
    session = aioboto3.Session(
        region_name=moto_server.region, aws_access_key_id="testing", aws_secret_access_key="testing"
    )

    async with aws_clients(session, endpoint_url=moto_server.endpoint) as (iam, cognito):
        assert iam.meta.service_model.service_name == "iam"
        assert cognito.meta.service_model.service_name == "cognito-idp"
        assert iam.meta.config.max_pool_connections == DEFAULT_POOL_CONNECTIONS
        assert cognito.meta.endpoint_url == moto_server.endpoint
        pool_id = await new_pool(cognito)
        await iam.list_roles(MaxItems=1)

    assert faults.actions() == ["CreateUserPool", "ListRoles"]
    assert pool_id.startswith(f"{moto_server.region}_")
