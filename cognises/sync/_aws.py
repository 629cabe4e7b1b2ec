"""Blocking provisioning and membership: the core's functions, run on the shared portal.

Clients may be boto3 clients (as in the original package), aioboto3 clients, or None
for the default AWS configuration.
"""

from __future__ import annotations

from cognises import aio
from cognises.sync._blocking import blocking, blocking_list

__all__ = [
    "add_users_to_group",
    "create_update",
    "delete_groups",
    "list_groups",
    "list_groups_for_user",
    "list_users_in_group",
    "remove_users_from_group",
    "revoke",
]

create_update = blocking(aio.create_update)
delete_groups = blocking(aio.delete_groups)
add_users_to_group = blocking(aio.add_users_to_group)
remove_users_from_group = blocking(aio.remove_users_from_group)
list_users_in_group = blocking_list(aio.list_users_in_group)
list_groups_for_user = blocking_list(aio.list_groups_for_user)
list_groups = blocking_list(aio.list_groups)
revoke = blocking(aio.revoke)
