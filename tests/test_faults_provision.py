"""Provisioning against a real moto server that refuses, denies and hangs up.

An ``ErrorInjector`` (tests/fault_support.py) sits between the session's ``FaultInjector``
and moto, and answers chosen calls with the error AWS really returns: invalid credentials,
access denied, a malformed policy document; or drops the connection without an answer,
before or after moto has made the change. Each fault must end in a ``ProvisioningError``
whose report names the failed group and the AWS error code (or the transport error), the
other groups must converge all the same, and a re-run without the fault must finish.

The last tests SIGKILL a provisioning run while it writes the state file, at three points
of the write, and check the file is always a whole document: the old one or the new one.
"""

from __future__ import annotations

import json
import logging
import signal
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import aioboto3
import pytest
from fault_support import KILL_POINT, ErrorInjector, Rule, cognito_error, iam_error
from provision_support import (
    NO_BOTOCORE_RETRIES,
    assert_converged,
    clients,
    document,
    new_pool,
    pool_groups,
    role_of,
    unique,
)

from cognises.aio import GroupOutcome, ProvisioningReport, aws_clients, create_update
from cognises.errors import GroupDetailError, ProvisioningError
from cognises.testing._emulator import FaultInjector, MotoEmulator

pytestmark = pytest.mark.anyio

IDENTITY_POOL = "us-east-1:0a1b2c3d-0000-4000-8000-123456789abc"
HELPER = Path(__file__).with_name("fault_support.py")

INVALID_TOKEN = "The security token included in the request is invalid."


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def injector(faults: FaultInjector) -> Iterator[ErrorInjector]:
    """An ``ErrorInjector`` between the session's fault injector and moto, for one test."""
    real = faults.app
    injector = ErrorInjector(real)
    faults.app = injector
    try:
        yield injector
    finally:
        faults.app = real


async def failed_run(doc: list[dict[str, Any]], *args: Any, **kwargs: Any) -> ProvisioningReport:
    """Run ``create_update``; it must raise ``ProvisioningError``; return its report."""
    with pytest.raises(ProvisioningError) as info:
        await create_update(doc, *args, identity_pool_id=IDENTITY_POOL, **kwargs)
    report = info.value.report
    assert isinstance(report, ProvisioningReport)
    for group in report.failed:
        assert group.group_name in str(info.value)
    return report


def names(doc: list[dict[str, Any]]) -> list[str]:
    return [entry["group_name"] for entry in doc]


def assert_failed(report: ProvisioningReport, group: str, code: str | None, operation: str) -> str:
    """The group failed at ``operation`` with ``code``; returns its error text."""
    failed = report[group]
    assert failed.outcome is GroupOutcome.FAILED
    assert failed.error_code == code
    assert failed.error is not None
    assert repr(group) in failed.error
    assert operation in failed.error
    if code is not None:
        assert code in failed.error
    assert report.to_dict()["groups"][names_of(report).index(group)]["error_code"] == code
    return failed.error


def names_of(report: ProvisioningReport) -> list[str]:
    return [g.group_name for g in report.groups]


def actions(report: ProvisioningReport, group: str) -> list[str]:
    return [c.action for c in report[group].changes]


# --------------------------------------------------------------------------- credentials


