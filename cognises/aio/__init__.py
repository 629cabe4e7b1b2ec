"""The asyncio core of cognises: token verification and (with the ``aws`` extra) provisioning."""

from cognises._claims import Claims
from cognises._credentials import AWSCredentials
from cognises._denylist import Denylist
from cognises._groupdetail import default_role_name
from cognises._permissions import require_groups, require_roles, require_scopes
from cognises._report import (
    GroupOutcome,
    GroupReport,
    IdentityPoolReport,
    MembershipReport,
    ProvisioningReport,
    RateStats,
)
from cognises.aio._alb_keys import AlbKeyCache
from cognises.aio._alb_verifier import AlbIdentity, AlbVerifier
from cognises.aio._clients import aws_clients
from cognises.aio._credential_cache import CredentialCache
from cognises.aio._fetch import FetchOptions
from cognises.aio._identity_pool import IdentityPool
from cognises.aio._jwks import JWKSCache
from cognises.aio._live_groups import LiveGroups
from cognises.aio._multipool import MultiPoolVerifier
from cognises.aio._online import OnlineCheck
from cognises.aio._provision import create_update, delete_groups
from cognises.aio._retry import RetryPolicy
from cognises.aio._revoke import revoke
from cognises.aio._users import (
    add_users_to_group,
    list_groups,
    list_groups_for_user,
    list_users_in_group,
    remove_users_from_group,
)
from cognises.aio._verifier import CognitoVerifier

__all__ = [
    "AWSCredentials",
    "AlbIdentity",
    "AlbKeyCache",
    "AlbVerifier",
    "Claims",
    "CognitoVerifier",
    "CredentialCache",
    "Denylist",
    "FetchOptions",
    "GroupOutcome",
    "GroupReport",
    "IdentityPool",
    "IdentityPoolReport",
    "JWKSCache",
    "LiveGroups",
    "MembershipReport",
    "MultiPoolVerifier",
    "OnlineCheck",
    "ProvisioningReport",
    "RateStats",
    "RetryPolicy",
    "add_users_to_group",
    "aws_clients",
    "create_update",
    "default_role_name",
    "delete_groups",
    "list_groups",
    "list_groups_for_user",
    "list_users_in_group",
    "remove_users_from_group",
    "require_groups",
    "require_roles",
    "require_scopes",
    "revoke",
]
