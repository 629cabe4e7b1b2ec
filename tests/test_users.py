"""Group membership and the paginated listings, against a real moto server."""

from __future__ import annotations

from typing import Any

import anyio
import pytest
from provision_support import FAST_RETRY, clients, new_pool

from cognises.aio import (
    MembershipReport,
    add_users_to_group,
    list_groups,
    list_groups_for_user,
    list_users_in_group,
    remove_users_from_group,
)
from cognises.errors import ConfigurationError, ProvisioningError
from cognises.testing._emulator import FaultInjector, MotoEmulator

pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


async def _create_users(cognito: Any, pool_id: str, names: list[str]) -> None:
    async def create(name: str) -> None:
        await cognito.admin_create_user(UserPoolId=pool_id, Username=name, MessageAction="SUPPRESS")

    async with anyio.create_task_group() as group:
        for name in names:
            group.start_soon(create, name)


async def _create_groups(cognito: Any, pool_id: str, names: list[str]) -> None:
    async def create(name: str) -> None:
        await cognito.create_group(UserPoolId=pool_id, GroupName=name)

    async with anyio.create_task_group() as group:
        for name in names:
            group.start_soon(create, name)


async def test_130_users_and_70_groups_are_listed_across_pages(
    moto_server: MotoEmulator, faults: FaultInjector
) -> None:
    users = [f"user{i:03d}" for i in range(130)]
    groups = [f"team{i:02d}" for i in range(70)]
    async with clients(moto_server) as (_, cognito):
        pool_id = await new_pool(cognito)
        await _create_users(cognito, pool_id, users)
        await _create_groups(cognito, pool_id, ["everyone", *groups])
        faults.reset(throttle_rate=0.3)

        added = await add_users_to_group(
            "everyone", users, cognito, pool_id, concurrency=32, retry=FAST_RETRY
        )

        faults.throttle_rate = 0.0
        assert added.ok
        assert added.succeeded == tuple(users)
        assert faults.actions(writes_only=True) == ["AdminAddUserToGroup"] * 130
        for group in groups:
            await add_users_to_group(group, ["user007"], cognito, pool_id)
        faults.reset()

        members = [u["Username"] async for u in list_users_in_group("everyone", cognito, pool_id)]
        all_groups = [g["GroupName"] async for g in list_groups(cognito, pool_id)]
        of_user = [g["GroupName"] async for g in list_groups_for_user("user007", cognito, pool_id)]

    assert sorted(members) == users
    assert sorted(all_groups) == sorted(["everyone", *groups])
    assert sorted(of_user) == sorted(["everyone", *groups])
    # Pages of 60: 130 users take three calls, 71 groups two.
    assert (
        faults.actions()
        == ["ListUsersInGroup"] * 3 + ["ListGroups"] * 2 + ["AdminListGroupsForUser"] * 2
    )


async def test_small_pages_and_removal(moto_server: MotoEmulator, faults: FaultInjector) -> None:
    users = [f"u{i}" for i in range(7)]
    async with clients(moto_server) as (_, cognito):
        pool_id = await new_pool(cognito)
        await _create_users(cognito, pool_id, users)
        await _create_groups(cognito, pool_id, ["g"])
        await add_users_to_group("g", users, cognito, pool_id)
        faults.reset()

        removed = await remove_users_from_group("g", users[:3], cognito, pool_id)
        left = [
            u["Username"] async for u in list_users_in_group("g", cognito, pool_id, page_size=2)
        ]

    assert removed == MembershipReport(group_name="g", action="remove", succeeded=tuple(users[:3]))
    assert sorted(left) == users[3:]
    assert faults.actions() == ["AdminRemoveUserFromGroup"] * 3 + ["ListUsersInGroup"] * 2


async def test_one_unknown_user_fails_alone(
    moto_server: MotoEmulator, faults: FaultInjector
) -> None:
    async with clients(moto_server) as (_, cognito):
        pool_id = await new_pool(cognito)
        await _create_users(cognito, pool_id, ["alice", "bob"])
        await _create_groups(cognito, pool_id, ["g"])

        with pytest.raises(ProvisioningError) as info:
            await add_users_to_group("g", ["alice", "ghost", "bob", "alice"], cognito, pool_id)

        members = [u["Username"] async for u in list_users_in_group("g", cognito, pool_id)]

    report = info.value.report
    assert isinstance(report, MembershipReport)
    assert report.succeeded == ("alice", "bob")
    [failure] = report.failed
    assert failure.username == "ghost"
    assert failure.error_code == "UserNotFoundException"
    assert "AdminAddUserToGroup" in failure.error
    assert str(info.value) == "expected every user to be added to group 'g', found 1 of 3 failed"
    assert sorted(members) == ["alice", "bob"]


async def test_listing_a_missing_group_names_it_and_the_code(
    moto_server: MotoEmulator, faults: FaultInjector
) -> None:
    async with clients(moto_server) as (_, cognito):
        pool_id = await new_pool(cognito)

        with pytest.raises(ProvisioningError) as info:
            async for _ in list_users_in_group("nobody", cognito, pool_id):
                pass

    message = str(info.value)
    assert message.startswith(f"ListUsersInGroup for group 'nobody' in user pool '{pool_id}'")
    assert "ResourceNotFoundException" in message


async def test_arguments_are_checked_before_any_call(
    moto_server: MotoEmulator, faults: FaultInjector
) -> None:
    async with clients(moto_server) as (_, cognito):
        with pytest.raises(ConfigurationError, match="page_size: expected an integer from 1 to 60"):
            async for _ in list_groups(cognito, "us-east-1_Abc", page_size=61):
                pass
        with pytest.raises(ConfigurationError, match="usernames: expected an iterable"):
            await add_users_to_group("g", "alice", cognito, "us-east-1_Abc")
        with pytest.raises(ConfigurationError, match="cognito_pool_id"):
            await remove_users_from_group("g", ["alice"], cognito, None)  # type: ignore[arg-type]

    assert faults.actions(include_throttled=True) == []