async def test_invalid_credentials_for_some_groups_fail_just_those_groups(
    moto_server: MotoEmulator, injector: ErrorInjector, tmp_path: Path
) -> None:
    prefix = unique()
    doc = document(prefix, 6)
    iam_refused, cognito_refused = names(doc)[1], names(doc)[4]
    state = tmp_path / "groups.json"
    async with clients(moto_server) as (iam, cognito):
        pool_id = await new_pool(cognito)
        injector.add(
            Rule("iam", group=iam_refused, answer=iam_error(403, "InvalidClientTokenId", "bad"))
        )
        injector.add(
            Rule(
                "cognito-idp",
                group=cognito_refused,
                answer=cognito_error(400, "UnrecognizedClientException", INVALID_TOKEN),
            )
        )

        report = await failed_run(doc, iam, cognito, pool_id, state_path=state)

        assert {g.group_name for g in report.failed} == {iam_refused, cognito_refused}
        assert_failed(report, iam_refused, "InvalidClientTokenId", "CreateRole")
        assert actions(report, iam_refused) == []
        error = assert_failed(report, cognito_refused, "UnrecognizedClientException", "CreateGroup")
        assert INVALID_TOKEN in error
        assert actions(report, cognito_refused) == ["CreateRole", "PutRolePolicy"]
        assert report.counts["created"] == 4
        assert set(await pool_groups(cognito, pool_id)) == set(names(doc)) - {
            iam_refused,
            cognito_refused,
        }
        saved = json.loads(state.read_text())
        assert saved == doc
        assert [e["group_name"] for e in saved if e["created"] != "true"] == [
            iam_refused,
            cognito_refused,
        ]

        injector.clear()
        again = await create_update(
            state, iam, cognito, pool_id, identity_pool_id=IDENTITY_POOL, state_path=state
        )

        assert again.ok
        assert again[iam_refused].outcome is GroupOutcome.CREATED
        assert actions(again, iam_refused) == ["CreateRole", "PutRolePolicy", "CreateGroup"]
        # The role made before the refusal is adopted, not made twice.
        assert again[cognito_refused].outcome is GroupOutcome.CREATED
        assert "CreateRole" not in actions(again, cognito_refused)
        assert again.counts["unchanged"] == 4
        assert [e["created"] for e in json.loads(state.read_text())] == ["true"] * 6
        await assert_converged(iam, cognito, pool_id, doc, prefix)


async def test_invalid_credentials_everywhere_fail_every_group_and_write_nothing(
    moto_server: MotoEmulator, faults: FaultInjector, injector: ErrorInjector, tmp_path: Path
) -> None:
    prefix = unique()
    doc = document(prefix, 3)
    state = tmp_path / "groups.json"
    async with clients(moto_server) as (iam, cognito):
        pool_id = await new_pool(cognito)
        faults.reset()
        injector.add(Rule("iam", answer=iam_error(403, "InvalidClientTokenId", INVALID_TOKEN)))
        injector.add(
            Rule(
                "cognito-idp",
                answer=cognito_error(400, "UnrecognizedClientException", INVALID_TOKEN),
            )
        )

        report = await failed_run(doc, iam, cognito, pool_id, state_path=state)

        assert len(report.failed) == 3
        for name in names(doc):
            assert_failed(report, name, "UnrecognizedClientException", "ListGroups")
            assert actions(report, name) == []
        assert faults.actions() == ["ListGroups"]
        assert [e["created"] for e in json.loads(state.read_text())] == ["false"] * 3

        injector.clear()
        again = await create_update(doc, iam, cognito, pool_id, identity_pool_id=IDENTITY_POOL)

        assert again.counts["created"] == 3
        await assert_converged(iam, cognito, pool_id, doc, prefix)


# --------------------------------------------------------------------------- denied and malformed


@pytest.mark.parametrize(
    ("service", "code", "operation", "done_before"),
    [
        ("iam", "AccessDenied", "CreateRole", []),
        ("cognito-idp", "AccessDeniedException", "CreateGroup", ["CreateRole", "PutRolePolicy"]),
    ],
)
async def test_access_denied_for_one_group_fails_only_that_group(
    moto_server: MotoEmulator,
    injector: ErrorInjector,
    tmp_path: Path,
    service: str,
    code: str,
    operation: str,
    done_before: list[str],
) -> None:
    prefix = unique()
    doc = document(prefix, 5)
    denied = names(doc)[2]
    message = f"User: arn:aws:iam::123456789012:user/ci is not authorized to perform: {operation}"
    answer = (
        iam_error(403, code, message) if service == "iam" else cognito_error(400, code, message)
    )
    state = tmp_path / "groups.json"
    async with clients(moto_server) as (iam, cognito):
        pool_id = await new_pool(cognito)
        rule = injector.add(Rule(service, group=denied, answer=answer))

        report = await failed_run(doc, iam, cognito, pool_id, state_path=state)

        assert [g.group_name for g in report.failed] == [denied]
        assert rule.hits == [operation]
        assert "not authorized" in assert_failed(report, denied, code, operation)
        assert actions(report, denied) == done_before
        assert report.counts["created"] == 4
        assert set(await pool_groups(cognito, pool_id)) == set(names(doc)) - {denied}

        injector.clear()
        again = await create_update(
            state, iam, cognito, pool_id, identity_pool_id=IDENTITY_POOL, state_path=state
        )

        assert again.ok
        assert again[denied].outcome is GroupOutcome.CREATED
        assert again.counts["unchanged"] == 4
        await assert_converged(iam, cognito, pool_id, doc, prefix)


