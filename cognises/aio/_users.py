"""Group membership: adding and removing many users at once, and listing across pages."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable
from typing import Any

from cognises._report import MemberFailure, MembershipReport
from cognises.aio._aws import COGNITO_PAGE_MAX, AWSCallError, call, check_user_pool_id, pages
from cognises.aio._clients import default_clients
from cognises.aio._retry import RetryPolicy
from cognises.aio._tasks import check_concurrency, map_limited
from cognises.errors import ConfigurationError, ProvisioningError

__all__ = [
    "add_users_to_group",
    "list_groups",
    "list_groups_for_user",
    "list_users_in_group",
    "remove_users_from_group",
]


@default_clients
async def add_users_to_group(
    group_name: str,
    usernames: Iterable[str],
    cognito_client: Any,
    cognito_pool_id: str,
    *,
    concurrency: int = 16,
    retry: RetryPolicy | None = None,
) -> MembershipReport:
    """Add every user to the group, ``concurrency`` at a time.

    Adding a user who is already a member succeeds. If any user could not be added,
    the others still are, and ``ProvisioningError`` is raised with the report.
    """
    return await _change_membership(
        "add", group_name, usernames, cognito_client, cognito_pool_id, concurrency, retry
    )


@default_clients
async def remove_users_from_group(
    group_name: str,
    usernames: Iterable[str],
    cognito_client: Any,
    cognito_pool_id: str,
    *,
    concurrency: int = 16,
    retry: RetryPolicy | None = None,
    sign_out: bool = False,
) -> MembershipReport:
    """Remove every user from the group, ``concurrency`` at a time.

    Removing a user who is not a member succeeds. If any user could not be removed,
    the others still are, and ``ProvisioningError`` is raised with the report.

    ``sign_out=True``: then sign each removed user out everywhere
    (``AdminUserGlobalSignOut``): their refresh tokens stop working, and their access
    tokens fail Cognito's ``GetUser``, so views with the online check refuse them within
    its ttl instead of when the tokens expire. A user removed but not signed out counts
    as failed.
    """
    return await _change_membership(
        "remove",
        group_name,
        usernames,
        cognito_client,
        cognito_pool_id,
        concurrency,
        retry,
        sign_out=sign_out,
    )


@default_clients
async def list_users_in_group(
    group_name: str,
    cognito_client: Any,
    cognito_pool_id: str,
    *,
    page_size: int = COGNITO_PAGE_MAX,
    retry: RetryPolicy | None = None,
) -> AsyncIterator[dict[str, Any]]:
    """Every user of the group (Cognito's ``UserType`` dicts), fetched page by page."""
    pool_id = check_user_pool_id(cognito_pool_id)
    _check_group_name(group_name)
    params = {"UserPoolId": pool_id, "GroupName": group_name, "Limit": _check_page(page_size)}
    async for item in _items(
        cognito_client.list_users_in_group, "Users", params, retry, f"group {group_name!r}"
    ):
        yield item


@default_clients
async def list_groups_for_user(
    username: str,
    cognito_client: Any,
    cognito_pool_id: str,
    *,
    page_size: int = COGNITO_PAGE_MAX,
    retry: RetryPolicy | None = None,
) -> AsyncIterator[dict[str, Any]]:
    """Every group the user belongs to (Cognito's ``GroupType`` dicts), page by page."""
    pool_id = check_user_pool_id(cognito_pool_id)
    if not isinstance(username, str) or not username:
        raise ConfigurationError(f"username: expected a non-empty string, found {username!r}")
    params = {"UserPoolId": pool_id, "Username": username, "Limit": _check_page(page_size)}
    async for item in _items(
        cognito_client.admin_list_groups_for_user, "Groups", params, retry, f"user {username!r}"
    ):
        yield item


@default_clients
async def list_groups(
    cognito_client: Any,
    cognito_pool_id: str,
    *,
    page_size: int = COGNITO_PAGE_MAX,
    retry: RetryPolicy | None = None,
) -> AsyncIterator[dict[str, Any]]:
    """Every group of the user pool (Cognito's ``GroupType`` dicts), page by page."""
    pool_id = check_user_pool_id(cognito_pool_id)
    params = {"UserPoolId": pool_id, "Limit": _check_page(page_size)}
    async for item in _items(cognito_client.list_groups, "Groups", params, retry, "the pool"):
        yield item


async def _items(
    method: Any,
    key: str,
    params: dict[str, Any],
    retry: RetryPolicy | None,
    subject: str,
) -> AsyncIterator[dict[str, Any]]:
    try:
        async for page in pages(method, retry=retry or RetryPolicy(), **params):
            for item in page.get(key, []):
                yield item
    except AWSCallError as exc:
        raise ProvisioningError(
            f"{exc.operation} for {subject} in user pool {params['UserPoolId']!r} failed with "
            f"{exc.code or 'no error code'}: {exc.message}",
            report=None,
        ) from exc


async def _change_membership(
    action: str,
    group_name: str,
    usernames: Iterable[str],
    cognito_client: Any,
    cognito_pool_id: str,
    concurrency: int,
    retry: RetryPolicy | None,
    *,
    sign_out: bool = False,
) -> MembershipReport:
    pool_id = check_user_pool_id(cognito_pool_id)
    _check_group_name(group_name)
    check_concurrency(concurrency)
    users = _check_usernames(usernames)
    policy = retry or RetryPolicy()
    method = (
        cognito_client.admin_add_user_to_group
        if action == "add"
        else cognito_client.admin_remove_user_from_group
    )

    async def change(username: str) -> MemberFailure | None:
        try:
            await call(
                method, retry=policy, UserPoolId=pool_id, GroupName=group_name, Username=username
            )
            if sign_out:
                await call(
                    cognito_client.admin_user_global_sign_out,
                    retry=policy,
                    UserPoolId=pool_id,
                    Username=username,
                )
        except AWSCallError as exc:
            return MemberFailure(
                username=username,
                error=exc.summary,
                error_code=exc.code,
            )
        return None

    outcomes = await map_limited(change, users, concurrency=concurrency)
    failed = tuple(o for o in outcomes if o is not None)
    failed_names = {f.username for f in failed}
    report = MembershipReport(
        group_name=group_name,
        action=action,
        succeeded=tuple(u for u in users if u not in failed_names),
        failed=failed,
    )
    if failed:
        verb = "added to" if action == "add" else "removed from"
        raise ProvisioningError(
            f"expected every user to be {verb} group {group_name!r}, "
            f"found {len(failed)} of {len(users)} failed",
            report=report,
        )
    return report


def _check_group_name(group_name: object) -> None:
    if not isinstance(group_name, str) or not group_name:
        raise ConfigurationError(f"group_name: expected a non-empty string, found {group_name!r}")


def _check_usernames(usernames: Iterable[str]) -> list[str]:
    if isinstance(usernames, str):
        raise ConfigurationError(
            f"usernames: expected an iterable of usernames, found the string {usernames!r}"
        )
    users: list[str] = []
    seen: set[str] = set()
    for username in usernames:
        if not isinstance(username, str) or not username:
            raise ConfigurationError(f"usernames: expected non-empty strings, found {username!r}")
        if username not in seen:
            seen.add(username)
            users.append(username)
    return users


def _check_page(page_size: object) -> int:
    if (
        isinstance(page_size, bool)
        or not isinstance(page_size, int)
        or not 1 <= page_size <= COGNITO_PAGE_MAX
    ):
        raise ConfigurationError(
            f"page_size: expected an integer from 1 to {COGNITO_PAGE_MAX} (Cognito's maximum), "
            f"found {page_size!r}"
        )
    return page_size