async def test_a_malformed_policy_document_fails_the_group_at_put_role_policy(
    moto_server: MotoEmulator, injector: ErrorInjector, tmp_path: Path
) -> None:
    prefix = unique()
    doc = document(prefix, 4)
    bad = names(doc)[3]
    state = tmp_path / "groups.json"
    async with clients(moto_server) as (iam, cognito):
        pool_id = await new_pool(cognito)
        injector.add(
            Rule(
                "iam",
                actions=frozenset({"PutRolePolicy"}),
                group=bad,
                answer=iam_error(400, "MalformedPolicyDocument", "Syntax errors in policy."),
            )
        )

        report = await failed_run(doc, iam, cognito, pool_id, state_path=state)

        assert [g.group_name for g in report.failed] == [bad]
        assert "Syntax errors" in assert_failed(
            report, bad, "MalformedPolicyDocument", "PutRolePolicy"
        )
        # The role was made; the policy was refused; the group was never attempted.
        assert actions(report, bad) == ["CreateRole"]
        role = (await iam.get_role(RoleName=role_of(pool_id, bad)))["Role"]
        assert report[bad].role_arn == role["Arn"]
        assert (await iam.list_role_policies(RoleName=role_of(pool_id, bad)))["PolicyNames"] == []
        assert bad not in await pool_groups(cognito, pool_id)

        injector.clear()
        again = await create_update(
            state, iam, cognito, pool_id, identity_pool_id=IDENTITY_POOL, state_path=state
        )

        assert actions(again, bad) == ["PutRolePolicy", "CreateGroup"]
        assert (again.counts["created"], again.counts["unchanged"]) == (1, 3)
        await assert_converged(iam, cognito, pool_id, doc, prefix)


# --------------------------------------------------------------------------- dropped connections


@pytest.mark.parametrize(
    ("service", "operation", "after"),
    [
        pytest.param("cognito-idp", "CreateGroup", False, id="CreateGroup-unanswered"),
        pytest.param("iam", "CreateRole", True, id="CreateRole-done-answer-lost"),
        pytest.param("iam", "PutRolePolicy", True, id="PutRolePolicy-done-answer-lost"),
        pytest.param("cognito-idp", "CreateGroup", True, id="CreateGroup-done-answer-lost"),
    ],
)
async def test_a_dropped_connection_fails_the_group_with_the_transport_error(
    moto_server: MotoEmulator,
    injector: ErrorInjector,
    tmp_path: Path,
    service: str,
    operation: str,
    after: bool,
) -> None:
    prefix = unique()
    doc = document(prefix, 4)
    dropped = names(doc)[1]
    state = tmp_path / "groups.json"
    async with clients(moto_server) as (iam, cognito):
        pool_id = await new_pool(cognito)
        rule = injector.add(
            Rule(service, actions=frozenset({operation}), group=dropped, after=after, times=1)
        )

        report = await failed_run(doc, iam, cognito, pool_id, state_path=state)

        assert rule.hits == [operation]
        assert [g.group_name for g in report.failed] == [dropped]
        error = assert_failed(report, dropped, None, operation)
        # No AWS code: the report says what the transport said instead.
        assert "no error code" in error
        assert "ConnectionClosedError" in error
        assert report.counts["created"] == 3
        group_made = operation == "CreateGroup" and after
        missing = set() if group_made else {dropped}
        assert set(await pool_groups(cognito, pool_id)) == set(names(doc)) - missing
        assert [e["created"] for e in json.loads(state.read_text())] == [
            "false" if name == dropped else "true" for name in names(doc)
        ]

        injector.clear()
        again = await create_update(
            state, iam, cognito, pool_id, identity_pool_id=IDENTITY_POOL, state_path=state
        )

        assert again.ok
        if group_made:
            # Everything was done; only the answer was lost. Nothing is left to write.
            assert again[dropped].outcome is GroupOutcome.UNCHANGED
        else:
            assert again[dropped].outcome is GroupOutcome.CREATED
        if operation != "CreateGroup":
            # The role was made before the answer was lost: adopted on the re-run.
            assert "CreateRole" not in actions(again, dropped)
        assert again.counts["unchanged"] == 3 + group_made
        assert [e["created"] for e in json.loads(state.read_text())] == ["true"] * 4
        await assert_converged(iam, cognito, pool_id, doc, prefix)


async def test_a_dropped_listing_fails_every_group_and_a_rerun_finishes(
    moto_server: MotoEmulator, injector: ErrorInjector
) -> None:
    prefix = unique()
    doc = document(prefix, 3)
    async with clients(moto_server) as (iam, cognito):
        pool_id = await new_pool(cognito)
        injector.add(Rule("cognito-idp", actions=frozenset({"ListGroups"}), times=1))

        report = await failed_run(doc, iam, cognito, pool_id)

        for name in names(doc):
            assert "ConnectionClosedError" in assert_failed(report, name, None, "ListGroups")
        assert await pool_groups(cognito, pool_id) == {}

        again = await create_update(doc, iam, cognito, pool_id, identity_pool_id=IDENTITY_POOL)

        assert again.counts["created"] == 3
        await assert_converged(iam, cognito, pool_id, doc, prefix)


async def test_failures_never_carry_the_credentials(
    moto_server: MotoEmulator, injector: ErrorInjector, caplog: pytest.LogCaptureFixture
) -> None:
    key_id = "AKIAFAULTS" + uuid.uuid4().hex[:10].upper()
    secret = "fault/Secret+" + uuid.uuid4().hex
    session = aioboto3.Session(
        region_name=moto_server.region, aws_access_key_id=key_id, aws_secret_access_key=secret
    )
    doc = document(unique(), 3)
    denied, dropped = names(doc)[0], names(doc)[1]
    caplog.set_level(logging.DEBUG, logger="cognises")
    async with aws_clients(
        session, endpoint_url=moto_server.endpoint, config=NO_BOTOCORE_RETRIES
    ) as (iam, cognito):
        pool_id = await new_pool(cognito)
        injector.add(Rule("iam", group=denied, answer=iam_error(403, "AccessDenied", "denied")))
        injector.add(Rule("cognito-idp", actions=frozenset({"CreateGroup"}), group=dropped))

        with pytest.raises(ProvisioningError) as info:
            await create_update(doc, iam, cognito, pool_id, identity_pool_id=IDENTITY_POOL)

    assert {g.group_name for g in info.value.report.failed} == {denied, dropped}
    everything = "\n".join([str(info.value), json.dumps(info.value.report.to_dict()), caplog.text])
    assert denied in caplog.text  # the failures were logged...
    assert key_id not in everything  # ...without the credentials
    assert secret not in everything
    assert secret.split("+")[1] not in everything


# --------------------------------------------------------------------------- one role, two groups


def _sharing_a_role(prefix: str, case: str) -> list[dict[str, Any]]:
    """Two entries that would end up on one IAM role."""
    doc = document(prefix, 2)
    first, second = names(doc)
    if case == "same-group-name":
        doc[1]["group_name"] = first
    elif case == "same-role-name":
        doc[0]["role_name"] = doc[1]["role_name"] = f"shared-{second}"
    elif case == "group-names-differing-in-case":
        doc[1]["group_name"] = first.upper()  # <pool>-T... and <pool>-t...
    else:  # "role-names-differing-in-case"
        doc[0]["role_name"] = f"SHARED-{second}"
        doc[1]["role_name"] = f"shared-{second}"
    return doc


@pytest.mark.parametrize(
    "case",
    [
        "same-group-name",
        "same-role-name",
        "group-names-differing-in-case",
        "role-names-differing-in-case",
    ],
)
async def test_two_groups_iam_would_give_one_role_are_refused_before_any_call(
    moto_server: MotoEmulator, faults: FaultInjector, case: str
) -> None:
    # IAM role names are unique regardless of case: "role_Admins" and "role_admins" are one
    # role. Two groups on one role would each get the other's policy on the way (the
    # second CreateRole finds the role "already there" and adopts it).
    doc = _sharing_a_role(unique(), case)
    async with clients(moto_server) as (iam, cognito):
        pool_id = await new_pool(cognito)
        faults.reset()
        with pytest.raises(GroupDetailError) as info:
            await create_update(doc, iam, cognito, pool_id, identity_pool_id=IDENTITY_POOL)

    field = "group_name" if case == "same-group-name" else "role"
    assert any(field in problem for problem in info.value.problems), info.value.problems
    assert faults.actions(include_throttled=True) == []


# --------------------------------------------------------------------------- killed mid-write


def _run_child_until_killed(endpoint: str, pool_id: str, state: Path, point: str) -> str:
    """Start the child, wait for it to reach ``point``, SIGKILL it; returns its stderr."""
    errors = state.parent.parent / f"child-{point}.err"
    with errors.open("w") as stderr:
        child = subprocess.Popen(
            [sys.executable, str(HELPER), endpoint, pool_id, str(state), point],
            stdout=subprocess.PIPE,
            stderr=stderr,
            text=True,
            cwd=HELPER.parent,
        )
        try:
            assert child.stdout is not None
            line = child.stdout.readline().strip()  # returns when the child stops, or dies
            assert line == KILL_POINT, (line, errors.read_text())
            child.send_signal(signal.SIGKILL)
            assert child.wait(timeout=30) == -signal.SIGKILL
        finally:
            if child.poll() is None:
                child.kill()
                child.wait()
            if child.stdout is not None:
                child.stdout.close()
    return errors.read_text()


@pytest.mark.parametrize(
    ("point", "expect"),
    [("mid-write", "old"), ("before-replace", "old"), ("after-replace", "new")],
)
async def test_a_run_killed_while_writing_the_state_leaves_a_whole_document(
    moto_server: MotoEmulator, faults: FaultInjector, tmp_path: Path, point: str, expect: str
) -> None:
    prefix = unique()
    # Long descriptions make a document of some size, so that half of it is a real cut.
    doc = document(prefix, 3)
    for entry in doc:
        entry["description"] = "d" * 2000
    directory = tmp_path / "state"
    directory.mkdir()
    state = directory / "groups.json"
    state.write_text(json.dumps(doc, indent=2) + "\n")
    old_text = state.read_text()
    async with clients(moto_server) as (iam, cognito):
        pool_id = await new_pool(cognito)

        _run_child_until_killed(moto_server.endpoint, pool_id, state, point)

        text = state.read_text()
        saved = json.loads(text)  # whole JSON, whichever it is
        if expect == "old":
            assert text == old_text
        else:
            assert [e["created"] for e in saved] == ["true"] * 3
            assert [e["group_name"] for e in saved] == names(doc)
        # Anything else in the directory is the killed write's own temp file: hidden, and
        # named so that no later write can take it for the document.
        leftovers = sorted(p.name for p in directory.iterdir() if p != state)
        assert all(n.startswith(".groups.json.") and n.endswith(".tmp") for n in leftovers)

        # The re-run takes the file as it was left, and finishes the job.
        again = await create_update(
            state, iam, cognito, pool_id, identity_pool_id=IDENTITY_POOL, state_path=state
        )

        assert again.ok
        assert again.counts["unchanged"] == 3  # the killed run had converged every group
        assert [e["created"] for e in json.loads(state.read_text())] == ["true"] * 3
        assert sorted(p.name for p in directory.iterdir() if p != state) == leftovers
        await assert_converged(iam, cognito, pool_id, doc, prefix)
